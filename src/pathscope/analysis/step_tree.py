"""The reasoning search tree of one problem: where CoTs share steps and where they part.

1. Every CoT is split into steps (:mod:`pathscope.analysis.text`); only the
   first ``max_depth`` steps take part.
2. At each depth, the steps of all samples that reach it are clustered
   (:func:`pathscope.analysis.cluster.cluster_vectors`): step *d* of two
   samples "agree" when they fall in the same step cluster.
3. A prefix tree over those step-cluster sequences: two samples share a path
   while their steps agree and branch at the first step where they differ.

The tree is bounded: a branch taken by fewer than ``min_count`` samples
(``max(2, min_share * n)``), or beyond the ``max_children`` busiest children,
is merged into one "other" node per parent where those samples' paths end.
So every non-other node carries at least ``min_count`` samples, and a tree
has at most about ``2 * max_depth / min_share`` nodes however many samples
there are.  Node ids are assigned breadth-first with siblings by decreasing
size, so the same input always gives the same tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .cluster import cluster_vectors, ctfidf_labels, medoid, terms

DEFAULT_STEP_THRESHOLD = 0.25
DEFAULT_MAX_DEPTH = 12
DEFAULT_MIN_SHARE = 0.02
DEFAULT_MAX_CHILDREN = 8
_REP_CHARS = 1000


@dataclass(frozen=True)
class SampleRef:
    model_id: int
    model: str
    sample_idx: int
    correct: bool | None


@dataclass
class Tree:
    nodes: list[dict] = field(default_factory=list)
    #: (model_id, sample_idx, leaf_id, node_ids from the root down)
    paths: list[tuple[int, int, int, list[int]]] = field(default_factory=list)

    def graph(self):
        """The tree as a networkx DiGraph (node attributes = the node dicts)."""
        return to_networkx(self.nodes)


def verdict_key(correct: bool | None) -> str:
    return "unknown" if correct is None else ("correct" if correct else "incorrect")


def count_by_model(refs: Sequence[SampleRef]) -> dict:
    """{"<model>": {"n", "correct", "incorrect", "unknown"}} of some samples."""
    out: dict[str, dict[str, int]] = {}
    for r in refs:
        c = out.setdefault(r.model, {"n": 0, "correct": 0, "incorrect": 0, "unknown": 0})
        c["n"] += 1
        c[verdict_key(r.correct)] += 1
    return out


def build_tree(
    samples: Sequence[SampleRef],
    step_vecs: Sequence[np.ndarray],
    step_texts: Sequence[Sequence[str]],
    *,
    threshold: float = DEFAULT_STEP_THRESHOLD,
    max_depth: int = DEFAULT_MAX_DEPTH,
    min_share: float = DEFAULT_MIN_SHARE,
    max_children: int = DEFAULT_MAX_CHILDREN,
    seed: int = 0,
) -> Tree:
    """Build the step tree of one problem.

    ``step_vecs[i]`` is an (n_steps_i, dim) array of unit vectors for
    sample ``i``'s steps, ``step_texts[i]`` their texts."""
    n = len(samples)
    tree = Tree()
    if n == 0:
        return tree
    lengths = np.array([min(len(v), max_depth) for v in step_vecs], dtype=np.int64)
    min_count = max(2, math.ceil(min_share * n))
    max_children = max(2, max_children)

    # Step clusters per depth: sc[d][i] for samples that reach depth d.
    sc: list[dict[int, int]] = []
    for d in range(int(lengths.max(initial=0))):
        idx = np.flatnonzero(lengths > d)
        X = np.stack([step_vecs[i][d] for i in idx]).astype(np.float32, copy=False)
        labels = cluster_vectors(X, threshold, seed=seed + d)
        sc.append(dict(zip(idx.tolist(), labels.tolist())))

    term_cache: dict[tuple[int, int], set[str]] = {}

    def step_terms(i: int, d: int) -> set[str]:
        key = (i, d)
        if key not in term_cache:
            term_cache[key] = terms(step_texts[i][d])
        return term_cache[key]

    node_path: dict[int, list[int]] = {}  # sample -> node ids so far
    # Queue of (parent node id or None, members reaching this depth, depth).
    queue: list[tuple[int | None, list[int], int]] = []
    empty = [i for i in range(n) if lengths[i] == 0]
    starting = [i for i in range(n) if lengths[i] > 0]
    if starting:
        queue.append((None, starting, 0))
    next_id = 0
    nodes: list[dict] = []

    def new_node(parent, depth, members, label, is_other, step_cluster, rep_text, rep) -> int:
        nonlocal next_id
        nid = next_id
        next_id += 1
        refs = [samples[i] for i in members]
        nodes.append(
            {
                "node_id": nid, "parent_id": parent, "depth": depth, "label": label,
                "rep_text": rep_text, "is_other": is_other, "n_children": 0,
                "counts": {"n": len(members), "end": 0, "models": count_by_model(refs),
                           "step_cluster": step_cluster, "rep": rep},
            }
        )
        if parent is not None:
            nodes[parent]["n_children"] += 1
        for i in members:
            node_path.setdefault(i, []).append(nid)
        return nid

    def representative(members: list[int], d: int) -> tuple[str, list[int]]:
        X = np.stack([step_vecs[i][d] for i in members])
        j = members[medoid(X, np.arange(len(members)))]
        text = step_texts[j][d]
        if len(text) > _REP_CHARS:
            text = text[:_REP_CHARS] + "…"
        return text, [samples[j].model_id, samples[j].sample_idx]

    head = 0
    while head < len(queue):
        parent, members, d = queue[head]
        head += 1
        groups: dict[int, list[int]] = {}
        for i in members:
            groups.setdefault(sc[d][i], []).append(i)
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        kept = [(c, g) for c, g in ordered if len(g) >= min_count]
        if len(kept) > max_children - 1 and len(kept) < len(ordered) or len(kept) > max_children:
            kept = kept[: max_children - 1]
        kept_ids = {c for c, _ in kept}
        rare = [i for c, g in ordered if c not in kept_ids for i in g]
        sibling_docs = [[step_terms(i, d) for i in g] for _, g in kept]
        if rare:
            sibling_docs.append([step_terms(i, d) for i in rare])
        labels = ctfidf_labels(sibling_docs) if sibling_docs else []
        for k, (c, g) in enumerate(kept):
            rep_text, rep = representative(g, d)
            nid = new_node(parent, d, g, labels[k] or rep_text[:40], False, int(c), rep_text, rep)
            ending = [i for i in g if lengths[i] == d + 1]
            nodes[nid]["counts"]["end"] = len(ending)
            going = [i for i in g if lengths[i] > d + 1]
            if going:
                queue.append((nid, going, d + 1))
        if rare:
            n_branches = len(ordered) - len(kept)
            rep_text, rep = representative(rare, d)
            label = f"other ({n_branches} branch{'es' if n_branches != 1 else ''})"
            nid = new_node(parent, d, rare, label, True, None, rep_text, rep)
            nodes[nid]["counts"]["end"] = len(rare)
    if empty:
        nid = new_node(None, 0, empty, "(no reasoning text)", True, None, "", None)
        nodes[nid]["counts"]["end"] = len(empty)

    tree.nodes = nodes
    for i in range(n):
        ids = node_path[i]
        tree.paths.append((samples[i].model_id, samples[i].sample_idx, ids[-1], ids))
    return tree


def to_networkx(nodes: Sequence[dict]):
    """A DiGraph of stored or built nodes (edges parent -> child)."""
    import networkx as nx

    g = nx.DiGraph()
    for node in nodes:
        g.add_node(node["node_id"], **node)
    for node in nodes:
        if node["parent_id"] is not None:
            g.add_edge(node["parent_id"], node["node_id"])
    return g


def check_invariants(nodes: Sequence[dict], paths: Sequence[tuple[int, int, int, list[int]]]) -> list[str]:
    """What is wrong with a tree (an empty list when nothing is).

    Checked: it is a forest; each node's n = end + children's n, and equals
    the number of paths through it; per-model counts add up the same way;
    every path starts at a root, follows edges, and ends at its leaf."""
    import networkx as nx

    problems: list[str] = []
    g = to_networkx(nodes)
    if not nx.is_forest(g):
        problems.append("not a forest")
    through: dict[int, int] = {}
    ends: dict[int, int] = {}
    for m, s, leaf, ids in paths:
        if not ids or ids[-1] != leaf:
            problems.append(f"sample {m}/{s}: path does not end at its leaf")
            continue
        if g.nodes[ids[0]]["parent_id"] is not None:
            problems.append(f"sample {m}/{s}: path does not start at a root")
        for a, b in zip(ids, ids[1:]):
            if not g.has_edge(a, b):
                problems.append(f"sample {m}/{s}: {a}->{b} is not an edge")
        for x in ids:
            through[x] = through.get(x, 0) + 1
        ends[leaf] = ends.get(leaf, 0) + 1
    for x in g.nodes:
        c = g.nodes[x]["counts"]
        kids = list(g.successors(x))
        if c["n"] != c["end"] + sum(g.nodes[k]["counts"]["n"] for k in kids):
            problems.append(f"node {x}: n != end + children")
        if c["n"] != through.get(x, 0):
            problems.append(f"node {x}: n={c['n']} but {through.get(x, 0)} paths pass through")
        if c["end"] != ends.get(x, 0):
            problems.append(f"node {x}: end={c['end']} but {ends.get(x, 0)} paths end here")
        if sum(v["n"] for v in c["models"].values()) != c["n"]:
            problems.append(f"node {x}: per-model counts do not add up to n")
        for v in c["models"].values():
            if v["correct"] + v["incorrect"] + v["unknown"] != v["n"]:
                problems.append(f"node {x}: verdict counts do not add up")
        if g.nodes[x]["n_children"] != len(kids):
            problems.append(f"node {x}: n_children wrong")
    return problems
