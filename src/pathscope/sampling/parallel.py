"""Data parallelism: one engine process per GPU group, problems sharded.

``data_parallel_size = D`` with ``tensor_parallel_size = T`` starts D worker
processes; worker i sees GPUs ``i*T .. i*T+T-1`` of the visible ones
(``CUDA_VISIBLE_DEVICES``) and builds its own engine on them.  Requests are
dealt out round-robin; finished requests stream back to the parent, which
alone writes the run (DuckDB has one writer).  Per-request seeds make the
samples independent of how requests were sharded.

Works for the vllm and transformers backends (on a CPU-only machine the
workers share the CPU, each with its share of threads).
"""

from __future__ import annotations

import dataclasses
import os
import queue as queue_mod
from typing import Iterator

from ..errors import RunError
from .config import ModelSpec, SamplingParams
from .types import Completion, Request


def _visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d for d in env.split(",") if d.strip()]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no torch / no CUDA: CPU workers
        return []


def _worker(index: int, spec: ModelSpec, sampling: SamplingParams, shard: list[Request], out, threads: int | None) -> None:
    try:
        if threads:
            import torch

            torch.set_num_threads(threads)
        from .runner import open_backend

        backend = open_backend(spec, sampling)
        try:
            for req, completions in backend.generate(shard):
                out.put(("result", index, req, completions))
        finally:
            backend.close()
        out.put(("done", index, None, None))
    except BaseException as exc:  # report, never hang the parent
        out.put(("error", index, f"{type(exc).__name__}: {exc}", None))


class DataParallelBackend:
    def __init__(self, spec: ModelSpec, sampling: SamplingParams):
        from .hf_backend import load_tokenizer

        self.spec = spec
        self.sampling = sampling
        self.name = spec.backend
        self.tokenizer = load_tokenizer(spec.path)
        self.default_commit = 4096 if spec.backend == "vllm" else 32
        self.procs: list = []

    def generate(self, requests: list[Request]) -> Iterator[tuple[Request, list[Completion]]]:
        import multiprocessing as mp

        dp, tp = self.spec.data_parallel_size, self.spec.tensor_parallel_size
        gpus = _visible_gpus()
        if gpus and len(gpus) < dp * tp:
            raise RunError(
                f"model {self.spec.name!r}: data_parallel_size {dp} x tensor_parallel_size {tp} needs {dp * tp} GPUs; "
                f"{len(gpus)} visible."
            )
        threads = None if gpus else max(1, (os.cpu_count() or 1) // dp)
        worker_spec = dataclasses.replace(self.spec, data_parallel_size=1)
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        shards = [requests[i::dp] for i in range(dp)]
        saved = os.environ.get("CUDA_VISIBLE_DEVICES")
        try:
            for i, shard in enumerate(shards):
                if not shard:
                    continue
                if gpus:
                    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[i * tp : (i + 1) * tp])
                p = ctx.Process(target=_worker, args=(i, worker_spec, self.sampling, shard, out, threads), daemon=True)
                p.start()
                self.procs.append((i, p))
        finally:
            if saved is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = saved
        running = {i for i, _ in self.procs}
        while running:
            try:
                kind, index, payload, completions = out.get(timeout=2.0)
            except queue_mod.Empty:
                for i, p in self.procs:
                    if i in running and not p.is_alive() and out.empty():
                        raise RunError(f"model {self.spec.name!r}: data-parallel worker {i} died (exit code {p.exitcode}).")
                continue
            if kind == "result":
                yield payload, completions
            elif kind == "done":
                running.discard(index)
            else:
                raise RunError(f"model {self.spec.name!r}: data-parallel worker {index} failed: {payload}")

    def close(self) -> None:
        for _, p in self.procs:
            if p.is_alive():
                p.terminate()
        for _, p in self.procs:
            p.join(timeout=10)
        self.procs = []
