"""The synthetic paper-scale run generator (bench/make_synthetic_run.py), at toy size."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("make_synthetic_run", REPO / "bench" / "make_synthetic_run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shape_answers_and_verdicts(tmp_path):
    from pathscope import open_run

    mod = _module()
    info = mod.make_synthetic_run(tmp_path / "s.duckdb", n_problems=30, n_samples=16, seed=3)
    assert info["samples"] == 2 * 30 * 16
    with open_run(tmp_path / "s.duckdb", read_only=True) as run:
        assert sorted(m.role for m in run.models()) == ["base", "rl"]
        assert run.count("problems") == 30
        assert run.count("verdicts") == 2 * 30 * 16
        # Every finished CoT ends in \boxed{extracted}; truncated ones have no box.
        bad = run.one(
            """SELECT count(*) FROM samples s JOIN verdicts v USING (model_id, problem_id, sample_idx)
               WHERE (s.finish_reason = 'stop' AND NOT s.text LIKE '%\\boxed{' || v.extracted || '}$.')
                  OR (s.finish_reason = 'length' AND (s.text LIKE '%boxed%' OR v.correct))"""
        )[0]
        assert bad == 0
        # A verdict is correct exactly when the extracted answer is the problem's answer.
        wrong = run.one(
            """SELECT count(*) FROM verdicts v JOIN problems p USING (problem_id)
               WHERE v.extracted IS NOT NULL AND v.correct <> (v.extracted = p.answer)"""
        )[0]
        assert wrong == 0
        # Answers repeat: far fewer distinct answers than samples per problem.
        distinct = run.one("SELECT max(d) FROM (SELECT count(DISTINCT extracted) d FROM verdicts GROUP BY model_id, problem_id)")[0]
        assert distinct <= 12


def test_reproducible_and_refuses_overwrite(tmp_path):
    from pathscope import open_run

    mod = _module()
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    mod.make_synthetic_run(a, n_problems=12, n_samples=8, seed=7)
    mod.make_synthetic_run(b, n_problems=12, n_samples=8, seed=7)
    q = "SELECT model_id, problem_id, sample_idx, md5(text) FROM samples ORDER BY ALL"
    with open_run(a, read_only=True) as ra, open_run(b, read_only=True) as rb:
        assert ra.con.execute(q).fetchall() == rb.con.execute(q).fetchall()
    with pytest.raises(FileExistsError):
        mod.make_synthetic_run(a, n_problems=12, n_samples=8, seed=7)
    # ensure_synthetic_run reuses a file built with the same arguments.
    assert mod.ensure_synthetic_run(a, n_problems=12, n_samples=8, seed=7).get("reused")


def test_script_entry(tmp_path):
    out = tmp_path / "c.duckdb"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "make_synthetic_run.py"), str(out), "--problems", "5", "--samples", "4", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"samples": 40' in proc.stdout
