"""Sampling from OpenAI-compatible servers (vLLM, SGLang, behind a balancer or not).

One HTTP request per problem with ``n`` choices, to ``/v1/chat/completions``
(the server applies the chat template; used when the prompt template is
``qwen-boxed`` or ``chat``) or ``/v1/completions`` (the rendered prompt —
token ids when a local ``tokenizer`` is configured).  ``concurrency`` requests
are in flight at once, spread round-robin over the endpoints; each has a
timeout, and 429s, 5xx answers, timeouts and dropped connections are retried
with exponential backoff (honouring ``Retry-After``), moving to the next
endpoint.  Other 4xx answers (a wrong model name, a bad parameter) stop the
job at once with the server's message.

Only the standard library is used; worker threads are daemons, so Ctrl-C
never waits for a slow server.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import queue
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Iterator

from ..errors import InputError, RunError
from .config import ModelSpec, SamplingParams
from .types import Completion, Request

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _url(endpoint: str, api: str) -> str:
    e = endpoint.rstrip("/")
    if e.endswith("/completions"):
        return e
    if not e.endswith("/v1"):
        e += "/v1"
    return e + ("/chat/completions" if api == "chat" else "/completions")


class OpenAIBackend:
    name = "openai"
    default_commit = 256

    def __init__(self, spec: ModelSpec, sampling: SamplingParams):
        self.spec = spec
        self.sampling = sampling
        self.tokenizer = None
        if spec.tokenizer:
            from .hf_backend import load_tokenizer

            self.tokenizer = load_tokenizer(spec.tokenizer)
        self._endpoints = itertools.cycle(spec.endpoints)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.retries_done = 0
        key_env = spec.api_key_env
        self._key = os.environ.get(key_env) if key_env else None
        if key_env and not self._key:
            raise InputError(f"model {spec.name!r}: api_key_env names {key_env!r}, which is not set.")

    # -- one request -------------------------------------------------------------------

    def _api_for(self, req: Request) -> str:
        api = self.spec.api or ("chat" if req.messages is not None else "completions")
        if api == "chat" and req.messages is None:
            raise InputError(
                f"model {self.spec.name!r}: api 'chat' needs a chat template (qwen-boxed or chat); "
                f"use api = 'completions' for raw or custom templates."
            )
        if api == "completions" and req.messages is not None and self.tokenizer is None:
            raise InputError(
                f"model {self.spec.name!r}: api 'completions' with a chat template needs `tokenizer` "
                f"(a local tokenizer folder) to render it; or use api = 'chat'."
            )
        return api

    def _body(self, req: Request, api: str) -> dict:
        s = self.sampling
        body = {
            "model": self.spec.served_model or self.spec.name,
            "n": req.n, "temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": req.seed,
        }
        if s.stop:
            body["stop"] = list(s.stop)
        if api == "chat":
            body["messages"] = req.messages
            body["logprobs"] = True
        else:
            body["prompt"] = req.prompt_ids if req.prompt_ids is not None else req.prompt_text
            body["logprobs"] = 0
        return body

    def _post(self, url: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.spec.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            if exc.code in _RETRY_STATUS:
                ra = exc.headers.get("Retry-After") if exc.headers else None
                try:
                    retry_after = float(ra) if ra else None
                except ValueError:
                    retry_after = None
                raise _Retryable(f"HTTP {exc.code} from {url}: {detail}", retry_after) from None
            raise InputError(f"model {self.spec.name!r}: {url} answered HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, TimeoutError, OSError) as exc:
            raise _Retryable(f"{url}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise _Retryable(f"{url}: the answer was not JSON ({raw[:80]!r})") from None

    def _call(self, req: Request) -> list[Completion]:
        api = self._api_for(req)
        body = self._body(req, api)
        attempt = 0
        while True:
            with self._lock:
                endpoint = next(self._endpoints)
            url = _url(endpoint, api)
            try:
                return self._parse(req, api, self._post(url, body), url)
            except _Retryable as exc:
                attempt += 1
                if attempt > self.spec.retries:
                    raise RunError(f"model {self.spec.name!r}: gave up after {self.spec.retries} retries: {exc}") from None
                with self._lock:
                    self.retries_done += 1
                delay = min(60.0, self.spec.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, 120.0))
                if self._stop.wait(delay):
                    raise KeyboardInterrupt from None

    def _parse(self, req: Request, api: str, answer: dict, url: str) -> list[Completion]:
        choices = answer.get("choices") if isinstance(answer, dict) else None
        if not isinstance(choices, list) or len(choices) != req.n:
            got = len(choices) if isinstance(choices, list) else "no"
            raise _Retryable(f"{url}: expected {req.n} choices, got {got}")
        out = []
        for pos, ch in enumerate(sorted(choices, key=lambda c: c.get("index", 0))):
            if api == "chat":
                text = (ch.get("message") or {}).get("content") or ""
                lp = [t.get("logprob") for t in ((ch.get("logprobs") or {}).get("content") or [])]
            else:
                text = ch.get("text") or ""
                lp = (ch.get("logprobs") or {}).get("token_logprobs") or []
            lp = [x for x in lp if isinstance(x, (int, float))]
            n_tokens = len(lp) if lp else None
            cum = float(sum(lp)) if lp else None
            out.append(Completion(req.problem_id, req.start_idx + pos, text, n_tokens, ch.get("finish_reason"), cum, req.seed))
        return out

    # -- the pool ----------------------------------------------------------------------

    def generate(self, requests: list[Request]) -> Iterator[tuple[Request, list[Completion]]]:
        todo: queue.Queue = queue.Queue()
        for r in requests:
            todo.put(r)
        results: queue.Queue = queue.Queue()
        self._stop.clear()

        def work():
            while not self._stop.is_set():
                try:
                    r = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results.put((r, self._call(r), None))
                except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                    results.put((r, None, exc))
                    return

        threads = [threading.Thread(target=work, daemon=True) for _ in range(min(self.spec.concurrency, len(requests)))]
        for t in threads:
            t.start()
        try:
            for _ in range(len(requests)):
                r, completions, exc = results.get()
                if exc is not None:
                    raise exc
                yield r, completions
        finally:
            self._stop.set()

    def close(self) -> None:
        self._stop.set()
