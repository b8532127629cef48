"""Run a sampling job into a run file: resumable, committed in batches.

Before a model is loaded the runner asks the run which (problem, sample_idx)
pairs are already stored and only requests the rest, so running the same
command again resumes and never duplicates.  Finished requests are committed
together in one transaction every ``commit_every`` samples: a ``kill -9``
loses at most the batch in flight, Ctrl-C commits the finished requests it
holds and stops.  Each model's sampling is one ``sample`` stage in the run's
log, with the exact config and library versions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from ..errors import RunError
from .config import ModelSpec, SampleConfig, SamplingParams
from .prompts import describe, render
from .types import Completion, Request, derive_seed

#: Parameters that change what a sample means; a model's samples must agree on them.
_FIXED = ("temperature", "top_p", "max_tokens", "stop")


def open_backend(spec: ModelSpec, sampling: SamplingParams):
    """The backend object for one model (heavy imports happen here)."""
    if spec.data_parallel_size > 1 and spec.backend in ("vllm", "transformers"):
        from .parallel import DataParallelBackend

        return DataParallelBackend(spec, sampling)
    if spec.backend == "transformers":
        from .hf_backend import TransformersBackend

        return TransformersBackend(spec, sampling)
    if spec.backend == "vllm":
        from .vllm_backend import VLLMBackend

        return VLLMBackend(spec, sampling)
    if spec.backend == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(spec, sampling)
    raise RunError(f"unknown backend {spec.backend!r}")


def recorded_params(spec: ModelSpec, sampling: SamplingParams, prompt_desc: dict) -> dict:
    """What ``models.sampling_params`` holds: enough to reproduce and to score."""
    return {
        **dataclasses.asdict(sampling),
        "prompt": prompt_desc,
        "backend": spec.backend,
        "dtype": spec.dtype,
        "tensor_parallel_size": spec.tensor_parallel_size,
        "data_parallel_size": spec.data_parallel_size,
        "seed_scheme": "per request: blake2b(seed, model, problem_id, start_idx), low 12 bits zero; sample i of a request uses seed + i on vLLM",
    }


def _check_compatible(run, name: str, old: dict | None, new: dict) -> None:
    if not old:
        return
    for key in _FIXED:
        if key in old and old[key] != new[key]:
            raise RunError(
                f"{run.path}: model {name!r} was sampled with {key} = {old[key]!r}; this config says {new[key]!r}. "
                f"Use another model name for a different protocol."
            )
    op, np_ = old.get("prompt") or {}, new["prompt"]
    for key in ("template", "system"):
        if key in op and op.get(key) != np_.get(key):
            raise RunError(
                f"{run.path}: model {name!r} was sampled with prompt {key} {op.get(key)!r}; this config says {np_.get(key)!r}. "
                f"Use another model name for a different prompt."
            )


def pending_requests(stored: dict[str, set[int]], problems: list[tuple[str, str]], n: int, seed: int, model: str, offset: int = 0) -> list[tuple[str, str, int, int, int]]:
    """(problem_id, question, start_idx, count, seed) for every gap in
    ``offset .. offset + n - 1``."""
    out = []
    end = offset + n
    for pid, question in problems:
        have = stored.get(pid, set())
        idx = offset
        while idx < end:
            if idx in have:
                idx += 1
                continue
            start = idx
            while idx < end and idx not in have:
                idx += 1
            out.append((pid, question, start, idx - start, derive_seed(seed, model, pid, start)))
    return out


class _Progress:
    """rich progress on stderr: problems, samples, tokens/s."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.p = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("problems"),
                TextColumn("{task.fields[samples]:,} samples"), TextColumn("{task.fields[rate]} tok/s"),
                TimeElapsedColumn(), console=Console(stderr=True), transient=False,
            )
            self.p.__enter__()
        return self

    def add(self, name: str, total: int):
        if self.p:
            return self.p.add_task(name, total=total, samples=0, rate="-")
        return None

    def update(self, task, problems: int, samples: int, tokens: int, elapsed: float):
        if self.p is not None and task is not None:
            rate = f"{tokens / elapsed:,.0f}" if elapsed > 0 else "-"
            self.p.update(task, completed=problems, samples=samples, rate=rate)

    def __exit__(self, *exc):
        if self.p:
            self.p.__exit__(*exc)


def _arrow(model_id: int, completions: list[Completion]):
    import pyarrow as pa

    return pa.table({
        "model_id": pa.array([model_id] * len(completions), pa.int32()),
        "problem_id": [c.problem_id for c in completions],
        "sample_idx": pa.array([c.sample_idx for c in completions], pa.int32()),
        "text": [c.text for c in completions],
        "n_tokens": pa.array([c.n_tokens for c in completions], pa.int32()),
        "finish_reason": [c.finish_reason for c in completions],
        "cum_logprob": pa.array([c.cum_logprob for c in completions], pa.float64()),
        "seed": pa.array([c.seed for c in completions], pa.int64()),
    })


def sample_run(run: Any, config: SampleConfig, progress: bool = False) -> dict:
    """Sample every model of ``config`` into ``run`` (a path or an open Run).

    Returns {model name: {"added", "skipped_problems", "tokens", "seconds"}}.
    Raises KeyboardInterrupt after committing finished requests on Ctrl-C.
    """
    from ..store import open_run

    if isinstance(run, (str, os.PathLike, Path)):
        with open_run(run) as r:
            return sample_run(r, config, progress)
    from ..store.sampling import select_problems

    sel = config.problems
    problems = select_problems(run, sel.ids, sel.source, sel.limit)
    if not problems:
        raise RunError(f"{run.path}: no problems to sample (add some with `pathscope problems add`, or check problems.source/ids).")
    summary = {}
    with _Progress(progress) as bar:
        for spec in config.models:
            summary[spec.name] = _sample_model(run, config, spec, problems, bar)
    return summary


def _sample_model(run, config: SampleConfig, spec: ModelSpec, problems, bar: _Progress) -> dict:
    from ..store.run import library_versions
    from ..store.sampling import stored_indices

    sampling = config.sampling_for(spec)
    prompt = config.prompt_for(spec)
    existing = next((m for m in run.models() if m.name == spec.name), None)
    lo, hi = sampling.index_offset, sampling.index_offset + sampling.n
    stored = stored_indices(run, existing.model_id, lo, hi) if existing else {}
    todo = pending_requests(stored, problems, sampling.n, sampling.seed, spec.name, sampling.index_offset)
    if not todo:
        return {"added": 0, "skipped_problems": len(problems), "tokens": 0, "seconds": 0.0}

    backend = open_backend(spec, sampling)
    try:
        tokenizer = getattr(backend, "tokenizer", None)
        params = recorded_params(spec, sampling, describe(prompt, tokenizer))
        if existing is not None:
            _check_compatible(run, spec.name, existing.sampling_params, params)
        model_id = run.ensure_model(spec.name, spec.role, spec.location, spec.backend, params)
        stage = run.start_stage(
            "sample",
            {"model": spec.name, "config": {**config.to_dict(), "models": [dataclasses.asdict(spec)]}, "recorded": params},
            library_versions(),
        )
        requests = []
        for pid, question, start, count, seed in todo:
            p = render(prompt, question, tokenizer)
            requests.append(Request(pid, start, count, seed, p.text, p.token_ids, p.messages))
        commit_every = config.commit_every or getattr(backend, "default_commit", 64)
        task = bar.add(spec.name, len({r.problem_id for r in requests}))
        done_problems: set[str] = set()
        left = {}
        for r in requests:
            left[r.problem_id] = left.get(r.problem_id, 0) + 1
        buffer: list[Completion] = []
        added = tokens = 0
        t0 = time.perf_counter()

        def commit():
            nonlocal added, buffer
            if buffer:
                with run.transaction():
                    added += run.add_samples(_arrow(model_id, buffer))
                buffer = []

        try:
            for req, completions in backend.generate(requests):
                buffer.extend(completions)
                tokens += sum(c.n_tokens or 0 for c in completions)
                left[req.problem_id] -= 1
                if left[req.problem_id] == 0:
                    done_problems.add(req.problem_id)
                if len(buffer) >= commit_every:
                    commit()
                bar.update(task, len(done_problems), added + len(buffer), tokens, time.perf_counter() - t0)
            commit()
        except BaseException as exc:
            if _is_interrupt(exc):
                # Ctrl-C, possibly delivered inside a DuckDB query (which then
                # raises its own interrupt error): keep every finished request.
                commit()
                run.finish_stage(stage, "interrupted", {"added": added, "tokens": tokens})
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise KeyboardInterrupt from None
            with contextlib.suppress(Exception):
                commit()
            run.finish_stage(stage, "failed", {"added": added, "error": str(exc)[:500]})
            raise
        seconds = time.perf_counter() - t0
        result = {
            "added": added,
            "skipped_problems": len(problems) - len(left),
            "tokens": tokens,
            "seconds": round(seconds, 3),
            "tokens_per_s": round(tokens / seconds, 1) if seconds > 0 else None,
        }
        run.finish_stage(stage, "done", result)
        bar.update(task, len(done_problems), added, tokens, seconds)
        return result
    finally:
        backend.close()


def _is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, or DuckDB's error for a query that Ctrl-C interrupted."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
