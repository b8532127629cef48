"""Importing generations: a round trip per format on real run files, the shared
math_cot_100 file, problem matching, atomicity and the CLI."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pathscope import open_run
from pathscope.cli import main
from pathscope.errors import InputError, RunError
from pathscope.importers import import_file
from pathscope.problems import add_problem_file

from conftest import MATH_COT_100, require_shared

PROBLEMS = [
    {"id": 7, "question": "What is 1+1?", "answer": "2"},
    {"id": 8, "question": "What is $\\frac{1}{2}+\\frac{1}{2}$?", "answer": "1"},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _samples_rows():
    rows = []
    for p in PROBLEMS:
        for s in range(3):
            text = f"Thinking about {p['id']} (try {s})... so \\boxed{{{p['answer'] if s else 0}}}"
            rows.append({"problem_id": p["id"], "sample_idx": s, "question": p["question"], "gt": p["answer"],
                         "response": text, "pred": p["answer"] if s else "0", "correct": s > 0, "n_tokens": 10 + s})
    return rows


def _counts(run):
    return {t: run.count(t) for t in ("models", "problems", "samples", "verdicts", "stages")}


def _stored(run, model="m"):
    return run.sql(
        """SELECT s.problem_id, s.sample_idx, s.text, s.n_tokens, v.extracted, v.correct, v.verifier
        FROM samples s JOIN models USING (model_id) LEFT JOIN verdicts v USING (model_id, problem_id, sample_idx)
        WHERE name = ? ORDER BY s.problem_id, s.sample_idx""",
        [model],
    ).to_pylist()


def _check_round_trip(run, rows, source):
    stored = _stored(run)
    assert len(stored) == len(rows)
    by_key = {(f"{source}/{r['problem_id']}", r["sample_idx"]): r for r in rows}
    for s in stored:
        r = by_key[(s["problem_id"], s["sample_idx"])]
        assert s["text"] == r["response"] and s["extracted"] == r["pred"]
        assert s["correct"] == r["correct"] and s["verifier"] == "imported"
    probs = {p["problem_id"]: p for p in run.sql("SELECT * FROM problems").to_pylist()}
    for p in PROBLEMS:
        assert probs[f"{source}/{p['id']}"]["prompt"] == p["question"]
        assert probs[f"{source}/{p['id']}"]["answer"] == p["answer"]


def test_samples_jsonl_round_trip(new_run, tmp_path):
    rows = _samples_rows()
    path = _jsonl(tmp_path / "gen.jsonl", rows)
    report = import_file(new_run, path, model="m", role="rl")
    assert report.format == "samples"
    assert (report.samples_added, report.problems_created, report.verdicts_added) == (6, 2, 6)
    _check_round_trip(new_run, rows, "gen")
    assert [s["n_tokens"] for s in _stored(new_run)] == [10, 11, 12] * 2
    assert new_run.model("m").role == "rl" and new_run.model("m").backend == "imported"
    again = import_file(new_run, path, model="m")
    assert again.samples_added == 0 and again.samples_existing == 6 and again.verdicts_added == 0
    assert new_run.count("samples") == 6 and new_run.count("verdicts") == 6


def test_samples_csv_and_parquet_round_trip(tmp_path):
    rows = _samples_rows()
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    csv_rows = [{**r, "correct": "true" if r["correct"] else "false"} for r in rows]
    import pyarrow.csv as pacsv

    pacsv.write_csv(pa.table({k: [r[k] for r in csv_rows] for k in rows[0]}), tmp_path / "gen.csv")
    pq.write_table(table, tmp_path / "gen.parquet")
    for name in ("gen.csv", "gen.parquet"):
        with open_run(tmp_path / f"{name}.duckdb") as run:
            report = import_file(run, tmp_path / name, model="m")
            assert report.samples_added == 6 and report.verdicts_added == 6
            _check_round_trip(run, rows, "gen")


def _grouped_rows():
    return [
        {"idx": p["id"], "problem": p["question"], "answer": p["answer"],
         "responses": [f"r{p['id']}-{s} \\boxed{{{s}}}" for s in range(4)],
         "preds": [str(s) for s in range(4)], "scores": [1.0, 0.0, 1.0, 0.0]}
        for p in PROBLEMS
    ]


def test_grouped_jsonl_and_parquet_round_trip(tmp_path):
    rows = _grouped_rows()
    _jsonl(tmp_path / "g.jsonl", rows)
    pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), tmp_path / "g.parquet")
    for name in ("g.jsonl", "g.parquet"):
        with open_run(tmp_path / f"{name}.duckdb") as run:
            report = import_file(run, tmp_path / name, model="m")
            assert report.format == "grouped"
            assert (report.records, report.samples_added, report.verdicts_added) == (2, 8, 8)
            stored = _stored(run)
            assert [s["text"] for s in stored] == [t for r in rows for t in r["responses"]]
            assert [s["sample_idx"] for s in stored] == [0, 1, 2, 3] * 2
            assert [s["correct"] for s in stored] == [True, False, True, False] * 2
            assert [s["extracted"] for s in stored] == ["0", "1", "2", "3"] * 2


def test_qwen_eval_round_trip(new_run, tmp_path):
    rows = [
        {"idx": 0, "question": "Compute $2^3$.", "gt_cot": "It is \\boxed{8}.", "gt": "8",
         "code": ["2*2*2 = 8, \\boxed{8}", "\\boxed{6}"], "pred": ["8", "6"], "report": [None, None], "score": [True, False]},
        {"idx": 1, "question": "Compute $3^2$.", "gt_cot": "It is \\boxed{9}.", "gt": "9",
         "code": ["\\boxed{9}", "\\boxed{9}"], "pred": ["9", "9"], "report": [None, None], "score": [True, True]},
    ]
    path = _jsonl(tmp_path / "test_qwen25-math-cot_-1_seed0_t0.0_s0_e-1.jsonl", rows)
    report = import_file(new_run, path, model="qwen", source="math")
    assert report.format == "qwen-eval"
    assert {f.role: f.column for f in report.fields}["text"] == "code"
    assert new_run.sql("SELECT count(*) FILTER (correct) FROM verdicts").column(0)[0].as_py() == 3
    assert new_run.problem("math/1")["answer"] == "9"
    assert "\\boxed{8}" in json.loads(new_run.problem("math/0")["metadata"])["solution"]


def _lm_eval_line(doc_id, question, target, resps, filt="strict-match", metric=1.0, filtered=None):
    return {
        "doc_id": doc_id,
        "doc": {"question": question, "answer": f"... #### {target}"},
        "target": target,
        "arguments": {"gen_args_0": {"arg_0": f"Question: {question}\nAnswer:", "arg_1": {"until": ["Question:"]}}},
        "resps": [resps],
        "filtered_resps": [filtered if filtered is not None else (resps[0] if len(resps) == 1 else resps)],
        "filter": filt, "metrics": ["exact_match"], "exact_match": metric,
        "doc_hash": "h", "prompt_hash": "p", "target_hash": "t",
    }


def test_lm_eval_round_trip(new_run, tmp_path):
    lines = [
        _lm_eval_line(0, "Janet has 3 ducks...", "18", ["so 18"], metric=1.0, filtered="18"),
        _lm_eval_line(1, "A robe takes 2 bolts...", "3", ["so 4"], metric=0.0, filtered="4"),
        _lm_eval_line(0, "Janet has 3 ducks...", "18", ["so 18"], filt="flexible-extract", metric=1.0),
        _lm_eval_line(1, "A robe takes 2 bolts...", "3", ["so 4"], filt="flexible-extract", metric=0.0),
    ]
    path = _jsonl(tmp_path / "samples_gsm8k_2024-05-01T10-00-00.jsonl", lines)
    report = import_file(new_run, path, model="llama")
    assert report.format == "lm-eval" and report.source == "gsm8k"
    assert any("flexible-extract" in n for n in report.notes)
    stored = _stored(new_run, "llama")
    assert [(s["problem_id"], s["text"], s["extracted"], s["correct"]) for s in stored] == [
        ("gsm8k/0", "so 18", "18", True), ("gsm8k/1", "so 4", "4", False)]
    assert new_run.problem("gsm8k/1")["answer"] == "3"
    assert new_run.problem("gsm8k/0")["prompt"] == "Janet has 3 ducks..."


def test_lm_eval_repeats_have_no_per_sample_verdicts(new_run, tmp_path):
    path = _jsonl(tmp_path / "samples_math_x.jsonl", [_lm_eval_line(3, "Q?", "5", ["a", "b", "c"], metric=1.0)])
    report = import_file(new_run, path, model="m", fmt="lm-eval")
    assert report.samples_added == 3 and report.verdicts_added == 0
    assert any("several responses" in n for n in report.notes)


def test_lm_eval_older_layout_prompt_from_arguments(new_run, tmp_path):
    line = {"doc_id": 4, "doc": {"passage": "p"}, "target": 12.0, "arguments": [["Q: 3*4?\nA:", {"until": ["\n"]}]],
            "resps": [["12"]], "filtered_resps": ["12"], "acc": 1}
    report = import_file(new_run, _jsonl(tmp_path / "samples_arith_x.jsonl", [line]), model="m")
    assert report.format == "lm-eval" and report.verdicts_added == 1
    assert new_run.problem("arith/4")["prompt"] == "Q: 3*4?\nA:" and new_run.problem("arith/4")["answer"] == "12"


def test_math_cot_100_imports_with_its_verdicts(new_run):
    path = require_shared(MATH_COT_100)
    report = import_file(new_run, path, model="qwen2.5-math-7b", role="base")
    assert (report.records, report.samples_added, report.problems_created) == (100, 800, 100)
    per_problem = new_run.sql("SELECT count(*) AS n FROM samples GROUP BY problem_id").column(0).to_pylist()
    assert len(per_problem) == 100 and set(per_problem) == {8}
    assert new_run.one("SELECT count(*) FILTER (correct), count(*) FROM verdicts WHERE verifier = 'imported'") == (728, 800)
    again = import_file(new_run, path, model="qwen2.5-math-7b")
    assert again.samples_added == 0 and new_run.count("samples") == 800 and new_run.count("verdicts") == 800


def test_import_matches_problems_already_added(new_run, tmp_path):
    (tmp_path / "toy").mkdir()
    probs = _jsonl(tmp_path / "toy" / "test.jsonl", PROBLEMS)
    add_problem_file(new_run, probs)  # ids toy/7, toy/8
    by_id = _jsonl(tmp_path / "by_id.jsonl", [{"problem_id": 7, "text": "a"}, {"problem_id": "toy/8", "text": "b"}])
    report = import_file(new_run, by_id, model="m", source="toy")
    assert (report.problems_matched, report.problems_created) == (2, 0)
    by_prompt = _jsonl(tmp_path / "by_prompt.jsonl", [{"prompt": "  What is 1+1?", "completion": "c"}])
    report = import_file(new_run, by_prompt, model="m2")
    assert (report.problems_matched, report.problems_created) == (1, 0)
    assert any("by their prompt" in n for n in report.notes)
    assert new_run.sql("SELECT problem_id FROM samples WHERE text = 'c'").column(0)[0].as_py() == "toy/7"
    assert new_run.count("problems") == 2


def test_missing_sample_idx_is_numbered_in_file_order(new_run, tmp_path):
    rows = [{"idx": i % 2, "question": f"q{i % 2}", "output": f"t{i}"} for i in range(5)]
    import_file(new_run, _jsonl(tmp_path / "s.jsonl", rows), model="m")
    got = new_run.sql("SELECT problem_id, sample_idx, text FROM samples ORDER BY text").to_pylist()
    assert [(g["problem_id"], g["sample_idx"]) for g in got] == [("s/0", 0), ("s/1", 0), ("s/0", 1), ("s/1", 1), ("s/0", 2)]


def test_unknown_problem_without_prompt(new_run, tmp_path):
    path = _jsonl(tmp_path / "s.jsonl", [{"problem_id": "x1", "text": "a"}, {"problem_id": "x2", "text": "b"}])
    with pytest.raises(InputError, match=r"s\.jsonl:1: problem 'x1' is not in the run .*pathscope problems add"):
        import_file(new_run, path, model="m")
    assert _counts(new_run) == dict.fromkeys(("models", "problems", "samples", "verdicts", "stages"), 0)


def test_bad_line_stops_and_skip_bad_imports_the_rest(new_run, tmp_path):
    good = _samples_rows()
    lines = [json.dumps(r) for r in good[:2]] + ['{"problem_id": 7, "sample_idx": 9, "response": "x", "correct": "maybe", "question": "q"}',
                                                 '{"problem_id": 7, "resp'] + [json.dumps(r) for r in good[2:]]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = _counts(new_run)
    with pytest.raises(InputError, match=r"bad\.jsonl:4: .*truncated"):
        import_file(new_run, path, model="m")
    assert _counts(new_run) == before
    report = import_file(new_run, path, model="m", skip_bad=True)
    assert report.skipped == 2 and report.samples_added == 6
    assert any("bad.jsonl:3" in s and "not a verdict" in s for s in report.first_skipped)
    assert any("bad.jsonl:4" in s for s in report.first_skipped)


def test_wrong_verdict_value_names_line_and_field(new_run, tmp_path):
    rows = _samples_rows()
    rows[4]["correct"] = "perhaps"
    rows = [{**r, "correct": str(r["correct"]).lower() if isinstance(r["correct"], bool) else r["correct"]} for r in rows]
    path = _jsonl(tmp_path / "v.jsonl", rows)
    with pytest.raises(InputError, match=r"v\.jsonl:5: field 'correct' is perhaps, not a verdict"):
        import_file(new_run, path, model="m")
    assert new_run.count("samples") == 0


def test_grouped_length_mismatch(new_run, tmp_path):
    rows = _grouped_rows()
    rows[1]["preds"] = ["1"]
    with pytest.raises(InputError, match=r"g\.jsonl:2: field 'preds' has 1 entries but 'responses' has 4"):
        import_file(new_run, _jsonl(tmp_path / "g.jsonl", rows), model="m")


def test_role_conflict_leaves_nothing(new_run, tmp_path):
    path = _jsonl(tmp_path / "gen.jsonl", _samples_rows())
    import_file(new_run, path, model="m", role="base")
    before = _counts(new_run)
    other = _jsonl(tmp_path / "other.jsonl", [{"question": "new?", "text": "t"}])
    with pytest.raises(RunError, match="already has role 'base'"):
        import_file(new_run, other, model="m", role="rl")
    assert _counts(new_run) == before


def test_cli_import(tmp_path, capsys):
    rows = [{"q": "What?", "out": "x \\boxed{1}", "ok": 1}, {"q": "Why?", "out": "y", "ok": 0}]
    path = _jsonl(tmp_path / "mine.jsonl", rows)
    run = tmp_path / "run.duckdb"
    code = main(["import", str(run), str(path), "--model", "tiny", "--role", "rl",
                 "--map", "prompt=q", "--map", "text=out", "--map", "correct=ok"])
    assert code == 0
    err = capsys.readouterr().err
    assert "format samples" in err and "2 samples added" in err and "text <- 'out' (mapped)" in err
    with open_run(run, read_only=True) as r:
        assert r.count("samples") == 2 and r.sql("SELECT count(*) FROM verdicts WHERE correct").column(0)[0].as_py() == 1
    assert main(["import", str(run), str(path), "--model", "tiny", "--map", "text=nope"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no field 'nope'" in err[0]


def test_byte_order_mark_and_crlf(new_run, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"problem_id": 1, "question": "q", "text": "a"}\r\n{"problem_id": 1, "question": "q", "text": "b"}\r\n')
    assert import_file(new_run, path, model="m").samples_added == 2
    assert new_run.sql("SELECT text FROM samples ORDER BY sample_idx").column(0).to_pylist() == ["a", "b"]
    path.write_bytes(path.read_bytes() + b'{"problem_id": 1, "text": 5, "x\r\n')
    with pytest.raises(InputError, match=r"^\S*bom\.jsonl:3: "):
        import_file(new_run, path, model="m2")
