"""The run file: creation, migrations, refusal of foreign/newer/locked files."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pyarrow as pa
import pytest

from pathscope import open_run
from pathscope.errors import RunError, RunLockedError
from pathscope.store.schema import SCHEMA_VERSION


def test_create_and_reopen(run_path):
    with open_run(run_path) as run:
        meta = run.meta()
        assert meta["created_by"] == "pathscope"
        assert int(meta["schema_version"]) == SCHEMA_VERSION
        mid = run.ensure_model("qwen-base", role="base")
        assert run.ensure_model("qwen-base") == mid
    with open_run(run_path, read_only=True) as run:
        assert [m.name for m in run.models()] == ["qwen-base"]
        with pytest.raises(RunError, match="read-only"):
            run.ensure_model("x", role="rl")


def test_role_conflict_is_an_error(new_run):
    new_run.ensure_model("m", role="base")
    with pytest.raises(RunError, match="already has role 'base'"):
        new_run.ensure_model("m", role="rl")


def test_missing_file_read_only(tmp_path):
    with pytest.raises(RunError, match="no such run file"):
        open_run(tmp_path / "nope.duckdb", read_only=True)
    assert not (tmp_path / "nope.duckdb").exists()


def test_foreign_file_is_refused_untouched(tmp_path):
    p = tmp_path / "notes.duckdb"
    p.write_bytes(b"hello, this is not a database at all" * 100)
    before = p.read_bytes()
    with pytest.raises(RunError, match="not a pathscope run"):
        open_run(p)
    assert p.read_bytes() == before


def test_foreign_duckdb_is_refused_untouched(tmp_path):
    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE t AS SELECT 42 AS x")
    con.close()
    before = p.read_bytes()
    with pytest.raises(RunError, match="not a pathscope run"):
        open_run(p)
    assert p.read_bytes() == before
    con = duckdb.connect(str(p), read_only=True)
    assert con.execute("SELECT x FROM t").fetchall() == [(42,)]
    con.close()


def test_newer_schema_is_refused(run_path):
    with open_run(run_path) as run:
        run.set_meta("schema_version", str(SCHEMA_VERSION + 5))
    with pytest.raises(RunError, match="newer pathscope"):
        open_run(run_path)
    with pytest.raises(RunError, match="newer pathscope"):
        open_run(run_path, read_only=True)


def test_locked_by_another_process(run_path):
    with open_run(run_path) as run:
        run.ensure_model("m", role="base")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(run_path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(RunLockedError, match="open for writing by process") as info:
            open_run(run_path)
        assert info.value.pid == holder.pid
        # A snapshot still opens, read-only, while the writer holds the file.
        with open_run(run_path, snapshot=True) as snap:
            assert snap.read_only and snap.is_snapshot
            assert [m.name for m in snap.models()] == ["m"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)


def test_add_samples_is_idempotent(new_run):
    mid = new_run.ensure_model("m", role="base")
    new_run.add_problems(pa.table({"problem_id": ["p1"], "prompt": ["1+1?"], "answer": ["2"], "kind": ["math"]}))
    tbl = pa.table({
        "model_id": [mid] * 3, "problem_id": ["p1"] * 3, "sample_idx": [0, 1, 2],
        "text": ["a", "b", "c"],
    })
    assert new_run.add_samples(tbl) == 3
    assert new_run.add_samples(tbl) == 0
    assert new_run.count("samples") == 3
    df = new_run.sql("SELECT sample_idx, text FROM samples ORDER BY sample_idx")
    assert df.column("text").to_pylist() == ["a", "b", "c"]


def test_add_problems_keeps_existing(new_run):
    t = pa.table({"problem_id": ["a", "b", "b"], "prompt": ["x", "y", "y2"], "kind": ["math"] * 3})
    assert new_run.add_problems(t) == (2, 0)
    assert new_run.add_problems(t) == (0, 2)
    assert new_run.problem("b")["prompt"] == "y"  # the first row of a repeated id


def test_add_problems_keeps_file_order(new_run):
    ids = [f"q{i:04d}" for i in range(5000)][::-1]
    new_run.add_problems(pa.table({"problem_id": ids, "prompt": ids}))
    assert new_run.sql("SELECT problem_id FROM problems ORDER BY rowid").column("problem_id").to_pylist() == ids


def test_transaction_rolls_back(new_run):
    with pytest.raises(KeyboardInterrupt):
        with new_run.transaction():
            new_run.ensure_model("m", role="base")
            raise KeyboardInterrupt
    assert new_run.models() == []


def test_verdict_view_prefers_real_verifier(new_run):
    con = new_run.con
    con.execute("INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) VALUES (1,'p',0,'imported','3',true)")
    assert con.execute("SELECT verifier, correct FROM verdict").fetchall() == [("imported", True)]
    con.execute("INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) VALUES (1,'p',0,'math','3',false)")
    assert con.execute("SELECT verifier, correct FROM verdict").fetchall() == [("math", False)]


def test_add_problems_defaults_kind_to_math(new_run):
    new_run.add_problems(pa.table({"problem_id": ["a", "b"], "prompt": ["x", "y"]}))
    new_run.add_problems(pa.table({"problem_id": ["c"], "prompt": ["z"], "kind": pa.array([None], pa.string())}))
    assert new_run.sql("SELECT kind FROM problems ORDER BY problem_id").column("kind").to_pylist() == ["math"] * 3
