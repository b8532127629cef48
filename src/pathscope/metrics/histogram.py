"""Per-problem accuracy histograms in the paper's 12 bins.

Bins: ``0``, ``(0,0.1]``, ``(0.1,0.2]``, …, ``(0.8,0.9]``, ``(0.9,1)``, ``1``.
The bin of ``c/n`` is computed in integers (``ceil(10c/n)``), so an accuracy
of exactly 0.3 lands in ``(0.2,0.3]`` with no float rounding surprise.
"""

from __future__ import annotations

import numpy as np

BIN_LABELS = ["0"] + [f"({i / 10:g},{(i + 1) / 10:g}]" for i in range(9)] + ["(0.9,1)", "1"]


def accuracy_bins(n, c) -> np.ndarray:
    """Bin index 0..11 of each problem's accuracy c/n."""
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    idx = (10 * c + n - 1) // n  # ceil(10c/n): 0 for c = 0, 1..10 otherwise
    idx = np.minimum(idx, 10)  # (0.9, 1) shares ceil = 10 with c = n
    return np.where(c == n, 11, idx)


def accuracy_histogram(n, c) -> np.ndarray:
    """Problem counts in each of the 12 bins."""
    return np.bincount(accuracy_bins(n, c), minlength=12)
