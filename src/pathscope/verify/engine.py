"""Run a verifier over every sample of a run that lacks its verdict.

Resumable: pending samples are streamed in batches and each batch's verdicts
are committed in one transaction, so an interrupted run keeps what it
committed and the next call starts where it stopped.  Math grades each
distinct (reference, extracted answer) pair once across the whole call: most
samples of a problem share a handful of answers.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa

from ..errors import PathscopeError
from ..store import verdicts as vstore
from ..store.run import Run

VERIFIERS = ("math", "code", "choice")

_SCHEMA = pa.schema(
    [
        ("model_id", pa.int32()), ("problem_id", pa.string()), ("sample_idx", pa.int32()),
        ("verifier", pa.string()), ("extracted", pa.string()), ("correct", pa.bool_()),
        ("status", pa.string()), ("detail", pa.string()),
    ]
)


@dataclass
class VerifyOptions:
    verifier: str = "auto"
    workers: int | None = None
    batch_rows: int = 20_000
    math_timeout: float = 10.0
    code_limits: dict = field(default_factory=dict)


@dataclass
class VerifyResult:
    by_verifier: dict[str, Counter] = field(default_factory=dict)
    skipped_no_reference: int = 0
    distinct_pairs: int = 0
    sent_to_math_verify: int = 0
    unknown_kinds: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.by_verifier.values())

    def as_dict(self) -> dict:
        return {
            "verdicts": {v: dict(c) for v, c in self.by_verifier.items()},
            "skipped_no_reference": self.skipped_no_reference,
            "distinct_pairs": self.distinct_pairs,
            "sent_to_math_verify": self.sent_to_math_verify,
            "unknown_kinds": self.unknown_kinds,
        }


def default_workers() -> int:
    return max(1, min(8, (os.cpu_count() or 2)))


def plan(run: Run, verifier: str) -> list[tuple[str, list[str] | None]]:
    """(verifier, problem kinds it grades) pairs: auto maps each problem kind to
    its verifier; a named verifier grades every problem whatever its kind."""
    if verifier == "auto":
        kinds = vstore.problem_kinds(run)
        return [(vstore.AUTO_VERIFIER[k], [k]) for k in sorted(kinds) if k in vstore.AUTO_VERIFIER]
    if verifier not in VERIFIERS:
        raise PathscopeError(f"unknown verifier {verifier!r} (one of auto, {', '.join(VERIFIERS)}).")
    return [(verifier, None)]


def pending_total(run: Run, verifier: str) -> int:
    """Samples the call will grade (those whose problem lacks a reference are skipped)."""
    return sum(vstore.pending_count(run, v, kinds, _need(v)) for v, kinds in plan(run, verifier))


def skipped_total(run: Run, verifier: str) -> int:
    """Pending samples that cannot be graded: no reference answer (or no tests)."""
    return sum(vstore.pending_without_reference(run, v, kinds, _need(v)) for v, kinds in plan(run, verifier))


def _need(verifier: str) -> str:
    return "tests" if verifier == "code" else "answer"


def verify_run(run: Run, options: VerifyOptions, on_progress: Callable[[int], None] | None = None) -> VerifyResult:
    """Write a verdict for every sample lacking one; ``on_progress(n)`` after each batch."""
    result = VerifyResult()
    if options.verifier == "auto":
        result.unknown_kinds = {k: n for k, n in vstore.problem_kinds(run).items() if k not in vstore.AUTO_VERIFIER}
    workers = options.workers if options.workers is not None else default_workers()
    for verifier, kinds in plan(run, options.verifier):
        counts = result.by_verifier.setdefault(verifier, Counter())
        need = _need(verifier)
        result.skipped_no_reference += vstore.pending_without_reference(run, verifier, kinds, need)
        grader = _make_grader(verifier, workers, options, result)

        def commit(prepared) -> None:
            table = grader.finish(prepared) if hasattr(grader, "finish") else prepared
            with run.transaction():
                vstore.write_verdicts(run, table)
            counts.update(table.column("status").to_pylist())
            if on_progress:
                on_progress(table.num_rows)

        try:
            # One batch in flight: while workers grade batch i's hard pairs,
            # batch i+1 is read and its answers extracted.
            waiting = None
            for batch in vstore.pending_batches(run, verifier, kinds, options.batch_rows, need):
                prepared = grader.prepare(batch) if hasattr(grader, "prepare") else grader(batch)
                if waiting is not None:
                    commit(waiting)
                waiting = prepared
            if waiting is not None:
                commit(waiting)
        finally:
            close = getattr(grader, "close", None)
            if close:
                close()
    return result


def _make_grader(verifier: str, workers: int, options: VerifyOptions, result: VerifyResult):
    if verifier == "math":
        return MathGrader(workers, options.math_timeout, result)
    if verifier == "choice":
        from .choice_check import grade_choice_batch

        return lambda batch: _table(batch, "choice", grade_choice_batch(batch))
    if verifier == "code":
        from .code_check import CodeGrader

        return _Wrapped(CodeGrader(workers, options.code_limits), "code")
    raise PathscopeError(f"unknown verifier {verifier!r}.")


class _Wrapped:
    def __init__(self, grader, name: str):
        self.grader, self.name = grader, name

    def __call__(self, batch):
        return _table(batch, self.name, self.grader.grade_batch(batch))

    def close(self):
        self.grader.close()


def _table(batch, verifier: str, graded: list[tuple[str | None, str, str]]):
    """Verdict rows for a batch from (extracted, status, detail) per row."""
    extracted = [g[0] for g in graded]
    status = [g[1] for g in graded]
    return pa.table(
        {
            "model_id": batch.column("model_id").cast(pa.int32()),
            "problem_id": batch.column("problem_id"),
            "sample_idx": batch.column("sample_idx").cast(pa.int32()),
            "verifier": pa.array([verifier] * batch.num_rows, pa.string()),
            "extracted": pa.array(extracted, pa.string()),
            "correct": pa.array([s == "pass" for s in status], pa.bool_()),
            "status": pa.array(status, pa.string()),
            "detail": pa.array([g[2] for g in graded], pa.string()),
        },
        schema=_SCHEMA,
    )


class MathGrader:
    """Extract, then grade each distinct (reference, answer) pair once: the
    fast path in-process, the rest through a :class:`GradePool`."""

    def __init__(self, workers: int, timeout: float, result: VerifyResult):
        self.cache: dict[tuple[str, str], tuple[str, str]] = {}
        self.workers = workers
        self.timeout = timeout
        self.result = result
        self.pool = None

    def _pool(self):
        if self.pool is None:
            from .pool import GradePool

            self.pool = GradePool(self.workers, timeout=self.timeout)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def prepare(self, batch):
        """Extract answers, settle what the fast tiers can, send the rest to
        the pool without waiting."""
        from .extract import extract_math
        from .math_check import fast_compare

        texts = batch.column("text").to_pylist()
        refs = batch.column("answer").to_pylist()
        answers = [extract_math(t)[0] for t in texts]
        slow = []
        for ans, ref in zip(answers, refs):
            if ans is None:
                continue
            key = (ref, ans)
            if key in self.cache:
                continue
            self.result.distinct_pairs += 1
            fast = fast_compare(ans, ref)
            if fast is not None:
                self.cache[key] = ("pass" if fast[0] else "fail", f"fast:{fast[1]}")
            else:
                self.cache[key] = None  # graded by the pool; queued once
                slow.append((key, ans, ref))
        if slow:
            self.result.sent_to_math_verify += len(slow)
            self._pool().submit(slow)
        return batch, answers, refs

    def finish(self, prepared):
        """Verdict rows for a prepared batch, waiting for its pool results."""
        batch, answers, refs = prepared
        missing = {(ref, ans) for ans, ref in zip(answers, refs) if ans is not None and self.cache[(ref, ans)] is None}
        if missing:
            self.cache.update(self.pool.collect(missing))
        graded = []
        for ans, ref in zip(answers, refs):
            if ans is None:
                graded.append((None, "no_answer", "no final answer found"))
            else:
                status, detail = self.cache[(ref, ans)]
                graded.append((ans, status, detail))
        return _table(batch, "math", graded)

    def __call__(self, batch):
        return self.finish(self.prepare(batch))
