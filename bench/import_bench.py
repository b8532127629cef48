"""Import throughput: ``pathscope import`` against a plain Python loop.

Writes a JSONL file of N samples (~2 KB of text each; 16 samples per problem,
with extracted answer and verdict), then in the same run measures:

* pathscope: ``import_file`` (DuckDB's reader parses the file in bulk);
* baseline: ``json.loads`` per line in Python, rows gathered into column
  batches of 50,000 and appended to the same tables through Arrow — the
  closest DuckDB-Python equivalent of feeding DuckDB's appender row by row
  (the Python client exposes no appender).

Both write samples and imported verdicts into a fresh run that already holds
the problems.  Target: 1,000,000 samples in under 30 s on 2 cores, and at
least 3x the baseline.

    python bench/import_bench.py              # 1,000,000 samples
    python bench/import_bench.py --samples 50000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

PER_PROBLEM = 16
WORDS = (
    "the of and to a in is that for it as with was on be by this are we let so then "
    "x y z equation solve value answer therefore since thus because compute sum product "
    "square root factor prime integer real number triangle angle circle area"
).split()


def cpu_seconds() -> float:
    """CPU time of this process, all threads (robust when other jobs share the cores)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_samples(path: Path, n: int, text_bytes: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    bases = []
    for _ in range(997):
        words = []
        size = 0
        while size < text_bytes - 40:
            w = rng.choice(WORDS)
            words.append(w)
            size += len(w) + 1
        bases.append(" ".join(words))
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            p, s = divmod(i, PER_PROBLEM)
            ans = str(p % 97)
            text = f"Step {s}: {bases[i % 997]} so the answer is \\boxed{{{ans}}}."
            fh.write(json.dumps({"problem_id": f"p{p}", "sample_idx": s, "text": text,
                                 "extracted": ans, "correct": s % 3 != 0}) + "\n")
    return path.stat().st_size


def write_problems(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for p in range((n + PER_PROBLEM - 1) // PER_PROBLEM):
            fh.write(json.dumps({"id": f"p{p}", "problem": f"Problem {p}: what is {p} mod 97?", "answer": str(p % 97)}) + "\n")


def fresh_run(path: Path, problems: Path):
    from pathscope import open_run
    from pathscope.problems import add_problem_file

    run = open_run(path)
    add_problem_file(run, problems, source="bench")
    return run


def pathscope_import(run_path: Path, problems: Path, samples: Path) -> tuple[float, float, int]:
    from pathscope.importers import import_file

    run = fresh_run(run_path, problems)
    try:
        c, t = cpu_seconds(), time.perf_counter()
        report = import_file(run, samples, model="bench-model", role="base", source="bench")
        elapsed, cpu = time.perf_counter() - t, cpu_seconds() - c
        assert report.samples_added == report.samples_in_file, report.lines()
        return elapsed, cpu, report.samples_added
    finally:
        run.close()


def baseline_import(run_path: Path, problems: Path, samples: Path, batch: int = 50_000) -> tuple[float, float, int]:
    import pyarrow as pa

    run = fresh_run(run_path, problems)
    con = run.con
    try:
        con.execute("SET enable_progress_bar = false")
        c, t = cpu_seconds(), time.perf_counter()
        with run.transaction():
            model_id = run.ensure_model("bench-model", "base", backend="imported")
            cols: dict[str, list] = {"problem_id": [], "sample_idx": [], "text": [], "extracted": [], "correct": []}

            def flush() -> None:
                if not cols["text"]:
                    return
                b = pa.table({
                    "problem_id": pa.array(["bench/" + p for p in cols["problem_id"]], pa.string()),
                    "sample_idx": pa.array(cols["sample_idx"], pa.int64()),
                    "text": pa.array(cols["text"], pa.string()),
                    "extracted": pa.array(cols["extracted"], pa.string()),
                    "correct": pa.array(cols["correct"], pa.bool_()),
                })
                con.register("_batch", b)
                con.execute(f"INSERT INTO samples (model_id, problem_id, sample_idx, text) SELECT {model_id}, problem_id, sample_idx, text FROM _batch")
                con.execute(
                    f"""INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, status)
                    SELECT {model_id}, problem_id, sample_idx, 'imported', extracted, correct, 'ok' FROM _batch"""
                )
                con.unregister("_batch")
                for v in cols.values():
                    v.clear()

            with open(samples, "rb") as fh:
                for line in fh:
                    d = json.loads(line)
                    for k in cols:
                        cols[k].append(d[k])
                    if len(cols["text"]) >= batch:
                        flush()
            flush()
        elapsed, cpu = time.perf_counter() - t, cpu_seconds() - c
        return elapsed, cpu, run.count("samples")
    finally:
        run.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--text-bytes", type=int, default=2000)
    ap.add_argument("--dir", help="work directory (default: a temp dir, removed afterwards)")
    args = ap.parse_args()

    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="pathscope-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        samples, problems = work / "samples.jsonl", work / "problems.jsonl"
        t = time.perf_counter()
        size = write_samples(samples, args.samples, args.text_bytes)
        write_problems(problems, args.samples)
        print(f"wrote {args.samples:,} samples, {size / 1e6:,.0f} MB, in {time.perf_counter() - t:.1f} s  (cpus: {os.cpu_count()})")

        try:
            load = "load average %.1f %.1f %.1f" % os.getloadavg()
        except OSError:
            load = ""
        print(f"before: {load}")
        ps_t, ps_c, ps_n = pathscope_import(work / "pathscope.duckdb", problems, samples)
        print(f"pathscope import : {ps_n:,} samples in {ps_t:6.1f} s wall ({ps_c:6.1f} s cpu) = {ps_n / ps_t:>9,.0f} samples/s")
        (work / "pathscope.duckdb").unlink()
        bl_t, bl_c, bl_n = baseline_import(work / "baseline.duckdb", problems, samples)
        print(f"baseline (python): {bl_n:,} samples in {bl_t:6.1f} s wall ({bl_c:6.1f} s cpu) = {bl_n / bl_t:>9,.0f} samples/s")
        if hasattr(os, "getloadavg"):
            print("after: load average %.1f %.1f %.1f" % os.getloadavg())
        per_million = ps_t * 1_000_000 / max(ps_n, 1)
        print(f"ratio baseline/pathscope: {bl_t / ps_t:.2f}x wall, {bl_c / ps_c:.2f}x cpu (target >= 3x)")
        print(f"pathscope per 1M samples: {per_million:.1f} s wall, {ps_c * 1_000_000 / max(ps_n, 1):.1f} s cpu (target < 30 s on 2 cores)")
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
