"""The OpenAI-compatible backend against stub servers on 127.0.0.1 that answer
429 and 500, drop connections, stall, and refuse bad requests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pytest

from pathscope.errors import InputError, RunError
from pathscope.sampling import parse_config, sample_run
from pathscope.sampling.prompts import QWEN_BOXED_SYSTEM


class Stub:
    """One fake server.  ``faults`` is consumed one per request: 429, 500,
    'drop' (close the socket without an answer), 'stall' (answer too late),
    400 (a request error), or None (answer)."""

    def __init__(self, faults=()):
        self.faults = list(faults)
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    fault = stub.faults.pop(0) if stub.faults else None
                    stub.bodies.append(body)
                    stub.paths.append(self.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "stall":
                    time.sleep(1.5)
                if fault in (429, 500, 503, 400):
                    payload = json.dumps({"error": {"message": "model 'nope' does not exist" if fault == 400 else "busy"}}).encode()
                    self.send_response(fault)
                    if fault == 429:
                        self.send_header("Retry-After", "0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                chat = self.path.endswith("/chat/completions")
                choices = []
                for i in range(body["n"]):
                    text = f"seed {body['seed']} choice {i}: the answer is \\boxed{{{i}}}"
                    ch = {"index": i, "finish_reason": "stop" if i % 2 == 0 else "length"}
                    if chat:
                        ch["message"] = {"role": "assistant", "content": text}
                        ch["logprobs"] = {"content": [{"token": "a", "logprob": -0.5}] * 3}
                    else:
                        ch["text"] = text
                        ch["logprobs"] = {"token_logprobs": [-0.25] * 4}
                    choices.append(ch)
                # Choices out of order, as some servers send them.
                payload = json.dumps({"choices": choices[::-1]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _problems(run, k=6):
    run.add_problems(pa.table({
        "problem_id": [f"p{i}" for i in range(k)], "prompt": [f"What is {i} + 1?" for i in range(k)], "kind": ["math"] * k,
    }))


def _cfg(urls, **model):
    return parse_config({
        "sampling": {"n": 3, "max_tokens": 64},
        "models": [{"name": "served", "role": "rl", "backend": "openai", "endpoint": urls, "served_model": "rl-7b",
                    "concurrency": 3, "timeout": 1.0, "retries": 4, "backoff": 0.01, **model}],
    })


def test_retries_through_429_500_drops_and_stalls_over_two_endpoints(new_run):
    _problems(new_run)
    with Stub([429, 500, "drop"]) as a, Stub(["stall", 503]) as b:
        summary = sample_run(new_run, _cfg([a.url, b.url]))
        assert summary["served"]["added"] == 18
        bodies = a.bodies + b.bodies
        # 6 problems + 5 failed attempts, spread over both endpoints.
        assert len(bodies) == 11 and len(a.bodies) >= 3 and len(b.bodies) >= 2
        assert all(p == "/v1/chat/completions" for p in a.paths + b.paths)
    body = bodies[-1]
    assert body["model"] == "rl-7b" and body["n"] == 3 and body["temperature"] == 0.6 and body["top_p"] == 0.95
    assert body["messages"][0] == {"role": "system", "content": QWEN_BOXED_SYSTEM}
    assert "put your final answer within \\boxed{}" in body["messages"][1]["content"]
    rows = new_run.con.execute(
        "SELECT problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed FROM samples ORDER BY ALL"
    ).fetchall()
    assert len(rows) == 18 and len({(r[0], r[1]) for r in rows}) == 18
    for pid, idx, text, n_tokens, reason, cum, seed in rows:
        assert text == f"seed {seed} choice {idx}: the answer is \\boxed{{{idx}}}"
        assert n_tokens == 3 and cum == pytest.approx(-1.5)
        assert reason == ("stop" if idx % 2 == 0 else "length")
    assert new_run.model("served").path_or_endpoint == f"{a.url},{b.url}"


def test_completions_api_with_a_raw_template(new_run):
    _problems(new_run, 2)
    cfg = _cfg(["STUB"], api="completions")
    cfg.prompt.template = "Question: {question}\nAnswer:"
    with Stub() as s:
        cfg.models[0].endpoints = [s.url]
        sample_run(new_run, cfg)
        assert s.paths == ["/v1/completions"] * 2
        assert {b["prompt"] for b in s.bodies} == {"Question: What is 0 + 1?\nAnswer:", "Question: What is 1 + 1?\nAnswer:"}
    assert new_run.one("SELECT min(n_tokens), max(cum_logprob) FROM samples") == (4, -1.0)


def test_a_request_error_stops_at_once_and_keeps_what_is_done(new_run):
    _problems(new_run, 4)
    with Stub([None, 400]) as s:
        cfg = _cfg([s.url], concurrency=1)
        cfg.commit_every = 1
        with pytest.raises(InputError, match="HTTP 400.*does not exist"):
            sample_run(new_run, cfg)
    assert new_run.count("samples") == 3  # the first problem, committed before the error
    assert new_run.stages()[-1]["status"] == "failed"


def test_gives_up_after_the_retries(new_run):
    _problems(new_run, 1)
    with Stub([503] * 10) as s:
        with pytest.raises(RunError, match="gave up after 4 retries.*503"):
            sample_run(new_run, _cfg([s.url]))
        assert len(s.bodies) == 5


def test_nothing_listens(new_run):
    _problems(new_run, 1)
    with pytest.raises(RunError, match="gave up"):
        sample_run(new_run, _cfg(["http://127.0.0.1:9/v1"], retries=1))
