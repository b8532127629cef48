"""`pathscope merge`: shards from different machines into one run."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from pathscope import open_run
from pathscope.errors import InputError, RunError
from pathscope.store.merge import merge_runs

PROBLEMS = pa.table({"problem_id": ["a", "b"], "prompt": ["1+1?", "2+2?"], "answer": ["2", "4"], "kind": ["math", "math"]})
PARAMS = {"temperature": 0.6, "top_p": 0.95, "max_tokens": 64, "stop": [], "prompt": {"template": "qwen-boxed"}}


def shard(path, models, problems=PROBLEMS):
    """models: {name: (role, [sample_idx...], params)}"""
    with open_run(path) as run:
        run.add_problems(problems)
        for name, (role, idxs, params) in models.items():
            mid = run.ensure_model(name, role, f"/models/{name}", "vllm", params)
            keys = [(p, i) for p in ("a", "b") for i in idxs]
            run.add_samples(pa.table({
                "model_id": [mid] * len(keys), "problem_id": [k[0] for k in keys], "sample_idx": [k[1] for k in keys],
                "text": [f"{name} {p} {i} \\boxed{{2}}" for p, i in keys], "seed": [i for _, i in keys],
            }))
            run.con.execute(
                "INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) "
                "SELECT model_id, problem_id, sample_idx, 'math', '2', problem_id = 'a' FROM samples WHERE model_id = ?", [mid])
        st = run.start_stage("sample", {"models": list(models)})
        run.finish_stage(st)
    return path


def test_merge_models_and_index_ranges(tmp_path):
    # Machine 1: base 0..3 and rl 0..1; machine 2: rl (different id there) 2..3.
    s1 = shard(tmp_path / "s1.duckdb", {"base": ("base", range(4), PARAMS), "rl": ("rl", range(2), PARAMS)})
    s2 = shard(tmp_path / "s2.duckdb", {"rl": ("rl", range(2, 4), PARAMS)})
    with open_run(s2) as run:  # scored under rl by machine 2
        rl = run.model("rl").model_id
        run.con.execute("INSERT INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl) "
                        "SELECT model_id, problem_id, sample_idx, model_id, 1.5 FROM samples")
    out = tmp_path / "all.duckdb"
    report = merge_runs(out, [s1, s2])
    assert [s["samples"] for s in report["shards"]] == [12, 4]
    with open_run(out, read_only=True) as run:
        assert [(m.name, m.role) for m in run.models()] == [("base", "base"), ("rl", "rl")]
        rl = run.model("rl").model_id
        assert run.one("SELECT count(*) FROM samples WHERE model_id = ?", [rl])[0] == 8
        assert run.one("SELECT list(DISTINCT sample_idx ORDER BY sample_idx) FROM samples WHERE model_id = ?", [rl])[0] == [0, 1, 2, 3]
        assert run.count("problems") == 2 and run.count("verdicts") == 16
        assert run.one("SELECT count(*), min(scorer_model_id) FROM scores") == (4, rl)
        assert run.one("SELECT text FROM samples WHERE model_id = ? AND problem_id = 'b' AND sample_idx = 3", [rl])[0] == "rl b 3 \\boxed{2}"
        assert len(run.stages()) == 2 and "merged_from" in run.stages()[1]["params"]
    assert not list(tmp_path.glob(".all.duckdb.merging*"))


def test_collision_is_refused_naming_shard_and_key(tmp_path):
    s1 = shard(tmp_path / "s1.duckdb", {"rl": ("rl", range(0, 4), PARAMS)})
    s2 = shard(tmp_path / "s2.duckdb", {"rl": ("rl", range(3, 6), PARAMS)})
    out = tmp_path / "all.duckdb"
    with pytest.raises(RunError) as err:
        merge_runs(out, [s1, s2])
    msg = str(err.value)
    assert str(s2) in msg and "model 'rl'" in msg and "problem 'a'" in msg and "sample_idx 3" in msg
    assert not out.exists() and not list(tmp_path.glob(".all.duckdb*"))


@pytest.mark.parametrize(
    "second, needle",
    [
        ({"rl": ("base", range(2, 4), PARAMS)}, "role"),
        ({"rl": ("rl", range(2, 4), {**PARAMS, "temperature": 1.0})}, "temperature"),
    ],
)
def test_disagreeing_models_are_refused(tmp_path, second, needle):
    s1 = shard(tmp_path / "s1.duckdb", {"rl": ("rl", range(2), PARAMS)})
    s2 = shard(tmp_path / "s2.duckdb", second)
    with pytest.raises(RunError, match=needle):
        merge_runs(tmp_path / "out.duckdb", [s1, s2])
    assert not (tmp_path / "out.duckdb").exists()


def test_disagreeing_problems_are_refused(tmp_path):
    s1 = shard(tmp_path / "s1.duckdb", {"rl": ("rl", range(2), PARAMS)})
    other = PROBLEMS.set_column(1, "prompt", pa.array(["1+1?", "2+3?"]))
    s2 = shard(tmp_path / "s2.duckdb", {"rl": ("rl", range(2, 4), PARAMS)}, problems=other)
    with pytest.raises(RunError, match="problem 'b' differs"):
        merge_runs(tmp_path / "out.duckdb", [s1, s2])


def test_bad_inputs(tmp_path):
    s1 = shard(tmp_path / "s1.duckdb", {"rl": ("rl", range(2), PARAMS)})
    with pytest.raises(InputError, match="already exists"):
        merge_runs(s1, [s1])
    with pytest.raises(InputError, match="given twice"):
        merge_runs(tmp_path / "o.duckdb", [s1, s1])
    (tmp_path / "junk.duckdb").write_text("not a run")
    with pytest.raises(RunError, match="not a pathscope run"):
        merge_runs(tmp_path / "o.duckdb", [s1, tmp_path / "junk.duckdb"])


def test_merge_cli(tmp_path):
    s1 = shard(tmp_path / "s1.duckdb", {"base": ("base", range(2), PARAMS)})
    s2 = shard(tmp_path / "s2.duckdb", {"base": ("base", range(1, 3), PARAMS)})
    out = tmp_path / "all.duckdb"
    proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "merge", str(out), str(s1), str(s2)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ") and "sample_idx 1" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
