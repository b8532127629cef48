"""pathscope analyze on a small set with planted strategies, with the real MiniLM model."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

import analysis_planted as ap
from analysis_runs import add_samples, add_verdicts, planted_run
from pathscope import open_run
from pathscope.analysis.pipeline import AnalyzeOptions, analyze
from pathscope.analysis.step_tree import check_invariants
from pathscope.store import analysis as q

pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """One analysed planted run shared by the tests of this module (read-only use)."""
    path = tmp_path_factory.mktemp("planted") / "run.duckdb"
    with open_run(path) as run:
        base, rl = planted_run(run)
        summary = analyze(run, AnalyzeOptions())
    return path, base, rl, summary


def _members(run, problem_id):
    rows = run.con.execute(
        "SELECT model_id, sample_idx, cluster_id FROM cluster_members WHERE problem_id = ? ORDER BY ALL", [problem_id]
    ).fetchall()
    return {(m, s): c for m, s, c in rows}


def test_clusters_separate_planted_strategies(planted):
    path, base, rl, summary = planted
    with open_run(path, read_only=True) as run:
        members = _members(run, "consec")
        # base 0..5 algebra, 6 a wrong algebra CoT; rl 0..1 algebra, 2..7 enumeration.
        algebra = {members[(base, i)] for i in range(6)} | {members[(rl, 0)], members[(rl, 1)]}
        enumeration = {members[(rl, i)] for i in range(2, 8)}
        assert len(algebra) == 1 and len(enumeration) == 1
        assert algebra != enumeration
        labels = dict(run.con.execute("SELECT cluster_id, label FROM clusters WHERE problem_id = 'consec'").fetchall())
        # The labels name what is distinctive: pairs/trying for enumeration, equation/n for algebra.
        assert any(w in labels[enumeration.pop()] for w in ("pair", "pairs", "try", "trying", "check", "sum"))
        # Counts per model and verdict, and a medoid that is a member.
        row = run.one("SELECT counts, medoid_model_id, medoid_sample_idx, size FROM clusters WHERE problem_id = 'consec' AND cluster_id = ?", [next(iter(algebra))])
        counts = json.loads(row[0])
        assert counts["base"] == {"n": 7, "correct": 6, "incorrect": 1, "unknown": 0}
        assert counts["rl"]["n"] == 2 and row[3] == 9
        assert members[(row[1], row[2])] == next(iter(algebra))
        # The rectangle problem is clustered on its own.
        assert set(_members(run, "area").values()) == {0}


def test_embeddings_stored_as_float_arrays(planted):
    path, *_ = planted
    with open_run(path, read_only=True) as run:
        n, dims, norms = run.one(
            "SELECT count(*), min(len(vec)), min(list_dot_product(vec, vec)) FROM embeddings WHERE step_idx = -1"
        )
        assert n == run.count("samples") == 21
        assert dims == 384
        assert norms == pytest.approx(1.0, abs=1e-4)
        # Steps are stored as spans into the text, and they cover real text.
        a, b, text = run.one(
            """SELECT st.start_char, st.end_char, s.text FROM steps st JOIN samples s USING (model_id, problem_id, sample_idx)
               WHERE st.problem_id = 'consec' AND st.step_idx = 0 ORDER BY st.model_id, st.sample_idx LIMIT 1"""
        )
        assert text[a:b].startswith("Let the smaller integer")


def test_tree_invariants_and_evidence(planted):
    path, base, rl, summary = planted
    with open_run(path, read_only=True) as run:
        for pid in ("consec", "area"):
            nodes, paths = q.tree_rows(run, pid)
            assert check_invariants(nodes, paths) == []
            # Every sample has exactly one path.
            n_samples = run.one("SELECT count(*) FROM samples WHERE problem_id = ?", [pid])[0]
            assert len(paths) == n_samples == len({(m, s) for m, s, *_ in paths})
        ev = run.df("SELECT * FROM evidence WHERE problem_id = 'consec' ORDER BY sample_idx")
        # One row per correct rl sample (all 8 are correct).
        assert list(ev.sample_idx) == list(range(8))
        algebra, enumeration = ev[ev.sample_idx < 2], ev[ev.sample_idx >= 2]
        assert algebra.shares_cluster_with_correct_base.all() and (algebra.similarity > 0.999).all()
        assert (algebra.suggested_mark == "already_in_base").all()
        assert not enumeration.shares_cluster_with_correct_base.any()
        assert (enumeration.suggested_mark == "possibly_novel").all()
        assert ev.answer_in_base.all()
        assert ((ev.confidence >= 0.5) & (ev.confidence <= 1.0)).all()
    assert summary["evidence"]["possibly_novel"] == 6


def test_identical_cots_make_one_path(run_path):
    with open_run(run_path) as run:
        m = run.ensure_model("base", role="base")
        run.add_problems(pa.table({"problem_id": ["p"], "prompt": [ap.PROBLEM], "kind": ["math"]}))
        add_samples(run, m, "p", [ap.ALGEBRA[0]] * 5)
        add_verdicts(run, m, "p", [(i, "21", True) for i in range(5)])
        analyze(run, AnalyzeOptions(stages=("embed", "cluster", "tree")))
        nodes, paths = q.tree_rows(run, "p")
        assert check_invariants(nodes, paths) == []
        assert all(not n["is_other"] for n in nodes)
        assert [n["parent_id"] for n in nodes] == [None] + [n["node_id"] for n in nodes[:-1]]  # a chain
        assert len({tuple(p[3]) for p in paths}) == 1
        assert nodes[0]["counts"]["models"]["base"] == {"n": 5, "correct": 5, "incorrect": 0, "unknown": 0}
        assert run.count("clusters") == 1


def test_resume_skips_done_and_redoes_changed(planted, tmp_path):
    import shutil

    path, base, rl, _ = planted
    copy = tmp_path / "copy.duckdb"
    shutil.copy(path, copy)
    with open_run(copy) as run:
        again = analyze(run, AnalyzeOptions())
        assert again["embed"]["embedded"] == 0
        assert again["cluster"]["problems"] == 0 and again["tree"]["problems"] == 0 and again["evidence"]["problems"] == 0
        # A new sample for one problem: only that problem is redone.
        add_samples(run, rl, "area", [ap.AREA[0]], start=10)
        add_verdicts(run, rl, "area", [(10, "84", True)])
        third = analyze(run, AnalyzeOptions())
        assert third["embed"]["embedded"] == 1
        assert third["cluster"]["problems"] == 1 and third["cluster"]["skipped"] == 1
        assert third["evidence"]["rows"] == 4
        stages = [s["stage"] for s in run.stages()]
        assert stages.count("analyze.embed") == 3


def test_long_text_is_chunked_not_truncated():
    from pathscope.analysis.embed import Embedder

    emb = Embedder(precision="fp32")
    head = ap.ALGEBRA[0]
    filler = " ".join(["The weather today is sunny and warm with a light breeze from the sea."] * 60)
    v_long, v_head, v_filler = emb.encode([head + "\n\n" + filler, head, filler])
    assert emb.info["chunked_texts"] == 2  # the long text and the filler
    pieces, owner, weight = emb.chunk([head + "\n\n" + filler])
    assert len(pieces) > 1 and set(owner.tolist()) == {0}
    assert all(len(p) <= emb.window for p in pieces)  # token ids, special tokens included
    assert weight.sum() == sum(len(p) - 2 for p in pieces)
    # The tail changes the vector (a truncating encoder would ignore it) ...
    assert float(v_long @ v_head) < 0.95
    # ... and the vector is a blend of both parts.
    assert float(v_long @ v_filler) > float(v_head @ v_filler)


def test_bf16_matches_fp32_on_real_text():
    """The auto precision check on real CoT text: bf16 kept only at cosine >= 0.998."""
    from pathscope.analysis.embed import BF16_MIN_COSINE, Embedder

    texts = ap.ALGEBRA + ap.ENUMERATION
    full = Embedder(precision="fp32").encode(texts)
    auto = Embedder(precision="auto")
    v = auto.encode(texts)
    cos = np.sum(full * v, axis=1)
    assert auto.info["dtype"] in ("bf16", "fp32")
    assert auto.info["fast_path"] is True  # MiniLM runs on the single-tokenisation path
    if auto.info["dtype"] == "bf16":
        assert auto.info["probe_min_cosine"] >= BF16_MIN_COSINE
    assert cos.min() >= BF16_MIN_COSINE - 0.001


def test_cli_analyze_and_errors(planted, tmp_path):
    import shutil
    import subprocess
    import sys

    path, *_ = planted
    copy = tmp_path / "cli.duckdb"
    shutil.copy(path, copy)
    proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "analyze", str(copy), "--stages", "cluster,evidence", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cluster"]["skipped"] == 2
    bad = subprocess.run([sys.executable, "-m", "pathscope.cli", "analyze", str(copy), "--models", "nope", "--stages", "cluster"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "pathscope.cli", "analyze", str(copy), "--stages", "embed,fly"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "fly" in bad.stderr and "Traceback" not in bad.stderr
