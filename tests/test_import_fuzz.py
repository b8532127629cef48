"""Malformed input never gives a traceback and never leaves a half-imported run.

Property-based: hypothesis writes JSONL, CSV and Parquet files with truncated
lines, wrong types, missing fields, invalid UTF-8, blank lines and stray
values.  Every import either succeeds or raises PathscopeError, and a failed
import leaves every table's row count as it was.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathscope import open_run
from pathscope.errors import PathscopeError
from pathscope.importers import import_file
from pathscope.problems import load_problem_file

TABLES = ("models", "problems", "samples", "verdicts", "stages")
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_counter = itertools.count()


@pytest.fixture(scope="module")
def fuzz_run(tmp_path_factory):
    run = open_run(tmp_path_factory.mktemp("fuzz") / "run.duckdb")
    yield run
    run.close()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("files")


def _counts(run):
    return {t: run.count(t) for t in TABLES}


def _attempt(run, path, **kwargs):
    """Import and check the two properties; returns the report or None."""
    before = _counts(run)
    try:
        report = import_file(run, path, **kwargs)
    except PathscopeError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg.strip() and "Traceback" not in msg
        assert _counts(run) == before, "a failed import changed the run"
        return None
    after = _counts(run)
    assert after["samples"] - before["samples"] == report.samples_added <= report.samples_in_file
    return report


small_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=False), small_text)
json_value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(small_text, inner, max_size=3)), max_leaves=6)


@st.composite
def sample_record(draw):
    rec = {
        "problem_id": draw(st.one_of(st.integers(0, 5), st.sampled_from(["a", "b"]), st.none())),
        "question": draw(st.one_of(st.sampled_from(["What is 1+1?", "Compute 2^3."]), st.none())),
        "text": draw(st.one_of(small_text, small_text)),
        "sample_idx": draw(st.one_of(st.integers(0, 7), st.none())),
        "correct": draw(st.one_of(st.booleans(), st.none())),
        "pred": draw(st.one_of(small_text, st.none())),
    }
    for key in draw(st.lists(st.sampled_from(sorted(rec)), max_size=2)):
        if draw(st.booleans()):
            rec.pop(key, None)  # a missing field
        else:
            rec[key] = draw(json_value)  # a wrong type
    return rec


@st.composite
def jsonl_line(draw):
    kind = draw(st.sampled_from(["good"] * 6 + ["mangled", "truncated", "utf8", "surrogate", "blank", "not_object"]))
    good = json.dumps(draw(sample_record())).encode()
    if kind == "truncated":
        return good[: draw(st.integers(1, max(1, len(good) - 1)))]
    if kind == "utf8":
        cut = draw(st.integers(0, len(good)))
        return good[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + good[cut:]
    if kind == "blank":
        return b"   "
    if kind == "surrogate":  # a lone UTF-16 surrogate, escaped: valid JSON syntax, not Unicode
        return good.replace(b'": "', b'": "\\udc80', 1)
    if kind == "not_object":
        return json.dumps(draw(json_value)).encode()
    if kind == "mangled":
        return good.replace(b'"text"', b'"text" "', 1)
    return good


@FUZZ
@given(lines=st.lists(jsonl_line(), min_size=1, max_size=8), skip_bad=st.booleans(), fmt=st.sampled_from(["auto", "samples"]))
def test_jsonl_never_traceback_never_partial(fuzz_run, fuzz_dir, lines, skip_bad, fmt):
    path = fuzz_dir / f"f{next(_counter)}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    _attempt(fuzz_run, path, model="fuzz", fmt=fmt, skip_bad=skip_bad)


@FUZZ
@given(lines=st.lists(jsonl_line(), min_size=1, max_size=6), skip_bad=st.booleans())
def test_grouped_and_lm_eval_shapes(fuzz_run, fuzz_dir, lines, skip_bad):
    # The same noise, wrapped in the grouped and lm-eval layouts.
    grouped, lm = [], []
    for raw in lines:
        try:
            rec = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            grouped.append(raw)
            lm.append(raw)
            continue
        if not isinstance(rec, dict):
            grouped.append(raw)
            lm.append(raw)
            continue
        grouped.append(json.dumps({"idx": rec.get("problem_id"), "question": rec.get("question"),
                                   "code": [rec.get("text"), rec.get("text")], "pred": [rec.get("pred")],
                                   "score": [rec.get("correct"), rec.get("correct")]}).encode())
        lm.append(json.dumps({"doc_id": rec.get("problem_id"), "doc": {"question": rec.get("question")},
                              "target": rec.get("pred"), "resps": [[rec.get("text")]], "filtered_resps": [rec.get("pred")],
                              "exact_match": rec.get("correct")}).encode())
    for name, body, fmt in (("g", grouped, "grouped"), ("l", lm, "lm-eval")):
        path = fuzz_dir / f"{name}{next(_counter)}.jsonl"
        path.write_bytes(b"\n".join(body) + b"\n")
        _attempt(fuzz_run, path, model="fuzz-" + name, fmt=fmt, skip_bad=skip_bad)


cell = st.one_of(small_text, st.sampled_from(["true", "0", "maybe", "", '"', "a,b", "line\nbreak", "-3", "99999999999"]))


@FUZZ
@given(
    header=st.lists(st.sampled_from(["problem_id", "question", "text", "correct", "sample_idx", "x"]), min_size=1, max_size=5, unique=True),
    rows=st.lists(st.lists(cell, min_size=0, max_size=6), max_size=6),
    corrupt=st.sampled_from([None, b"\xff", b'"', b"\x00"]),
    skip_bad=st.booleans(),
)
def test_csv_never_traceback_never_partial(fuzz_run, fuzz_dir, header, rows, corrupt, skip_bad):
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8")
    if corrupt is not None and len(data) > 2:
        mid = len(data) // 2
        data = data[:mid] + corrupt + data[mid:]
    path = fuzz_dir / f"c{next(_counter)}.csv"
    path.write_bytes(data)
    _attempt(fuzz_run, path, model="fuzz-csv", skip_bad=skip_bad)
    try:
        load_problem_file(path)
    except PathscopeError:
        pass


parquet_column = st.one_of(
    st.lists(st.one_of(small_text, st.none()), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.one_of(st.integers(-10, 10), st.none()), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.one_of(st.booleans(), st.none()), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.bool_())),
    st.lists(st.lists(small_text, max_size=2), min_size=3, max_size=3).map(lambda v: pa.array(v, pa.list_(pa.string()))),
)


@FUZZ
@given(
    columns=st.dictionaries(st.sampled_from(["problem_id", "question", "text", "correct", "sample_idx", "responses", "problem"]),
                            parquet_column, min_size=1, max_size=5),
    truncate=st.one_of(st.none(), st.floats(0.05, 0.95)),
    skip_bad=st.booleans(),
)
def test_parquet_never_traceback_never_partial(fuzz_run, fuzz_dir, columns, truncate, skip_bad):
    path = fuzz_dir / f"p{next(_counter)}.parquet"
    pq.write_table(pa.table(columns), path)
    if truncate is not None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * truncate)])
    _attempt(fuzz_run, path, model="fuzz-pq", skip_bad=skip_bad)
    try:
        load_problem_file(path)
    except PathscopeError:
        pass


@FUZZ
@given(lines=st.lists(jsonl_line(), min_size=1, max_size=6))
def test_problem_files_never_traceback(fuzz_dir, lines):
    path = fuzz_dir / f"q{next(_counter)}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        table, _ = load_problem_file(path)
    except PathscopeError as exc:
        assert "\n" not in str(exc).strip()
    else:
        assert table.num_rows >= 1


def test_a_10_mb_line(tmp_path):
    big = "step " * (2 * 1024 * 1024)  # 10 MB of text on one line
    good = [{"problem_id": 1, "question": "q", "text": "short"}, {"problem_id": 1, "question": "q", "text": big}]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in good), encoding="utf-8")
    with open_run(tmp_path / "run.duckdb") as run:
        report = import_file(run, path, model="m")
        assert report.samples_added == 2
        assert run.one("SELECT max(length(text)) FROM samples")[0] == len(big)
        # The same line cut short: named by line, nothing of the file stored.
        line = json.dumps(good[1])
        path.write_text(json.dumps(good[0]) + "\n" + line[: len(line) // 2] + "\n", encoding="utf-8")
        before = _counts(run)
        with pytest.raises(PathscopeError, match=r"big\.jsonl:2: .*truncated"):
            import_file(run, path, model="m2")
        assert _counts(run) == before


@pytest.mark.parametrize("fmt", ["samples", "lm-eval", "problems"])
def test_lone_surrogate_escape_names_the_line(tmp_path, fmt):
    # JSON may escape half a UTF-16 pair ("\\ud800"): not Unicode, so not storable text.
    lines = {
        "samples": ['{"problem_id": 1, "question": "q", "text": "ok"}', '{"problem_id": 1, "question": "q", "text": "x\\ud800y"}'],
        "lm-eval": ['{"doc_id": 0, "doc": {"question": "q"}, "resps": [["ok"]]}', '{"doc_id": "\\udfff", "doc": {"question": "q"}, "resps": [["a"]]}'],
        "problems": ['{"problem": "q", "answer": "1"}', '{"problem": "\\ud800", "answer": "2"}'],
    }[fmt]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(PathscopeError, match=r"s\.jsonl:2: a string holds an unpaired surrogate escape"):
        if fmt == "problems":
            load_problem_file(path)
        else:
            with open_run(tmp_path / "run.duckdb") as run:
                import_file(run, path, model="m", fmt=fmt)
    if fmt != "problems":
        with open_run(tmp_path / "run.duckdb") as run:
            assert import_file(run, path, model="m", fmt=fmt, skip_bad=True).samples_added == 1


def test_cli_reports_one_line_and_fails(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"problem_id": 1, "question": "q", "text": "a"}\n{"problem_id": 1, "text": "\xff\xfe"}\n')
    run = tmp_path / "run.duckdb"
    proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "import", str(run), str(path), "--model", "m"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.jsonl:2: invalid UTF-8" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "import", str(run), str(path), "--model", "m", "--skip-bad"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 bad records" in proc.stderr and "1 samples added" in proc.stderr
