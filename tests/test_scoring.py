"""Perplexity scoring with the transformers engine, checked against a manual computation."""

from __future__ import annotations

import math
import subprocess
import sys

import pyarrow as pa
import pytest

from pathscope import open_run
from pathscope.errors import InputError
from pathscope.sampling import parse_config, sample_run, score_run
from pathscope.sampling.config import PromptSpec
from pathscope.sampling.prompts import render


def _run_with_samples(path, tiny_model):
    run = open_run(path)
    run.add_problems(pa.table({"problem_id": ["a", "b"], "prompt": ["What is 2 + 3?", "What is 7 * 6?"], "kind": ["math", "math"]}))
    sample_run(run, parse_config({
        "sampling": {"n": 2, "max_tokens": 10},
        "models": [{"name": "base", "role": "base", "path": str(tiny_model), "device": "cpu"}],
    }))
    # A second model whose responses were written by hand (as if imported), with an empty one.
    rl = run.ensure_model("rl", "rl")
    run.add_samples(pa.table({
        "model_id": [rl, rl, rl], "problem_id": ["a", "a", "b"], "sample_idx": [0, 1, 0],
        "text": ["2 + 3 = 5. So the answer is \\boxed{5}.", "", "7 * 6 = 42"],
    }))
    return run


def _manual_ppl(tiny_model, question, response, template="qwen-boxed"):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompt = render(PromptSpec(template), question, tok).token_ids
    resp = tok(response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + resp])
    with torch.no_grad():
        logits = model(ids).logits[0]
    total = 0.0
    for j, t in enumerate(resp):
        total += torch.log_softmax(logits[len(prompt) + j - 1].double(), -1)[t].item()
    return math.exp(-total / len(resp)), len(resp)


def test_scores_match_a_manual_computation(tiny_model, run_path):
    run = _run_with_samples(run_path, tiny_model)
    summary = score_run(run, "base", batch_tokens=64)  # small batches: several forward passes with padding
    assert summary == {"base": {"scored": 4, "seconds": summary["base"]["seconds"]}, "rl": {"scored": 3, "seconds": summary["rl"]["seconds"]}}
    rows = run.con.execute(
        """SELECT m.name, s.problem_id, s.sample_idx, p.prompt, s.text, c.ppl, c.mean_logprob, c.n_tokens, c.scorer_model_id
           FROM scores c JOIN samples s USING (model_id, problem_id, sample_idx) JOIN models m USING (model_id)
           JOIN problems p ON p.problem_id = s.problem_id ORDER BY ALL"""
    ).fetchall()
    assert len(rows) == 7
    base_id = run.model("base").model_id
    for name, pid, idx, question, text, ppl, mean_lp, n, scorer in rows:
        assert scorer == base_id  # scoring under a model of the run registers nothing new
        if text == "":
            assert ppl is None and n == 0
            continue
        want, want_n = _manual_ppl(tiny_model, question, text)
        assert n == want_n and ppl == pytest.approx(want, rel=1e-4)
        assert mean_lp == pytest.approx(-math.log(ppl), rel=1e-6)
    assert [m.name for m in run.models()] == ["base", "rl"]
    # Resumable: nothing left to do.
    again = score_run(run, "base")
    assert again["base"]["scored"] == 0 and again["rl"]["scored"] == 0
    assert run.stages()[-1]["stage"] == "score" and run.stages()[-1]["status"] == "done"
    run.close()


def test_scorer_folder_is_registered_and_models_filter(tiny_model, run_path, tmp_path):
    import shutil

    run = _run_with_samples(run_path, tiny_model)
    # The same folder as a run model would reuse that model; a copy is a new scorer.
    folder = shutil.copytree(tiny_model, tmp_path / "judge-model")
    summary = score_run(run, str(folder), models=["rl"], name="judge", template="raw")
    assert summary["rl"]["scored"] == 3 and "base" not in summary
    judge = run.model("judge")
    assert judge.role == "scorer"
    ppl = run.one("SELECT ppl FROM scores WHERE scorer_model_id = ? AND problem_id = 'b'", [judge.model_id])[0]
    assert ppl == pytest.approx(_manual_ppl(tiny_model, "What is 7 * 6?", "7 * 6 = 42", "raw")[0], rel=1e-4)
    with pytest.raises(InputError, match="neither a model of the run"):
        score_run(run, "no-such-model")
    run.close()


def test_score_cli(tiny_model, run_path):
    _run_with_samples(run_path, tiny_model).close()
    proc = subprocess.run(
        [sys.executable, "-m", "pathscope.cli", "score", str(run_path), "--scorer", "base", "--models", "rl", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rl: 3 samples scored" in proc.stderr
    with open_run(run_path, read_only=True) as run:
        assert run.count("scores") == 3
    bad = subprocess.run(
        [sys.executable, "-m", "pathscope.cli", "score", str(run_path), "--scorer", "nope"], capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("error: --scorer") and "Traceback" not in bad.stderr


def test_shared_prompt_prefix_is_encoded_once_with_the_same_logprobs(tiny_model):
    """Few-shot prompts: the scorer runs the common prefix once; every logprob must match scoring each pair alone."""
    import random

    from pathscope.sampling.scoring import HFScorer

    scorer = HFScorer(str(tiny_model), dtype="float32", device="cpu", batch_tokens=64)
    rng = random.Random(0)
    vocab = scorer.model.config.vocab_size
    shared = [rng.randrange(3, vocab) for _ in range(40)]
    pairs = [(shared + [rng.randrange(3, vocab) for _ in range(rng.randint(1, 6))],
              [rng.randrange(3, vocab) for _ in range(rng.randint(0, 9))]) for _ in range(7)]
    together = scorer.logprobs(pairs)  # prefix shared; batch_tokens=64 forces several batches
    for pair, got in zip(pairs, together):
        alone = scorer.logprobs([pair])[0]  # a single pair: no prefix sharing
        assert len(got) == len(alone) == len(pair[1])
        for a, b in zip(got, alone):
            assert abs(a - b) < 1e-4
