"""Build small real runs for the analysis and export tests (Run API only)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

import analysis_planted as ap


def add_samples(run, model_id: int, problem_id: str, texts: list[str], start: int = 0) -> list[int]:
    idx = list(range(start, start + len(texts)))
    run.add_samples(pa.table({
        "model_id": pa.array([model_id] * len(texts), pa.int32()),
        "problem_id": [problem_id] * len(texts),
        "sample_idx": pa.array(idx, pa.int32()),
        "text": texts,
    }))
    return idx


def add_verdicts(run, model_id: int, problem_id: str, rows: list[tuple[int, str | None, bool]]) -> None:
    run.con.executemany(
        "INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) VALUES (?, ?, ?, 'test', ?, ?)",
        [[model_id, problem_id, i, ext, ok] for i, ext, ok in rows],
    )


def planted_run(run):
    """base: the algebra paraphrases (correct) and one wrong CoT; rl: two
    algebra paraphrases and every enumeration paraphrase (correct).  Plus the
    rectangle problem for both."""
    base = run.ensure_model("base", role="base")
    rl = run.ensure_model("rl", role="rl")
    run.add_problems(pa.table({
        "problem_id": ["consec", "area"], "prompt": [ap.PROBLEM, ap.AREA_PROBLEM], "answer": [ap.ANSWER, "84"],
        "kind": ["math", "math"],
    }))
    wrong = "Let the integers be n and n+1. Then 2n + 1 = 41 gives n = 21, so the larger is \\(\\boxed{22}\\)."
    b_idx = add_samples(run, base, "consec", ap.ALGEBRA + [wrong])
    add_verdicts(run, base, "consec", [(i, "21", True) for i in b_idx[:-1]] + [(b_idx[-1], "22", False)])
    r_texts = ap.ALGEBRA[:2] + ap.ENUMERATION
    r_idx = add_samples(run, rl, "consec", r_texts)
    add_verdicts(run, rl, "consec", [(i, "21", True) for i in r_idx])
    for m in (base, rl):
        idx = add_samples(run, m, "area", ap.AREA)
        add_verdicts(run, m, "area", [(i, "84", True) for i in idx])
    return base, rl


def math_cot_run(run, path: Path, n_problems: int = 6, split: int = 4):
    """A run from math_cot_100.jsonl: the first ``split`` CoTs of a problem as
    model 'base', the rest as model 'rl', with the file's grader verdicts.
    (The file has one model's samples; splitting them exercises the two-model
    code paths on real text — it is no claim about RL.)"""
    base = run.ensure_model("qwen-a", role="base")
    rl = run.ensure_model("qwen-b", role="rl")
    problems = {"problem_id": [], "prompt": [], "answer": [], "kind": []}
    rows = [json.loads(line) for line in path.read_text().splitlines()[:n_problems]]
    for r in rows:
        pid = f"math/{r['idx']}"
        problems["problem_id"].append(pid)
        problems["prompt"].append(r["question"])
        problems["answer"].append(r["gt"])
        problems["kind"].append("math")
    run.add_problems(pa.table(problems))
    for r in rows:
        pid = f"math/{r['idx']}"
        for model, lo, hi in ((base, 0, split), (rl, split, len(r["code"]))):
            idx = add_samples(run, model, pid, r["code"][lo:hi], start=lo)
            add_verdicts(run, model, pid, [(i, r["pred"][i], bool(r["score"][i])) for i in idx])
    return base, rl
