"""``pathscope report`` on a real run built here: tables, --json, --plots."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from pathscope.cli import main


def _build(path, n=16, problems=24, seed=0):
    """Base solves more problems at large k; RL is sharper at k = 1."""
    from pathscope import open_run

    rng = np.random.default_rng(seed)
    with open_run(path) as run:
        base = run.ensure_model("base-model", role="base")
        rl = run.ensure_model("rl-model", role="rl")
        scorer = run.ensure_model("scorer", role="scorer")
        pids = [f"p{i:02d}" for i in range(problems)]
        run.add_problems(pa.table({"problem_id": pids, "prompt": ["q"] * problems, "answer": [str(i) for i in range(problems)], "kind": ["math"] * problems}))
        rows = {"model_id": [], "problem_id": [], "sample_idx": [], "text": []}
        truth = {}
        for mid, acc in ((base, rng.uniform(0.05, 0.6, problems)), (rl, None)):
            for i, pid in enumerate(pids):
                if mid == rl:
                    p = 0.0 if i % 4 == 0 else min(1.0, truth[(base, pid)] / n + 0.3)
                else:
                    p = acc[i]
                correct = rng.random(n) < p
                truth[(mid, pid)] = int(correct.sum())
                for j in range(n):
                    ans = str(i) if correct[j] else str(1000 + j % 3)
                    rows["model_id"].append(mid), rows["problem_id"].append(pid), rows["sample_idx"].append(j)
                    rows["text"].append(f"reasoning... so the answer is \\boxed{{{ans}}}")
        run.add_samples(pa.table(rows))
        m = len(rows["text"])
        run.con.register("_s", pa.table({
            "model_id": rows["model_id"], "problem_id": rows["problem_id"], "sample_idx": rows["sample_idx"],
            "scorer_model_id": [base] * m, "ppl": rng.uniform(1.0, 3.0, m),
        }))
        run.con.execute("INSERT INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl) SELECT * FROM _s")
        run.con.unregister("_s")
        for reviewer, labels in (("ann", ["novel", "already_in_base", "novel", "unsure"]), ("bob", ["novel", "already_in_base", "unsure", "cleared"])):
            for t, label in enumerate(labels):
                run.con.execute("INSERT INTO annotations (target_kind, target_id, label, reviewer) VALUES ('sample', ?, ?, ?)", [f"rl-model/p00/{t}", label, reviewer])
    return truth, base, rl


@pytest.fixture
def verified_run(run_path):
    truth, base, rl = _build(run_path)
    assert main(["verify", str(run_path), "--workers", "0"]) == 0
    return run_path, truth, base, rl


def test_report_json(verified_run, capsys):
    path, truth, base, rl = verified_run
    capsys.readouterr()
    assert main(["report", str(path), "--json", "--bootstrap", "200"]) == 0
    rep = json.loads(capsys.readouterr().out)
    for key in ("models", "pass_at_k", "crossover_k", "coverage", "histogram", "perplexity", "agreement"):
        assert key in rep
    assert [m["name"] for m in rep["models"]] == ["base-model", "rl-model"]
    assert set(rep["pass_at_k"]["base-model"]) == {"1", "2", "4", "8", "16"}
    # pass@1 is the mean accuracy, pass@16 the fraction solved, from the samples we wrote
    acc = np.mean([truth[(base, f"p{i:02d}")] / 16 for i in range(24)])
    solved = np.mean([truth[(base, f"p{i:02d}")] > 0 for i in range(24)])
    assert rep["pass_at_k"]["base-model"]["1"] == pytest.approx(acc, abs=1e-6)
    assert rep["pass_at_k"]["base-model"]["16"] == pytest.approx(solved, abs=1e-6)
    lo, hi = rep["pass_at_k_bands"]["base-model"]["1"]
    assert lo <= rep["pass_at_k"]["base-model"]["1"] <= hi
    cov = rep["coverage"]
    assert cov["both"] + cov["only_a"] + cov["only_b"] + cov["neither"] == 24
    assert cov["only_a"] == len(cov["problems"]["only_a"])
    assert sum(rep["histogram"]["rl-model"]) == 24 and len(rep["histogram"]["bins"]) == 12
    assert rep["perplexity"]["base-model"]["rl-model"]["n"] == 24 * 16
    pair = rep["agreement"][0]
    assert pair["reviewers"] == ["ann", "bob"] and pair["targets"] == 3  # 'cleared' is no mark
    assert rep["distinct_answers"]["base-model"]["max"] <= 4


@pytest.mark.slow
def test_report_tables_and_plots(verified_run, tmp_path):
    path = verified_run[0]
    plots = tmp_path / "figs"
    proc = subprocess.run([sys.executable, "-m", "pathscope.cli", "report", str(path), "--plots", str(plots), "--bootstrap", "100"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for word in ("pass@k", "crossover", "coverage", "histogram", "perplexity", "kappa"):
        assert word in proc.stdout
    for stem in ("passk", "histogram", "coverage", "perplexity"):
        for ext in ("png", "svg"):
            f = plots / f"{stem}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
    assert (plots / "passk.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (plots / "passk.svg").read_bytes()[:2000]


def test_report_errors_are_one_sentence(run_path, capsys):
    _build(run_path, problems=4)
    assert main(["report", str(run_path)]) == 1  # nothing verified yet
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "pathscope verify" in err and "Traceback" not in err
    assert main(["report", str(run_path), "--models", "nope"]) == 1
    assert "no model named 'nope'" in capsys.readouterr().err
