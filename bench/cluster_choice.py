"""Why agglomerative clustering with a cosine threshold, measured.

Compares, per problem, average-linkage agglomerative clustering cut at several
cosine-distance thresholds with HDBSCAN (min_cluster_size 2 and 3) on:

* the planted set of tests/analysis_planted.py — one problem solved by algebra
  and by enumeration, each paraphrased six times (ground truth known:
  adjusted Rand index, and whether any cluster mixes the two strategies);
* real CoTs: math_cot_100.jsonl (100 MATH problems x 8 CoTs of one model):
  clusters per problem, share of CoTs left alone (singletons / HDBSCAN noise).

The real CoTs are embedded through ``pathscope analyze --stages embed`` into
a run file (``--run``, reused on a second call), so this also exercises the
pipeline on 800 CoTs.

    python bench/cluster_choice.py [--run /tmp/math100.duckdb] [--data FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "math_cot_samples" / "math_cot_100.jsonl"


def real_vectors(run_path: Path, data: Path) -> list[np.ndarray]:
    from pathscope import open_run
    from pathscope.analysis.pipeline import AnalyzeOptions, analyze
    from pathscope.store import analysis as q

    with open_run(run_path) as run:
        if run.count("samples") == 0:
            m = run.ensure_model("qwen2.5-math-instruct", role="base")
            rows = [json.loads(line) for line in data.read_text().splitlines()]
            run.add_problems(pa.table({"problem_id": [f"math/{r['idx']:03d}" for r in rows],
                                       "prompt": [r["question"] for r in rows], "kind": ["math"] * len(rows)}))
            for r in rows:
                run.add_samples(pa.table({"model_id": pa.array([m] * 8, pa.int32()), "problem_id": [f"math/{r['idx']:03d}"] * 8,
                                          "sample_idx": pa.array(range(8), pa.int32()), "text": r["code"]}))
        t = time.perf_counter()
        from rich.console import Console

        s = analyze(run, AnalyzeOptions(stages=("embed",)), console=Console(stderr=True))
        print(f"embed stage: {s['embed']} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        ids = [mm.model_id for mm in run.models()]
        return [q.cot_vectors(run, pid, ids, "all-MiniLM-L6-v2")[1] for pid in q.problem_ids(run, ids, None)]


def planted_vectors() -> tuple[np.ndarray, np.ndarray]:
    import analysis_planted as ap
    from pathscope.analysis.embed import Embedder

    texts = ap.ALGEBRA + ap.ENUMERATION
    truth = np.array([0] * len(ap.ALGEBRA) + [1] * len(ap.ENUMERATION))
    return Embedder().encode(texts), truth


def methods():
    from sklearn.cluster import HDBSCAN

    from pathscope.analysis.cluster import cluster_vectors

    out = {f"agglomerative t={t}": (lambda X, t=t: cluster_vectors(X, t)) for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)}
    for m in (2, 3):
        out[f"HDBSCAN min_cluster_size={m}"] = lambda X, m=m: HDBSCAN(min_cluster_size=m, copy=True).fit(X).labels_
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, default=Path("math100-analysis.duckdb"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from sklearn.metrics import adjusted_rand_score

    P, truth = planted_vectors()
    real = real_vectors(args.run, args.data) if args.data.exists() else []
    print("| method | planted: ARI | planted: mixed clusters | real: clusters/problem (mean, max) | real: CoTs alone (singleton or noise) |")
    print("|---|---|---|---|---|")
    for name, fn in methods().items():
        lab = np.asarray(fn(P))
        mixed = sum(1 for c in set(lab) - {-1} if len(set(truth[lab == c])) > 1)
        ks, alone = [], []
        for X in real:
            lr = np.asarray(fn(X))
            ks.append(len(set(lr) - {-1}))
            sizes = {c: int(np.sum(lr == c)) for c in set(lr)}
            alone.append(np.mean([(c == -1) or sizes[c] == 1 for c in lr]))
        real_cols = f"{np.mean(ks):.2f}, {max(ks)} | {np.mean(alone):.1%}" if real else "n/a | n/a"
        print(f"| {name} | {adjusted_rand_score(truth, lab):.2f} | {mixed} | {real_cols} |")


if __name__ == "__main__":
    main()
