"""pathscope export: golden files per kind and format, stdout, selection, hostile text.

The golden run is written through the analysis store functions with fixed
values (no model), so its exports are byte-stable; a real analysed run is
exported in test_analysis_math.py.  Regenerate the golden files with
PATHSCOPE_UPDATE_GOLDEN=1 after an intended change, and read the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis_runs import add_samples, add_verdicts
from pathscope import open_run
from pathscope.export import export, md_fence
from pathscope.store import analysis as q

GOLDEN = Path(__file__).parent / "golden" / "export"
UPDATE = os.environ.get("PATHSCOPE_UPDATE_GOLDEN") == "1"

HOSTILE = (
    "Step 1: note the fence below.\n\n```python\nprint('x')\n```\n\n"
    "A pipe | and [bold]markup[/bold] and <script>alert(1)</script> and \x1b[31mred\x1b[0m and \x1b]0;title\x07.\n\n"
    "So the answer is \\boxed{7}."
)


def build(run) -> None:
    base = run.ensure_model("base", role="base")
    rl = run.ensure_model("rl/step-300", role="rl")
    run.add_problems(pa.table({"problem_id": ["p1", "p/2"], "prompt": ["What is 3 + 4?", "Name | a prime > 5."],
                               "answer": ["7", "7"], "kind": ["math", "math"]}))
    add_samples(run, base, "p1", ["3 + 4 = 7, so \\boxed{7}.", "Count up from 3: 4, 5, 6, 7. \\boxed{7}", "It is 8. \\boxed{8}"])
    add_verdicts(run, base, "p1", [(0, "7", True), (1, "7", True), (2, "8", False)])
    add_samples(run, rl, "p1", ["3 + 4 = 7. \\boxed{7}", HOSTILE])
    add_verdicts(run, rl, "p1", [(0, "7", True), (1, "7", True)])
    add_samples(run, rl, "p/2", ["7 is prime. \\boxed{7}"])  # unverified
    with run.transaction():
        q.replace_clusters(run, "p1", [
            {"cluster_id": 0, "label": "add, sum", "size": 3, "medoid_model_id": base, "medoid_sample_idx": 0, "counts": {}},
            {"cluster_id": 1, "label": "count | up", "size": 2, "medoid_model_id": rl, "medoid_sample_idx": 1, "counts": {}},
        ], [(base, 0, 0), (base, 2, 0), (rl, 0, 0), (base, 1, 1), (rl, 1, 1)])
        q.replace_clusters(run, "p/2", [
            {"cluster_id": 0, "label": "prime", "size": 1, "medoid_model_id": rl, "medoid_sample_idx": 0, "counts": {}},
        ], [(rl, 0, 0)])
        counts = lambda n, end: {"n": n, "end": end, "models": {}, "step_cluster": 0, "rep": None}  # noqa: E731
        q.replace_tree(run, "p1", [
            {"node_id": 0, "parent_id": None, "depth": 0, "label": "add", "rep_text": "3 + 4 = 7", "is_other": False, "n_children": 1, "counts": counts(3, 1)},
            {"node_id": 1, "parent_id": 0, "depth": 1, "label": "box", "rep_text": "so \\boxed{7}.", "is_other": False, "n_children": 0, "counts": counts(2, 2)},
            {"node_id": 2, "parent_id": None, "depth": 0, "label": "other (2 branches)", "rep_text": "```\nfence", "is_other": True, "n_children": 0, "counts": counts(2, 2)},
        ], [(base, 0, 1, [0, 1]), (base, 2, 1, [0, 1]), (rl, 0, 0, [0]), (base, 1, 2, [2]), (rl, 1, 2, [2])])
        common = {"base_model_id": base, "nearest_base_correct": True, "ppl_under_base": None, "answer_in_base": True,
                  "nearest_correct_base_idx": 0, "ppl_base_quantile": None, "n_base_samples": 3, "signals": {}}
        q.replace_evidence(run, "p1", base, [
            {**common, "model_id": rl, "sample_idx": 0, "nearest_base_idx": 0, "similarity": 0.98, "correct_similarity": 0.98,
             "shares_cluster_with_correct_base": True, "suggested_mark": "already_in_base", "confidence": 0.95},
            {**common, "model_id": rl, "sample_idx": 1, "nearest_base_idx": 1, "similarity": 0.61, "correct_similarity": 0.61,
             "shares_cluster_with_correct_base": True, "suggested_mark": "possibly_novel", "confidence": 0.6},
        ])
    marks = [
        ("cluster", "p1/1", "novel", "counts | instead <b>", "ana", "2026-01-02 10:00:00"),
        ("cluster", "p1/1", "unsure", None, "bo", "2026-01-02 10:05:00"),
        ("cluster", "p1/0", "already_in_base", "same as base", "ana", "2026-01-02 10:06:00"),
        ("cluster", "p1/0", "cleared", None, "ana", "2026-01-02 10:07:00"),  # undo: no mark
        ("sample", "rl/step-300/p1/1", "novel", "fence ``` inside", "ana", "2026-01-02 10:08:00"),
        ("sample", "rl/step-300/p/2/0", "unsure", None, "bo", "2026-01-02 10:09:00"),
    ]
    run.con.executemany(
        "INSERT INTO annotations (target_kind, target_id, label, note, reviewer, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [list(m) for m in marks],
    )


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    with open_run(path) as run:
        build(run)
    return path


def _check(name: str, data: bytes) -> None:
    target = GOLDEN / name
    if UPDATE:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    assert target.exists(), f"missing golden file {target} (run with PATHSCOPE_UPDATE_GOLDEN=1)"
    assert data.decode("utf-8") == target.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("what", ["clusters", "samples", "tree", "annotations"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "md", "parquet"])
def test_golden(golden_run, tmp_path, what, fmt):
    out = tmp_path / f"{what}.{fmt}"
    with open_run(golden_run, read_only=True) as run:
        n = export(run, what, fmt, out)
    assert n > 0
    if fmt == "parquet":
        table = pq.read_table(out)
        doc = {"schema": [f"{f.name}: {f.type}" for f in table.schema], "rows": table.to_pylist()}
        _check(f"{what}.parquet.json", (json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n").encode())
    else:
        _check(f"{what}.{fmt}", out.read_bytes())


def test_cluster_export_content(golden_run, tmp_path):
    out = tmp_path / "c.jsonl"
    with open_run(golden_run, read_only=True) as run:
        export(run, "clusters", "jsonl", out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by = {(r["problem_id"], r["cluster_id"]): r for r in rows}
    c0, c1 = by[("p1", 0)], by[("p1", 1)]
    assert c0["members"] == [{"model": "base", "n": 2, "correct": 1, "incorrect": 1, "unknown": 0},
                             {"model": "rl/step-300", "n": 1, "correct": 1, "incorrect": 0, "unknown": 0}]
    assert c0["marks"] == []  # ana's mark was cleared
    assert [m["label"] for m in c1["marks"]] == ["novel", "unsure"]
    assert c1["member_marks"] == [{"label": "novel", "n": 1}]
    assert c1["evidence"]["possibly_novel"] == 1 and c1["medoid_text"] == HOSTILE
    assert by[("p/2", 0)]["members"][0]["unknown"] == 1


def test_markdown_is_safe(golden_run, tmp_path):
    out = tmp_path / "c.md"
    with open_run(golden_run, read_only=True) as run:
        export(run, "clusters", "md", out)
    md = out.read_text()
    assert "\x1b" not in md and "\x07" not in md
    assert "<script>" not in md.split("````text", 1)[0]  # outside the fence, HTML is escaped
    # The CoT with a ``` fence inside is wrapped in a longer fence that it cannot close.
    assert "````text\nStep 1: note the fence below." in md
    block = md.split("````text\nStep 1", 1)[1].split("\n````", 1)[0]
    assert "```python" in block and "\\boxed{7}" in block
    assert "counts \\| instead \\<b\\>" in md


def test_fence_longer_than_any_backtick_run():
    text = "a ``` b ````` c"
    fenced = md_fence(text)
    assert fenced.startswith("``````text\n") and fenced.endswith("\n``````")


def test_selection_and_stdout(golden_run):
    proc = subprocess.run(
        [sys.executable, "-m", "pathscope.cli", "export", str(golden_run), "--what", "samples", "--format", "jsonl",
         "-o", "-", "--problems", "p/2"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["problem_id"], r["sample_idx"]) for r in rows] == [("p/2", 0)]
    assert rows[0]["marks"][0]["label"] == "unsure"
    assert "exported 1 samples rows" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "pathscope.cli", "export", str(golden_run), "--what", "annotations", "-o", "-",
         "--problems", "p/2", "--format", "csv"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2 and "rl/step-300/p/2/0" in lines[1]


def test_cli_errors(golden_run, tmp_path):
    for args, needle in (
        (["-o", str(tmp_path / "x.txt")], "format"),
        (["-o", str(tmp_path / "missing" / "x.csv")], "folder"),
    ):
        proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "export", str(golden_run), *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and proc.stderr.startswith("error: ") and needle in proc.stderr
        assert "Traceback" not in proc.stderr
