"""The unit of work every backend takes and gives back.

A :class:`Request` asks for ``n`` samples of one problem at once (vLLM's
``SamplingParams(n=...)``, transformers' ``num_return_sequences``, the OpenAI
API's ``n``) — never ``n`` copies of the prompt.  Its samples are numbered
``start_idx .. start_idx + n - 1`` and share the request's seed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: a request's samples use seeds seed .. seed + n - 1
SEED_STRIDE_BITS = 12


@dataclass
class Request:
    problem_id: str
    start_idx: int
    n: int
    seed: int
    prompt_text: str
    prompt_ids: list[int] | None = None
    messages: list[dict] | None = None

    @property
    def indices(self) -> range:
        return range(self.start_idx, self.start_idx + self.n)


@dataclass
class Completion:
    problem_id: str
    sample_idx: int
    text: str
    n_tokens: int | None
    finish_reason: str | None  # "stop" | "length" (or what a server says)
    cum_logprob: float | None
    seed: int | None
    #: the generated token ids where the backend has them (not stored; for checks)
    token_ids: list[int] | None = field(default=None, repr=False)


def derive_seed(base_seed: int, model_name: str, problem_id: str, start_idx: int) -> int:
    """A request's seed, a pure function of what identifies it, so a resumed
    run draws exactly what an uninterrupted one would have.

    vLLM seeds the i-th of a request's n samples with ``seed + i``; the low
    12 bits are therefore left zero, so no two requests (n <= 4096) share a
    sample seed.  62 bits: every backend and server accepts it.
    """
    key = f"{base_seed}\x00{model_name}\x00{problem_id}\x00{start_idx}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
    return (h & ((1 << 62) - 1)) & ~((1 << SEED_STRIDE_BITS) - 1)


def truncate_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string (excluded, as vLLM does)."""
    cut = -1
    for s in stop:
        i = text.find(s)
        if i != -1 and (cut == -1 or i < cut):
            cut = i
    return (text, False) if cut == -1 else (text[:cut], True)
