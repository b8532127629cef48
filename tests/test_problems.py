"""Problem sets: recognised layouts, --map, boxed answers, errors naming file/line/field."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pathscope import open_run
from pathscope.cli import main
from pathscope.errors import InputError
from pathscope.problems import add_problem_file, default_source, load_problem_file

from conftest import BENCHMARKS, require_shared

# file -> (id field, prompt field, answer field or None, how the first answer reads)
EXPECTED = {
    "aime24": ("id", "problem", "answer", "204"),
    "amc23": ("id", "problem", "answer", "27"),
    "gsm8k": ("idx", "question", "answer", "18"),
    "math500": ("unique_id", "problem", "answer", r"\left( 3, \frac{\pi}{2} \right)"),
    "minerva_math": ("idx", "problem", None, "1.6"),
}


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shared_benchmark_loads(name):
    path = require_shared(BENCHMARKS / name / "test.jsonl")
    table, report = load_problem_file(path)
    n_lines = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert table.num_rows == n_lines == report.rows
    id_col, prompt_col, answer_col, first_answer = EXPECTED[name]
    chosen = {f.role: f.column for f in report.fields}
    assert chosen["id"] == id_col and chosen["prompt"] == prompt_col and chosen.get("answer") == answer_col
    rows = table.to_pylist()
    assert report.source == name and all(r["problem_id"].startswith(name + "/") for r in rows)
    assert len({r["problem_id"] for r in rows}) == n_lines
    assert all(r["prompt"].strip() for r in rows)
    assert all(r["answer"] for r in rows), "every benchmark problem should have an answer"
    assert rows[0]["answer"] == first_answer


def test_minerva_answers_come_from_the_last_box():
    path = require_shared(BENCHMARKS / "minerva_math" / "test.jsonl")
    table, report = load_problem_file(path)
    assert any("last \\boxed{}" in n and "272" in n for n in report.notes)
    meta = json.loads(table.column("metadata")[0].as_py())
    assert "\\boxed{1.6}" in meta["solution"] and meta["type"].startswith("Introduction to Astronomy")


def test_all_benchmarks_share_one_run(tmp_path):
    require_shared(BENCHMARKS)
    with open_run(tmp_path / "run.duckdb") as run:
        total = 0
        for name in sorted(EXPECTED):
            report = add_problem_file(run, BENCHMARKS / name / "test.jsonl")
            total += report.rows
            assert report.inserted == report.rows
        assert run.count("problems") == total
        again = add_problem_file(run, BENCHMARKS / "gsm8k" / "test.jsonl")
        assert again.inserted == 0 and again.already_present == again.rows
        assert run.count("problems") == total
        assert [s["stage"] for s in run.stages()].count("problems") == 6


def test_no_ids_become_source_and_line(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"question": "1+1?", "gt": 2}\n\n{"question": "2+2?", "gt": 4.0}\n', encoding="utf-8")
    table, report = load_problem_file(path, source="toy")
    assert table.column("problem_id").to_pylist() == ["toy/1", "toy/3"]
    assert table.column("answer").to_pylist() == ["2", "4"]
    assert any(f.role == "id" and "LINE" in f.how for f in report.fields)


def test_map_overrides_and_csv_parquet(tmp_path):
    rows = [{"q": f"What is {i}+{i}?", "a": str(2 * i), "key": f"k{i}", "question": "decoy"} for i in range(4)]
    csv_path = tmp_path / "set.csv"
    pa_table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa_table, csv_path)
    pq_path = tmp_path / "set.parquet"
    pq.write_table(pa_table, pq_path)
    for path in (csv_path, pq_path):
        table, report = load_problem_file(path, mapping={"prompt": "q", "answer": "a", "id": "key"})
        assert table.column("prompt").to_pylist() == [r["q"] for r in rows]
        assert table.column("answer").to_pylist() == ["0", "2", "4", "6"]
        assert table.column("problem_id").to_pylist() == [f"set/k{i}" for i in range(4)]
        assert {f.role: f.how for f in report.fields}["prompt"] == "mapped"


def test_missing_prompt_field_names_field_and_file(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"text": "x", "answer": "1"}])
    with pytest.raises(InputError, match=r"p\.jsonl: no prompt field .*--map prompt="):
        load_problem_file(path)


def test_missing_answer_and_solution(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"problem": "x"}])
    with pytest.raises(InputError, match="no answer field"):
        load_problem_file(path)
    table, report = load_problem_file(path, kind="code", mapping={"tests": "problem"})
    assert report.kind == "code"


def test_empty_prompt_names_the_line(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"problem": "a", "answer": "1"}, {"problem": "  ", "answer": "2"}])
    with pytest.raises(InputError, match=r"p\.jsonl:2: field 'problem' \(the prompt\) is empty"):
        load_problem_file(path)


def test_bad_json_line_names_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"problem": "a", "answer": "1"}\n{"problem": "b", "ans\n')
    with pytest.raises(InputError, match=r"p\.jsonl:2: "):
        load_problem_file(path)
    path.write_bytes(b'{"problem": "a", "answer": "1"}\n{"problem": "\xff"}\n')
    with pytest.raises(InputError, match=r"p\.jsonl:2: invalid UTF-8"):
        load_problem_file(path)


def test_map_errors(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"problem": "a", "answer": "1"}])
    with pytest.raises(InputError, match="no field 'nope'"):
        load_problem_file(path, mapping={"prompt": "nope"})
    with pytest.raises(InputError, match="no role 'promt'"):
        load_problem_file(path, mapping={"promt": "problem"})


def test_duplicate_ids(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [{"id": 1, "problem": "a", "answer": "1"}, {"id": 1, "problem": "b", "answer": "2"}])
    with pytest.raises(InputError, match=r":2: duplicate id '1' \(also on line 1\)"):
        load_problem_file(path)


def test_default_source():
    assert default_source("x/minerva_math/test.jsonl") == "minerva_math"
    assert default_source("x/gsm8k/data/test-00000-of-00001.parquet") == "gsm8k"
    assert default_source("x/y/aime_2024.jsonl") == "aime_2024"


def test_cli_problems_add(tmp_path, capsys):
    path = _write_jsonl(tmp_path / "algebra.jsonl", [{"problem": f"p{i}", "solution": f"so \\boxed{{{i}}}"} for i in range(3)])
    run = tmp_path / "run.duckdb"
    assert main(["problems", "add", str(run), str(path), "--source", "alg"]) == 0
    err = capsys.readouterr().err
    assert "3 problems, source 'alg'" in err and "last \\boxed{}" in err
    with open_run(run, read_only=True) as r:
        assert r.sql("SELECT answer FROM problems ORDER BY problem_id").column(0).to_pylist() == ["0", "1", "2"]
    assert main(["problems", "add", str(run), str(tmp_path / "none.jsonl")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "none.jsonl" in err[0]


def test_a_metadata_object_keeps_its_keys_unnested(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"id": "a", "question": "1+1?", "answer": "2", "metadata": {"kind": "add", "a": 1},
                             "level": 3}) + "\n")
    with open_run(tmp_path / "run.duckdb") as run:
        add_problem_file(run, f, source="s")
        meta = json.loads(run.one("SELECT metadata FROM problems")[0])
    assert meta == {"kind": "add", "a": 1, "level": 3}
