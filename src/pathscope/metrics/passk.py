"""Unbiased pass@k, its bootstrap bands, and the crossover k between two models.

pass@k of one problem with ``n`` samples of which ``c`` are correct is
``1 - C(n-c, k) / C(n, k)`` (Chen et al. 2021); a model's pass@k is the mean
over problems.  The ratio of binomials is computed in log form,

    log(C(n-c, k) / C(n, k)) = sum_{i<k} log1p(-c / (n - i)),

and the result as ``-expm1(...)``: no factorial ever overflows, and a value
near 0 (small k, rare successes) keeps its full relative precision instead of
being the difference of two numbers near 1.  Exact to ~1e-13 for n up to 4096
and beyond.

Problems with different ``n``: the estimator is undefined for ``k > n``.  By
default a curve stops at the smallest ``n`` of its problems (``beyond_n=
"truncate"``), so every point averages the same problems.  ``beyond_n="carry"``
instead extends each problem with its pass@n (solved at all or not), a lower
bound on the true pass@k that lets a few short problems not cut a curve.

Vectorised: problems are grouped by distinct ``(n, c)``; each distinct pair's
curve is computed once, and a model's curve is a weighted mean of those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Rows of a (pairs x k) block computed at once; bounds memory for n = 4096.
_BLOCK = 256


def pass_at_k_table(n: np.ndarray, c: np.ndarray, kmax: int, beyond_n: str = "carry") -> np.ndarray:
    """Per-row pass@k for k = 1..kmax: an array of shape (len(n), kmax).

    For k > n a row holds its pass@n (1.0 if c > 0 else 0.0) when
    ``beyond_n="carry"`` and NaN when ``beyond_n="nan"``.
    """
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    if n.shape != c.shape or n.ndim != 1:
        raise ValueError("n and c must be 1-D arrays of the same length")
    if np.any(n < 1) or np.any(c < 0) or np.any(c > n):
        raise ValueError("need 1 <= n and 0 <= c <= n for every problem")
    out = np.empty((len(n), kmax), dtype=np.float64)
    i = np.arange(kmax, dtype=np.float64)  # the i of (n - i), for k = i + 1
    for lo in range(0, len(n), _BLOCK):
        nb = n[lo : lo + _BLOCK, None].astype(np.float64)
        cb = c[lo : lo + _BLOCK, None].astype(np.float64)
        denom = nb - i  # n - i; <= 0 past k = n
        valid = denom > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(valid, cb / np.where(valid, denom, 1.0), 0.0)
            # frac == 1 exactly once k passes n - c: log1p(-1) = -inf, i.e. ratio 0.
            terms = np.log1p(-np.minimum(frac, 1.0))
        terms = np.where(valid, terms, 0.0)
        log_ratio = np.cumsum(terms, axis=1)
        block = -np.expm1(log_ratio)
        past = ~valid
        if beyond_n == "nan":
            block[past] = np.nan
        elif beyond_n == "carry":
            solved = (cb > 0).astype(np.float64)
            block = np.where(past, solved, block)
        else:
            raise ValueError(f"beyond_n must be 'carry' or 'nan', not {beyond_n!r}")
        out[lo : lo + _BLOCK] = block
    return out


@dataclass
class PassAtK:
    """One model's pass@k curve: ``values[k-1]`` is pass@k for k = 1..len(values)."""

    values: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None
    n_problems: int
    n_min: int
    n_max: int
    confidence: float | None = None

    @property
    def ks(self) -> np.ndarray:
        return np.arange(1, len(self.values) + 1)

    def at(self, k: int) -> float:
        return float(self.values[k - 1])


def _groups(n: np.ndarray, c: np.ndarray):
    pairs = np.stack([n, c], axis=1)
    uniq, inverse, counts = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
    return uniq[:, 0], uniq[:, 1], inverse.reshape(-1), counts


def pass_at_k(
    n,
    c,
    kmax: int | None = None,
    beyond_n: str = "truncate",
    bootstrap: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> PassAtK:
    """A model's pass@k for k = 1..kmax from per-problem ``n`` and ``c``.

    ``kmax`` defaults to min(n) (``beyond_n="truncate"``) or max(n)
    (``"carry"``).  ``bootstrap=B > 0`` adds percentile bands from B resamples
    of the problems (with replacement), seeded for reproducibility: the
    per-group resample counts are one multinomial draw per replicate, which is
    the same distribution as resampling problems one by one.
    """
    n = np.asarray(n, dtype=np.int64).reshape(-1)
    c = np.asarray(c, dtype=np.int64).reshape(-1)
    if len(n) == 0:
        raise ValueError("pass@k needs at least one problem")
    if beyond_n == "truncate":
        limit = int(n.min())
        kmax = limit if kmax is None else min(int(kmax), limit)
        mode = "carry"  # irrelevant below kmax <= min n
    elif beyond_n == "carry":
        kmax = int(n.max()) if kmax is None else int(kmax)
        mode = "carry"
    else:
        raise ValueError(f"beyond_n must be 'truncate' or 'carry', not {beyond_n!r}")
    gn, gc, inverse, counts = _groups(n, c)
    table = pass_at_k_table(gn, gc, kmax, beyond_n=mode)  # (groups, kmax)
    weights = counts / counts.sum()
    values = weights @ table
    lower = upper = None
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(len(n), weights, size=bootstrap) / len(n)  # (B, groups)
        reps = draws @ table  # (B, kmax)
        alpha = (1.0 - confidence) / 2.0
        lower, upper = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
    return PassAtK(values, lower, upper, len(n), int(n.min()), int(n.max()), confidence if bootstrap else None)


def per_problem_pass_at_k(n, c, k: int) -> np.ndarray:
    """pass@k of each problem (k > n gives pass@n)."""
    return pass_at_k_table(np.asarray(n), np.asarray(c), k, beyond_n="carry")[:, k - 1]


def crossover_k(a: np.ndarray, b: np.ndarray, tol: float = 1e-12) -> int | None:
    """The smallest k from which curve ``a`` stays at or above curve ``b``
    (compared over their common k range); None if ``a`` ends below ``b``.

    With a = base and b = RL this is where the base model catches up: 1 when
    the base is never behind.
    """
    m = min(len(a), len(b))
    if m == 0:
        return None
    below = np.asarray(a[:m]) < np.asarray(b[:m]) - tol
    if below[-1]:
        return None
    idx = np.nonzero(below)[0]
    return 1 if len(idx) == 0 else int(idx[-1]) + 2


def report_ks(kmax: int) -> list[int]:
    """k = 1, 2, 4, … up to kmax, plus kmax itself when it is not a power of two."""
    ks = []
    k = 1
    while k <= kmax:
        ks.append(k)
        k *= 2
    if kmax >= 1 and ks[-1] != kmax:
        ks.append(kmax)
    return ks


def harness_pass_at_k(n: int, c: int, k: int) -> float:
    """The reference formulation of the paper's released harness (one problem,
    one k): ``1 - prod(1 - k / arange(n - c + 1, n + 1))``.  Used by tests and
    the benchmark as the baseline."""
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
