"""Agreement between reviewers: Cohen's kappa over the targets both marked.

Input is each reviewer's current mark per target (see
:func:`pathscope.store.metrics.current_marks`); 'cleared' or no row means no
mark.  Kappa is computed per pair of reviewers over the targets both marked.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations


def cohens_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two equally long label lists; None when undefined
    (no items, or both reviewers used a single identical label: p_e = 1)."""
    if len(a) != len(b):
        raise ValueError("label lists differ in length")
    m = len(a)
    if m == 0:
        return None
    p_o = sum(x == y for x, y in zip(a, b)) / m
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[label] * cb[label] for label in set(ca) | set(cb)) / (m * m)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1.0 - p_e)


def pairwise_kappa(marks: dict[str, dict[tuple[str, str], str]]) -> list[dict]:
    """``marks``: reviewer -> {(target_kind, target_id): label}.  One row per
    pair of reviewers: reviewers, targets both marked, observed agreement, kappa."""
    rows = []
    for ra, rb in combinations(sorted(marks), 2):
        common = sorted(set(marks[ra]) & set(marks[rb]))
        la = [marks[ra][t] for t in common]
        lb = [marks[rb][t] for t in common]
        agree = sum(x == y for x, y in zip(la, lb)) / len(common) if common else None
        rows.append({"reviewers": [ra, rb], "targets": len(common), "agreement": agree, "kappa": cohens_kappa(la, lb)})
    return rows
