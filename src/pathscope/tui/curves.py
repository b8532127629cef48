"""What the overview draws, from per-(model, problem) counts n and c.

Pure numpy (no Textual) and cheap: the math is ``pathscope.metrics`` (the same
numbers ``pathscope report`` prints); this module only picks the points a
terminal plot needs and packs plain data for the screen.
"""

from __future__ import annotations

import numpy as np

from ..metrics.histogram import accuracy_histogram
from ..metrics.passk import crossover_k, pass_at_k

#: Short labels of the paper's 12 accuracy bins: [0], (0,.1], …, (.8,.9], (.9,1), [1].
HIST_LABELS = ["0"] + [f"≤.{i}" for i in range(1, 10)] + ["<1", "1"]


def k_grid(n_max: int, points: int = 96) -> np.ndarray:
    """Integer ks from 1 to n_max spaced evenly on a log-2 axis (powers of two and n_max included)."""
    if n_max <= 1:
        return np.array([1])
    grid = np.unique(np.round(np.exp2(np.linspace(0, np.log2(n_max), points))).astype(np.int64))
    pows = 2 ** np.arange(int(np.log2(n_max)) + 1)
    return np.unique(np.concatenate([grid, pows, [n_max]]))


def overview_curves(nb, cb, nr, cr, bootstrap: int = 200, seed: int = 0) -> dict:
    """Both models' pass@k (with 95% bootstrap bands over problems) on the common
    problems, sampled on a log-2 k grid, and the crossover k (from all k)."""
    a = pass_at_k(nb, cb, beyond_n="truncate", bootstrap=bootstrap, seed=seed)
    b = pass_at_k(nr, cr, beyond_n="truncate", bootstrap=bootstrap, seed=seed)
    k_max = min(len(a.values), len(b.values))
    ks = k_grid(k_max)
    idx = ks - 1
    series = [(a.values[idx], a.lower[idx], a.upper[idx]), (b.values[idx], b.lower[idx], b.upper[idx])]
    return {"ks": ks, "series": series, "k_max": k_max, "crossover": crossover_k(a.values[:k_max], b.values[:k_max])}


def histogram(n, c) -> list[int]:
    return [int(x) for x in accuracy_histogram(n, c)] if len(n) else [0] * 12


def coverage_counts(solved_base: np.ndarray, solved_rl: np.ndarray) -> dict[str, int]:
    """Coverage at k = n over problems both models attempted."""
    a = np.asarray(solved_base, dtype=bool)
    b = np.asarray(solved_rl, dtype=bool)
    return {
        "both": int(np.sum(a & b)),
        "base_only": int(np.sum(a & ~b)),
        "rl_only": int(np.sum(~a & b)),
        "neither": int(np.sum(~a & ~b)),
    }
