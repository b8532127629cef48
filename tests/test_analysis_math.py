"""pathscope analyze + export on real multi-sample CoTs (math_cot_100, a few problems)."""

from __future__ import annotations

import json

import pytest

from analysis_runs import math_cot_run
from conftest import MATH_COT_100, require_shared
from pathscope import open_run
from pathscope.analysis.pipeline import AnalyzeOptions, analyze
from pathscope.analysis.step_tree import check_invariants
from pathscope.export import export
from pathscope.store import analysis as q

pytest.importorskip("sentence_transformers")


@pytest.mark.slow
def test_real_cots_end_to_end(run_path, tmp_path):
    path = require_shared(MATH_COT_100)
    with open_run(run_path) as run:
        # Problems 0-3: all correct; the file's first mixed problem is among the first 12.
        base, rl = math_cot_run(run, path, n_problems=4)
        summary = analyze(run, AnalyzeOptions())
        n = run.count("samples")
        assert n == 32 and summary["embed"]["embedded"] == 32
        assert run.one("SELECT count(*) FROM embeddings WHERE step_idx = -1")[0] == 32
        assert run.count("cluster_members") == 32
        for pid in q.problem_ids(run, [base, rl], None):
            nodes, paths = q.tree_rows(run, pid)
            assert check_invariants(nodes, paths) == []
            assert len(paths) == 8
            # Bounded: every non-other node is shared by at least two samples.
            assert all(nd["counts"]["n"] >= 2 for nd in nodes if not nd["is_other"])
        correct_rl = run.one("SELECT count(*) FROM verdict WHERE model_id = ? AND correct", [rl])[0]
        assert run.count("evidence") == correct_rl == summary["evidence"]["rows"]
        # Same-model samples split in two "models": their nearest base samples are close.
        assert run.one("SELECT min(similarity) FROM evidence")[0] > 0.7
        out = tmp_path / "clusters.jsonl"
        export(run, "clusters", "jsonl", out)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert len(rows) == run.count("clusters")
        assert sum(m["n"] for r in rows for m in r["members"]) == 32
        md = tmp_path / "clusters.md"
        export(run, "clusters", "md", md)
        assert md.read_text().count("## Problem") == 4
