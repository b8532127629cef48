"""pass@k against brute-force enumeration, exact big-integer binomials and its properties."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathscope.metrics import accuracy_histogram, coverage, crossover_k, pass_at_k, pass_at_k_table, report_ks
from pathscope.metrics.agreement import cohens_kappa, pairwise_kappa
from pathscope.metrics.histogram import BIN_LABELS
from pathscope.metrics.passk import harness_pass_at_k


def brute_force(n: int, c: int, k: int) -> Fraction:
    """Fraction of all k-subsets of n samples (c correct) holding a correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    hits = sum(any(samples[i] for i in s) for s in subsets)
    return Fraction(hits, len(subsets))


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_brute_force_enumeration(n):
    for c in range(n + 1):
        row = pass_at_k_table(np.array([n]), np.array([c]), n)[0]
        for k in range(1, n + 1):
            assert row[k - 1] == pytest.approx(float(brute_force(n, c, k)), abs=1e-15, rel=1e-13)


@pytest.mark.parametrize("n", [128, 1024, 4096])
def test_matches_math_comb_for_large_n(n):
    rng = np.random.default_rng(n)
    cs = np.unique(np.concatenate([[0, 1, 2, n // 2, n - 1, n], rng.integers(0, n + 1, 10)]))
    table = pass_at_k_table(np.full(len(cs), n), cs, n)
    ks = sorted({1, 2, 3, 7, 64, n // 3, n // 2, n - 1, n} | set(rng.integers(1, n + 1, 20).tolist()))
    for row, c in zip(table, cs):
        for k in ks:
            want = exact(n, int(c), k)
            got = row[k - 1]
            # relative error tiny even where pass@k is close to 0 (no cancellation)
            assert abs(Fraction(got) - want) <= max(Fraction(1, 10**12) * want, Fraction(1, 10**300)), (n, c, k, got, float(want))
            assert 0.0 <= got <= 1.0


def test_tiny_probability_keeps_relative_precision():
    # n = 4096, c = 1, k = 1: pass@1 = 1/4096 exactly.
    got = pass_at_k_table(np.array([4096]), np.array([1]), 1)[0, 0]
    assert got == pytest.approx(1 / 4096, rel=1e-14)


def test_agrees_with_the_paper_harness_formula():
    for n, c in [(16, 3), (128, 5), (1024, 100), (1024, 1000)]:
        row = pass_at_k_table(np.array([n]), np.array([c]), n)[0]
        for k in (1, 2, 8, n // 2, n):
            assert row[k - 1] == pytest.approx(harness_pass_at_k(n, c, k), rel=1e-9, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=64).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))), min_size=1, max_size=30))
def test_properties(problems):
    n = np.array([p[0] for p in problems])
    c = np.array([p[1] for p in problems])
    curve = pass_at_k(n, c, beyond_n="truncate").values
    assert len(curve) == n.min()
    assert np.all(np.diff(curve) >= -1e-12)  # non-decreasing in k
    assert curve[0] == pytest.approx(np.mean(c / n), abs=1e-12)  # pass@1 = mean accuracy
    carried = pass_at_k(n, c, beyond_n="carry").values
    assert len(carried) == n.max()
    assert carried[-1] == pytest.approx(np.mean(c > 0), abs=1e-12)  # pass@max n = fraction solved
    assert np.all(np.diff(carried) >= -1e-12)
    if len(set(n.tolist())) == 1:
        assert curve[-1] == pytest.approx(np.mean(c > 0), abs=1e-12)


def test_mean_over_problems_with_grouping():
    n = np.array([10, 10, 10, 10, 20])
    c = np.array([0, 3, 3, 10, 1])
    res = pass_at_k(n, c, beyond_n="carry")
    for k in (1, 5, 10, 15, 20):
        want = np.mean([float(exact(ni, ci, k)) if k <= ni else float(ci > 0) for ni, ci in zip(n, c)])
        assert res.at(k) == pytest.approx(want, abs=1e-13)
    assert len(pass_at_k(n, c).values) == 10  # truncate: stops at min n


def test_bootstrap_bands_are_seeded_and_bracket_the_estimate():
    rng = np.random.default_rng(1)
    n = np.full(300, 32)
    c = rng.binomial(32, rng.uniform(0, 1, 300))
    a = pass_at_k(n, c, bootstrap=400, seed=7)
    b = pass_at_k(n, c, bootstrap=400, seed=7)
    assert np.array_equal(a.lower, b.lower) and np.array_equal(a.upper, b.upper)
    assert np.all(a.lower <= a.values + 1e-12) and np.all(a.values <= a.upper + 1e-12)
    assert np.all(a.upper - a.lower < 0.2)
    assert np.any(a.upper - a.lower > 0)


def test_crossover():
    base = np.array([0.2, 0.4, 0.6, 0.8, 0.9])
    rl = np.array([0.5, 0.6, 0.65, 0.7, 0.75])
    assert crossover_k(base, rl) == 4
    assert crossover_k(rl, base) is None
    assert crossover_k(base, base) == 1
    # dips below again later: the crossover is after the last dip
    assert crossover_k(np.array([0.1, 0.9, 0.5, 0.9]), np.array([0.5, 0.5, 0.6, 0.6])) == 4


def test_report_ks():
    assert report_ks(1) == [1]
    assert report_ks(8) == [1, 2, 4, 8]
    assert report_ks(12) == [1, 2, 4, 8, 12]


def test_histogram_bins_are_exact():
    assert len(BIN_LABELS) == 12
    n = np.array([10, 10, 10, 10, 10, 100, 100, 7])
    c = np.array([0, 1, 3, 9, 10, 91, 99, 7])
    h = accuracy_histogram(n, c)
    assert h.sum() == len(n)
    assert h[0] == 1 and h[1] == 1 and h[3] == 1 and h[9] == 1  # 0.3 -> (0.2,0.3]; 0.9 -> (0.8,0.9]
    assert h[10] == 2 and h[11] == 2  # 0.91, 0.99 -> (0.9,1); 10/10, 7/7 -> 1


def test_coverage():
    cov = coverage({"p1": True, "p2": True, "p3": False, "p4": False, "p5": True}, {"p1": True, "p2": False, "p3": True, "p4": False, "p6": False})
    assert cov.both == ["p1"] and cov.only_a == ["p2"] and cov.only_b == ["p3"] and cov.neither == ["p4"]
    assert cov.missing_b == ["p5"] and cov.missing_a == ["p6"]


def test_cohens_kappa():
    # textbook example: 50 items, 20 yes/yes, 15 no/no, 5 yes/no, 10 no/yes -> kappa 0.4
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohens_kappa(a, b) == pytest.approx(0.4)
    assert cohens_kappa(["x", "x"], ["x", "x"]) is None
    rows = pairwise_kappa({"ann": {("sample", "1"): "novel", ("sample", "2"): "unsure"}, "bob": {("sample", "1"): "novel", ("sample", "3"): "novel"}})
    assert rows == [{"reviewers": ["ann", "bob"], "targets": 1, "agreement": 1.0, "kappa": None}]
