"""Multiple-choice grading: letters, option text, and the CLI end to end."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from pathscope.cli import main
from pathscope.verify.choice_check import grade_choice
from pathscope.verify.extract import extract_choice

META = json.dumps({"choices": ["12", "15", "\\frac{1}{2}", "none of these"]})


@pytest.mark.parametrize(
    "text, want",
    [
        ("so the answer is (C).", "C"),
        ("The answer is B", "B"),
        ("reasoning\nAnswer: D", "D"),
        ("I pick \\boxed{A}", "A"),
        ("between (A) and (B) I choose (B) since", "B"),
        ("no idea", None),
    ],
)
def test_extract_choice(text, want):
    assert extract_choice(text)[0] == want


@pytest.mark.parametrize(
    "text, reference, status",
    [
        ("The answer is (B).", "B", "pass"),
        ("The answer is (B).", "(b)", "pass"),
        ("The answer is (A).", "B", "fail"),
        ("\\boxed{15}", "B", "pass"),  # option text maps to its letter
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}", "pass"),  # reference given as text
        ("\\boxed{C}", "\\frac{1}{2}", "pass"),
        ("\\boxed{12}", "B", "fail"),
        ("nothing chosen", "B", "no_answer"),
    ],
)
def test_grade_choice(text, reference, status):
    assert grade_choice(text, reference, META)[1] == status


def test_verify_cli_auto_picks_choice_by_kind(run_path):
    from pathscope import open_run

    with open_run(run_path) as run:
        mid = run.ensure_model("m", role="base")
        run.add_problems(pa.table({"problem_id": ["q1"], "prompt": ["pick"], "answer": ["C"], "kind": ["choice"], "metadata": [META]}))
        run.add_samples(pa.table({"model_id": [mid] * 3, "problem_id": ["q1"] * 3, "sample_idx": [0, 1, 2],
                                  "text": ["The answer is (C)", "Answer: A", "hmm"]}))
    assert main(["verify", str(run_path), "--workers", "0"]) == 0
    with open_run(run_path, read_only=True) as run:
        rows = run.con.execute("SELECT verifier, status FROM verdict ORDER BY sample_idx").fetchall()
    assert rows == [("choice", "pass"), ("choice", "fail"), ("choice", "no_answer")]
