"""Sampling with transformers ``generate`` (CPU or GPU).

For small models and machines without vLLM.  One ``generate`` call per
request: the prompt is repeated ``n`` times in the batch (split into chunks of
``engine_args.batch_size`` rows, default 32), seeded from the request's seed.

Each sample also gets its finish reason and the cumulative log-probability of
its tokens under the model's own distribution (before temperature and top-p,
as vLLM reports it): a logits processor placed before the warpers keeps one
step of log-softmax and reads off the token chosen at the next step.
"""

from __future__ import annotations

from typing import Iterator

from ..errors import InputError
from .config import ModelSpec, SamplingParams
from .types import Completion, Request, truncate_at_stop


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def torch_dtype(name: str, device: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot load a tokenizer from this model path ({str(exc).splitlines()[0]}).") from None


def load_causal_lm(path: str, dtype: str = "auto", device: str = "auto"):
    """(model, device) in eval mode; a bad path is one clear sentence."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    device = resolve_device(device)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(dtype, device))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot load a causal language model from this path ({str(exc).splitlines()[0]}).") from None
    model.to(device)
    model.eval()
    return model, device


def eos_ids(model, tokenizer) -> set[int]:
    ids: set[int] = set()
    cfg = getattr(model, "generation_config", None)
    for value in (getattr(cfg, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(int(v) for v in value)
    return ids


def _helpers():
    """The transformers hook classes, defined only once transformers is imported."""
    import torch
    from transformers import LogitsProcessor, StoppingCriteria

    class RawLogprobs(LogitsProcessor):
        """Record log P(token) of each chosen token under the unwarped logits."""

        def __init__(self):
            self.prev = None
            self.steps: list = []

        def __call__(self, input_ids, scores):
            if self.prev is not None:
                self.steps.append(self.prev.gather(1, input_ids[:, -1:]).squeeze(1))
            self.prev = torch.log_softmax(scores.float(), dim=-1)
            return scores

        def finish(self, last_tokens):
            if self.prev is not None:
                self.steps.append(self.prev.gather(1, last_tokens[:, None]).squeeze(1))
                self.prev = None
            return torch.stack(self.steps, dim=1) if self.steps else None

    class Finish(StoppingCriteria):
        """Where each row ended (EOS or a stop string); vectorised, as it runs every step."""

        def __init__(self, prompt_len, eos, stop, tokenizer, rows, device):
            self.prompt_len = prompt_len
            self.eos = torch.tensor(sorted(eos), device=device) if eos else None
            self.stop = stop
            self.tokenizer = tokenizer
            self.tail = max((len(s) for s in stop), default=0) + 8
            self.ended = torch.full((rows,), -1, dtype=torch.long, device=device)

        def __call__(self, input_ids, scores, **kwargs):
            t = input_ids.shape[1] - self.prompt_len
            open_rows = self.ended < 0
            if self.eos is not None:
                hit = open_rows & torch.isin(input_ids[:, -1], self.eos)
                self.ended[hit] = t
            if self.stop:
                for row in torch.nonzero(self.ended < 0).flatten().tolist():
                    tail = self.tokenizer.decode(input_ids[row, -min(t, self.tail):], skip_special_tokens=True)
                    if any(s in tail for s in self.stop):
                        self.ended[row] = t
            return self.ended >= 0

        def result(self, row: int) -> tuple[int | None, str | None]:
            v = int(self.ended[row])
            return (v, "stop") if v >= 0 else (None, None)

    return RawLogprobs, Finish


class TransformersBackend:
    name = "transformers"
    #: samples per commit when the config does not say
    default_commit = 32

    def __init__(self, spec: ModelSpec, sampling: SamplingParams):
        # generate() runs without gradients on its own; no process-wide switch.
        self.spec = spec
        self.sampling = sampling
        self.tokenizer = load_tokenizer(spec.path)
        self.model, self.device = load_causal_lm(spec.path, spec.dtype, spec.device)
        self.eos = eos_ids(self.model, self.tokenizer)
        pad = self.tokenizer.pad_token_id
        self.pad = pad if pad is not None else (min(self.eos) if self.eos else 0)
        self.batch_rows = int(spec.engine_args.get("batch_size", 32))
        self.tokens_generated = 0

    def generate(self, requests: list[Request]) -> Iterator[tuple[Request, list[Completion]]]:
        for req in requests:
            out: list[Completion] = []
            done = 0
            while done < req.n:
                rows = min(self.batch_rows, req.n - done)
                out.extend(self._generate_rows(req, done, rows))
                done += rows
            yield req, out

    def _generate_rows(self, req: Request, offset: int, rows: int) -> list[Completion]:
        import torch

        RawLogprobs, Finish = _helpers()
        s = self.sampling
        ids = torch.tensor([req.prompt_ids], device=self.device).expand(rows, -1)
        # Each chunk of a request has its own stream, so chunking stays reproducible.
        torch.manual_seed(req.seed + offset)
        recorder = RawLogprobs()
        finish = Finish(ids.shape[1], self.eos, s.stop, self.tokenizer, rows, ids.device)
        sample = s.temperature > 0
        kwargs = dict(do_sample=sample, max_new_tokens=s.max_tokens, pad_token_id=self.pad)
        if sample:
            kwargs.update(temperature=s.temperature, top_p=s.top_p, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        seqs = self.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            logits_processor=[recorder],
            stopping_criteria=[finish],
            **kwargs,
        )
        gen = seqs[:, ids.shape[1]:]
        logprobs = recorder.finish(gen[:, -1]) if gen.shape[1] else None
        out = []
        for row in range(rows):
            ended, reason = finish.result(row)
            length = ended or gen.shape[1]
            reason = reason or "length"
            text = self.tokenizer.decode(gen[row, :length], skip_special_tokens=True)
            if s.stop:
                text, _ = truncate_at_stop(text, s.stop)
            cum = float(logprobs[row, :length].sum()) if logprobs is not None else 0.0
            self.tokens_generated += length
            out.append(Completion(
                req.problem_id, req.start_idx + offset + row, text, length, reason, cum, req.seed,
                token_ids=gen[row, :length].tolist(),
            ))
        return out

    def close(self) -> None:
        self.model = None

