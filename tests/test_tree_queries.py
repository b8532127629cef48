"""The step-tree and cluster queries on a run with a known tree."""

from __future__ import annotations

import pytest

import review_data
from pathscope import open_run
from pathscope.store import tree_queries as t


@pytest.fixture
def con(run_path, tmp_path_factory):
    review_data.make_run(run_path, tmp_path_factory)
    run = open_run(run_path, read_only=True)
    cur = run.con.cursor()
    yield cur
    cur.close()
    run.close()


B, R = 1, 2  # model ids of review_data's base and rl


def test_children_counts_and_order(con):
    roots, total = t.children(con, "p1", None, B, R)
    assert total == 1 and roots[0]["node_id"] == 0
    assert (roots[0]["base_n"], roots[0]["base_correct"], roots[0]["rl_n"], roots[0]["rl_correct"]) == (8, 3, 8, 6)
    kids, total = t.children(con, "p1", 0, B, R)
    # 'equation' (3 base + 8 rl) before 'enumerate' (5 base)
    assert [(k["node_id"], k["base_n"], k["rl_n"], k["n_children"]) for k in kids] == [(1, 3, 8, 2), (2, 5, 0, review_data.WIDE)]
    assert total == 2


def test_children_slices_keep_other_last(con):
    first, total = t.children(con, "p1", 2, B, R, offset=0, limit=50)
    last, _ = t.children(con, "p1", 2, B, R, offset=100, limit=50)
    assert total == review_data.WIDE and len(first) == 50 and len(last) == 20
    assert [k["node_id"] for k in first[:5]] == [10, 11, 12, 13, 14]  # the travelled ones first
    assert last[-1]["is_other"] and last[-1]["node_id"] == 10 + review_data.WIDE - 1
    assert t.child_rank(con, "p1", last[-1]["node_id"], B, R) == review_data.WIDE - 1


def test_counts_add_up(con):
    # every node's count equals the sum over its children plus samples ending there
    kids, _ = t.children(con, "p1", 1, B, R)
    assert sum(k["rl_n"] for k in kids) == 8 and sum(k["base_n"] for k in kids) == 3


def test_divergence_path_and_rl_only(con):
    d = t.divergence(con, "p1", B, R)
    assert d["node_id"] == 3 and d["depth"] == 2
    assert t.path_to(con, "p1", 3) == [0, 1, 3]
    assert t.rl_only_count(con, "p1", B, R) == 1  # node 4, 'symmetry'
    assert t.divergence(con, "p2", B, R) is None  # no tree stored


def test_node_samples(con):
    rows, total = t.node_samples(con, "p1", 4, [B, R])
    assert total == 4 and {r["model"] for r in rows} == {"rl"}
    rows, total = t.node_samples(con, "p1", 1, [B, R], limit=5)
    assert total == 11 and len(rows) == 5


def test_clusters_and_filter(con):
    cl = {c["cluster_id"]: c for c in t.clusters(con, "p1", B, R)}
    assert (cl[0]["base_n"], cl[0]["base_correct"], cl[0]["rl_n"], cl[0]["rl_correct"]) == (3, 3, 4, 3)
    assert cl[1]["label"] == "symmetry shortcut" and cl[1]["medoid_sample_idx"] == 5
    only = t.clusters(con, "p1", B, R, rl_without_base=True)
    assert [c["cluster_id"] for c in only] == [1]
    members, total = t.cluster_members(con, "p1", 0)
    assert total == 7 and [m["model"] for m in members] == ["base"] * 3 + ["rl"] * 4
