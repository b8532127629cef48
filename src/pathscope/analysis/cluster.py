"""Strategy clusters of one problem's CoTs, from their embeddings.

Method: average-linkage agglomerative clustering on cosine distance, cut at a
distance threshold (docs/analysis.md explains the choice over HDBSCAN with
measurements).  Deterministic: no random state, except that past
``max_exact`` points a seeded sample is clustered and the rest join the
nearest cluster centroid, which bounds time and memory at paper scale.

Cluster ids are 0.. in decreasing size (ties: the cluster whose first member
comes first), so ids are stable across re-runs on the same data.

Labels are c-TF-IDF terms: words frequent in a cluster's CoTs and rare in the
problem's other clusters.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

import numpy as np

#: Cosine distance at which average-linkage merging stops (measured: docs/analysis.md).
DEFAULT_THRESHOLD = 0.25
#: Beyond this many points, cluster a seeded sample and assign the rest.
MAX_EXACT = 3000

_WORD = re.compile(r"\\[a-zA-Z]+|[a-zA-Z][a-zA-Z'\-]{2,}")
_STOP = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    him his how i if in into is it its itself just let lets let's me more most my no nor not now of off on once only
    or other our ours out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while who whom why will
    with would you your yours
    answer answers final thus therefore hence need needs find finding found given gives give get gets got using use
    used solve solving solution step steps first next second third last finally now value values number numbers
    calculate calculating calculation determine determining compute computing result results simplify simplifying
    problem one two three four five six seven eight nine ten since know equal equals follows following form write
    written expression expressions each into well way ways make makes made start consider considering
    \\( \\) \\[ \\] \\text \\boxed \\cdot \\times \\left \\right \\quad \\qquad \\implies \\frac \\dfrac \\tfrac
    \\begin \\end \\mathrm \\mathbf \\displaystyle \\ldots \\dots \\cdots \\approx \\le \\ge \\leq \\geq \\ne \\neq
    """.split()
)


def cluster_vectors(
    X: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    max_exact: int = MAX_EXACT,
    seed: int = 0,
) -> np.ndarray:
    """Cluster L2-normalised rows of ``X``; returns labels 0..k-1 by size."""
    n = len(X)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    if n > max_exact:
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(n, size=max_exact, replace=False))
        sub = _agglomerative(X[pick], threshold)
        cents = _centroids(X[pick], sub)
        raw = np.argmax(X @ cents.T, axis=1)
        raw[pick] = sub
    else:
        raw = _agglomerative(X, threshold)
    return _relabel(raw)


def _agglomerative(X: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage

    # Cosine distance of unit vectors; clip float noise so distances stay >= 0.
    D = np.clip(1.0 - (X @ X.T).astype(np.float64), 0.0, 2.0)
    iu = np.triu_indices(len(X), k=1)
    Z = linkage(D[iu], method="average")
    return fcluster(Z, t=threshold, criterion="distance") - 1


def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    C = np.zeros((k, X.shape[1]), dtype=np.float64)
    np.add.at(C, labels, X)
    C /= np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    return C.astype(np.float32)


def _relabel(raw: np.ndarray) -> np.ndarray:
    """Ids by decreasing size, ties by first occurrence: reproducible."""
    uniq, first, counts = np.unique(raw, return_index=True, return_counts=True)
    order = sorted(range(len(uniq)), key=lambda i: (-counts[i], first[i]))
    remap = np.empty(int(uniq.max()) + 1, dtype=np.int64)
    for new, i in enumerate(order):
        remap[uniq[i]] = new
    return remap[raw]


def medoid(X: np.ndarray, members: np.ndarray) -> int:
    """Index (into X) of the member with the largest summed cosine to the others.

    For unit vectors the sum of cosines of x_i to all members is x_i . S with
    S the members' sum, so the exact medoid costs O(n d), not O(n^2 d)."""
    sub = X[members]
    scores = sub @ sub.sum(axis=0)
    return int(members[int(np.argmax(scores))])


def terms(text: str) -> set[str]:
    """The distinct label-worthy terms of a text (words and LaTeX commands)."""
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOP and not w.endswith("'s")}


def ctfidf_labels(docs: Sequence[Sequence[set[str]]], n_terms: int = 3) -> list[str]:
    """One label per cluster: its ``n_terms`` highest c-TF-IDF terms.

    ``docs[c]`` holds each member's term set (a term counts once per member,
    so one verbose CoT cannot dominate).  Weight of term t in cluster c:
    ``tf(t, c) * log(1 + A / f(t))`` with tf the share of c's members that use
    t, f(t) the number of members over all clusters that use it, and A the
    mean cluster size; ties break alphabetically, so labels are reproducible.
    Terms used by fewer than two members (or by none, for a singleton) are skipped.
    """
    counts = [Counter(t for member in cluster for t in member) for cluster in docs]
    total = Counter()
    for c in counts:
        total.update(c)
    sizes = [max(len(cluster), 1) for cluster in docs]
    A = sum(sizes) / max(len(sizes), 1)
    labels = []
    for c, size in zip(counts, sizes):
        need = 2 if size >= 2 else 1
        scored = [
            (-(k / size) * math.log(1.0 + A / total[t]), t)
            for t, k in c.items()
            if k >= need
        ]
        scored.sort()
        labels.append(", ".join(t for _, t in scored[:n_terms]))
    return labels
