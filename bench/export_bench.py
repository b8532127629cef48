"""Export at paper scale: ``pathscope.export`` against a hand-written DuckDB COPY.

On the synthetic run of ``make_synthetic_run.py`` (1,024,000 samples by
default) this measures, each beside a baseline timed in the same process on
the same file:

- every sample to Parquet and to JSONL with ``export(run, "samples", ...)``
  (which joins verdicts, clusters, tree paths, evidence and marks) against a
  bare ``COPY (samples JOIN models LEFT JOIN verdict) TO ...`` — what a user
  would write by hand; target: at least 0.5x of it (at most twice the time);
- one problem's 512 samples as a Markdown report (cleaned, fenced CoTs)
  against the same problem to JSONL; target under 1 s.

    python bench/export_bench.py [--run PATH] [--problems 2000] [--samples 256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_BARE = """COPY (SELECT m.name AS model, m.role, s.problem_id, s.sample_idx, s.text, s.n_tokens, s.finish_reason,
                    v.extracted, v.correct
             FROM samples s JOIN models m USING (model_id)
             LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)) TO '{path}' ({opts})"""


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=str(Path(tempfile.gettempdir()) / "pathscope-bench" / "synthetic-2000x256.duckdb"))
    ap.add_argument("--problems", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2, help="best of this many timings per figure")
    ap.add_argument("--json", action="store_true", help="print the rows as one JSON line at the end")
    a = ap.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from make_synthetic_run import ensure_synthetic_run

    from pathscope import open_run
    from pathscope.export import export

    Path(a.run).parent.mkdir(parents=True, exist_ok=True)
    info = ensure_synthetic_run(a.run, n_problems=a.problems, n_samples=a.samples)
    print(f"run: {a.run} ({info['samples']:,} samples, {'reused' if info.get('reused') else 'built'})", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="pathscope-export-bench-"))
    rows = []
    try:
        with open_run(a.run, read_only=True) as run:
            n = run.count("samples")
            # Warm-up, untimed: whichever side ran first used to pay the cold reads of the file
            # (that alone made an earlier run of this bench report 0.21x).
            run.con.execute(_BARE.format(path=tmp / "warm.parquet", opts="FORMAT parquet"))
            (tmp / "warm.parquet").unlink()
            for fmt, opts in (("parquet", "FORMAT parquet"), ("jsonl", "FORMAT json")):
                ours = _best(lambda: export(run, "samples", fmt, tmp / f"ours.{fmt}"), a.repeats)
                bare = _best(lambda: run.con.execute(_BARE.format(path=tmp / f"bare.{fmt}", opts=opts)), a.repeats)
                mb = (tmp / f"ours.{fmt}").stat().st_size / 1e6
                print(f"export {n:,} samples to {fmt}: pathscope {ours:.1f} s ({mb:,.0f} MB), bare COPY {bare:.1f} s, "
                      f"ratio {bare / ours:.2f}x (target >= 0.5x)")
                rows.append({"figure": f"export {n:,} samples to {fmt}", "target": ">= 0.5x", "measured": round(ours, 2),
                             "baseline": round(bare, 2), "ratio": round(bare / ours, 3), "unit": "s", "met": bare / ours >= 0.5})
                for f in tmp.iterdir():
                    f.unlink()
            pid = run.one("SELECT min(problem_id) FROM problems")[0]
            per = run.one("SELECT count(*) FROM samples WHERE problem_id = ?", [pid])[0]
            md = _best(lambda: export(run, "samples", "md", tmp / "one.md", problem_ids=[pid]), max(2, a.repeats))
            js = _best(lambda: export(run, "samples", "jsonl", tmp / "one.jsonl", problem_ids=[pid]), max(2, a.repeats))
            print(f"one problem ({per} samples) as Markdown: {md:.2f} s (JSONL of the same {js:.2f} s; target < 1 s)")
            rows.append({"figure": f"Markdown report of one problem ({per} CoTs)", "target": "< 1 s", "measured": round(md, 3),
                         "baseline": round(js, 3), "ratio": round(js / md, 3), "unit": "s", "met": md < 1.0})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if a.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
