"""pass@k for every k: pathscope's vectorised estimator vs the paper harness's loop.

Workload: 2 models x 10,000 problems x n = 1024 samples, pass@k for all
k = 1..1024.  The baseline is the released harness's formulation, evaluated
per problem and per k:

    1 - prod(1 - k / arange(n - c + 1, n + 1))

(and its ``n - c < k -> 1.0`` shortcut).  The full baseline is 20.5 million
numpy calls; it is timed on a random subset of k values and extrapolated
linearly (its cost per call does not depend on k), which the output says.
pathscope's side computes every k and the mean over problems, plus (reported
separately) 1,000 bootstrap replicates.  Both sides agree to 1e-9.

    python bench/passk_bench.py [--problems 10000] [--n 1024] [--baseline-ks 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pathscope.metrics.passk import pass_at_k


def harness_curve(n: int, cs: np.ndarray, ks) -> dict[int, float]:
    out = {}
    for k in ks:
        vals = []
        for c in cs:
            c = int(c)
            if n - c < k:
                vals.append(1.0)
            else:
                vals.append(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
        out[k] = float(np.mean(vals))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", type=int, default=10_000)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--models", type=int, default=2)
    ap.add_argument("--baseline-ks", type=int, default=8, help="k values timed for the baseline (then extrapolated)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.n
    # Realistic accuracies: many problems at 0 or 1, the rest spread out.
    models = []
    for _ in range(args.models):
        p = rng.beta(0.4, 0.4, args.problems)
        models.append(rng.binomial(n, p))
    print(f"workload: {args.models} models x {args.problems:,} problems x n={n}, every k = 1..{n}")

    t0 = time.perf_counter()
    curves = [pass_at_k(np.full(args.problems, n), c, beyond_n="truncate").values for c in models]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in models:
        pass_at_k(np.full(args.problems, n), c, bootstrap=1000, seed=1)
    t_boot = time.perf_counter() - t0

    ks = sorted(set(rng.choice(np.arange(1, n + 1), size=min(args.baseline_ks, n), replace=False).tolist()))
    t0 = time.perf_counter()
    base = [harness_curve(n, c, ks) for c in models]
    t_sub = time.perf_counter() - t0
    t_base = t_sub * n / len(ks)
    err = max(abs(curves[m][k - 1] - base[m][k]) for m in range(args.models) for k in ks)
    print(f"pathscope (all {n} k, {args.models} models):           {t_ours:8.3f} s")
    print(f"pathscope with 1,000 bootstrap replicates (bands):  {t_boot:8.3f} s")
    print(f"harness loop, measured on {len(ks)} of {n} k values:       {t_sub:8.3f} s")
    print(f"harness loop, extrapolated to all {n} k:             {t_base:8.1f} s  (measured x {n}/{len(ks)})")
    print(f"max |difference| on the measured k: {err:.2e}")
    print(f"speed-up (all k, point estimates): {t_base / t_ours:,.0f}x   target >= 50x")
    print(f"speed-up including bootstrap bands: {t_base / (t_ours + t_boot):,.0f}x")


if __name__ == "__main__":
    main()
