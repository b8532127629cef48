"""Sampling: config, prompts, the transformers backend on a tiny local model, resume."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from pathscope import open_run
from pathscope.errors import InputError, RunError
from pathscope.sampling import apply_overrides, parse_config, sample_run
from pathscope.sampling.config import PromptSpec, SampleConfig, load_config
from pathscope.sampling.prompts import QWEN_BOXED_SYSTEM, render
from pathscope.sampling.runner import pending_requests
from pathscope.sampling.types import derive_seed, truncate_at_stop

QUESTIONS = {
    "p1": "What is 2 + 3?",
    "p2": "What is 7 * 6? Write \\frac{a}{b} if needed.",
    "p3": "Natalia sold clips to 48 of her friends in April.",
}


def add_problems(run, questions=QUESTIONS):
    run.add_problems(pa.table({
        "problem_id": list(questions), "prompt": list(questions.values()), "kind": ["math"] * len(questions),
        "source": ["toy"] * len(questions),
    }))


# -- config ----------------------------------------------------------------------------


def test_config_defaults_follow_the_paper():
    cfg = parse_config({"models": [{"name": "m", "path": "x"}]})
    s = cfg.sampling
    assert (s.temperature, s.top_p, s.stop, cfg.prompt.template) == (0.6, 0.95, [], "qwen-boxed")


def test_config_from_toml_and_flag_overrides(tmp_path):
    path = tmp_path / "pathscope.toml"
    path.write_text(
        '[sampling]\nn = 16\nmax_tokens = 64\nstop = ["</s>"]\n'
        '[problems]\nsource = "gsm8k"\nlimit = 10\n'
        '[[models]]\nname = "base"\nrole = "base"\npath = "m/base"\n'
        '[[models]]\nname = "rl"\nrole = "rl"\nendpoint = "http://127.0.0.1:9/v1"\n[models.sampling]\nmax_tokens = 32\n'
    )
    cfg = load_config(path)
    assert cfg.sampling.n == 16 and cfg.models[1].backend == "openai"
    assert cfg.models[1].sampling.n == 16 and cfg.models[1].sampling.max_tokens == 32
    cfg = apply_overrides(cfg, n=4, temperature=1.0, limit=3, only_models=["rl"])
    assert [m.name for m in cfg.models] == ["rl"]
    assert cfg.models[0].sampling.n == 4 and cfg.models[0].sampling.temperature == 1.0
    assert cfg.problems.limit == 3 and cfg.problems.source == "gsm8k"


@pytest.mark.parametrize(
    "doc, field",
    [
        ("[sampling]\ntop_p = 1.5\n", "sampling.top_p"),
        ("[sampling]\nn = \"eight\"\n", "sampling.n"),
        ("[[models]]\nname = \"a\"\nbackend = \"tgi\"\npath = \"x\"\n", "models[0].backend"),
        ("[[models]]\nname = \"a\"\n", "models[0].path"),
        ("[[models]]\npath = \"x\"\n", "models[0].name"),
        ("[[models]]\nname = \"a\"\npath = \"x\"\ncolour = 1\n", "colour"),
        ("[prompt]\ntemplate = \"no placeholder\"\n", "prompt.template"),
        ("[sampling\n", "not valid TOML"),
    ],
)
def test_config_errors_name_file_and_field(tmp_path, doc, field):
    path = tmp_path / "bad.toml"
    path.write_text(doc)
    with pytest.raises(InputError) as err:
        load_config(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_no_models_is_a_clear_error():
    with pytest.raises(InputError, match="no models"):
        apply_overrides(SampleConfig())


# -- prompts, seeds, gaps ---------------------------------------------------------------


def test_prompt_templates(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    q = QUESTIONS["p2"]
    p = render(PromptSpec("qwen-boxed"), q, tok)
    assert p.messages[0] == {"role": "system", "content": QWEN_BOXED_SYSTEM}
    assert p.text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    assert q + "\nPlease reason step by step, and put your final answer within \\boxed{}." in p.text
    assert p.text.endswith("<|im_start|>assistant\n")
    assert p.token_ids == tok(p.text, add_special_tokens=False)["input_ids"]
    chat = render(PromptSpec("chat", system="Be brief."), q, tok)
    assert [m["role"] for m in chat.messages] == ["system", "user"]
    assert render(PromptSpec("raw"), q, tok).text == q
    custom = render(PromptSpec("Q: {question}\nA: \\boxed{"), q, None)
    assert custom.text == f"Q: {q}\nA: \\boxed{{" and custom.token_ids is None


def test_seeds_are_stable_and_distinct():
    a = derive_seed(0, "base", "p1", 0)
    assert a == derive_seed(0, "base", "p1", 0)
    assert len({a, derive_seed(1, "base", "p1", 0), derive_seed(0, "rl", "p1", 0), derive_seed(0, "base", "p2", 0),
                derive_seed(0, "base", "p1", 8)}) == 5
    assert 0 <= a < 2**62 and a % 4096 == 0


def test_pending_requests_fill_only_gaps():
    problems = [("p1", "q1"), ("p2", "q2"), ("p3", "q3")]
    stored = {"p1": set(range(8)), "p2": {0, 1, 5}}
    got = [(pid, start, count) for pid, _, start, count, _ in pending_requests(stored, problems, 8, 0, "m")]
    assert got == [("p2", 2, 3), ("p2", 6, 2), ("p3", 0, 8)]
    # A node told to sample indices 8..11 ignores what lies below.
    got = [(pid, start, count) for pid, _, start, count, _ in pending_requests(stored, problems, 4, 0, "m", offset=8)]
    assert got == [("p1", 8, 4), ("p2", 8, 4), ("p3", 8, 4)]


def test_truncate_at_stop():
    assert truncate_at_stop("abc user def assistant", ["assistant", "user"]) == ("abc ", True)
    assert truncate_at_stop("abc", ["x"]) == ("abc", False)


# -- the transformers backend -------------------------------------------------------------


def tiny_config(tiny_model, **sampling):
    return parse_config({
        "sampling": {"n": 3, "max_tokens": 12, **sampling},
        "models": [{"name": "tiny", "role": "base", "path": str(tiny_model), "backend": "transformers", "device": "cpu"}],
    })


def test_transformers_backend_samples_into_run(tiny_model, new_run):
    add_problems(new_run)
    summary = sample_run(new_run, tiny_config(tiny_model))
    assert summary["tiny"]["added"] == 9
    rows = new_run.con.execute(
        "SELECT problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed FROM samples ORDER BY ALL"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(p, i) for p in QUESTIONS for i in range(3)]
    for pid, idx, text, n_tokens, reason, cum, seed in rows:
        assert isinstance(text, str) and 1 <= n_tokens <= 12
        assert reason in ("stop", "length") and (reason == "stop" or n_tokens == 12)
        assert cum < 0 and math.isfinite(cum)
        assert seed == derive_seed(0, "tiny", pid, 0)
    model = new_run.model("tiny")
    assert model.backend == "transformers" and model.sampling_params["n"] == 3
    assert model.sampling_params["prompt"]["template"] == "qwen-boxed"
    stage = new_run.stages()[-1]
    assert stage["stage"] == "sample" and stage["status"] == "done"
    assert '"transformers"' in new_run.one("SELECT versions FROM stages")[0]
    # Same command again: nothing new, nothing duplicated.
    assert sample_run(new_run, tiny_config(tiny_model))["tiny"]["added"] == 0
    # Asking for more samples per problem extends each problem from index 3.
    cfg = tiny_config(tiny_model, n=5)
    assert sample_run(new_run, cfg)["tiny"]["added"] == 6
    assert new_run.one("SELECT count(*), count(DISTINCT (problem_id, sample_idx)), max(sample_idx) FROM samples") == (15, 15, 4)
    assert new_run.one("SELECT DISTINCT seed FROM samples WHERE problem_id = 'p1' AND sample_idx = 4")[0] == derive_seed(0, "tiny", "p1", 3)


def test_resampling_is_reproducible(tiny_model, tmp_path):
    texts = []
    for name in ("a", "b"):
        with open_run(tmp_path / f"{name}.duckdb") as run:
            add_problems(run, {"p1": QUESTIONS["p1"]})
            sample_run(run, tiny_config(tiny_model, n=2))
            texts.append(run.con.execute("SELECT text, cum_logprob FROM samples ORDER BY sample_idx").fetchall())
    assert texts[0] == texts[1]


def test_changing_the_protocol_of_a_model_is_refused(tiny_model, new_run):
    add_problems(new_run, {"p1": QUESTIONS["p1"]})
    sample_run(new_run, tiny_config(tiny_model, n=1))
    with pytest.raises(RunError, match="temperature"):
        sample_run(new_run, tiny_config(tiny_model, n=2, temperature=1.0))
    assert new_run.count("samples") == 1


def test_cum_logprob_matches_a_forward_pass(tiny_model):
    import torch
    from transformers import AutoModelForCausalLM

    from pathscope.sampling.hf_backend import TransformersBackend
    from pathscope.sampling.types import Request

    cfg = tiny_config(tiny_model, n=2, max_tokens=10, temperature=1.0)
    backend = TransformersBackend(cfg.models[0], cfg.sampling)
    prompt = render(PromptSpec(), QUESTIONS["p1"], backend.tokenizer)
    (_, outs), = list(backend.generate([Request("p1", 0, 2, 7, prompt.text, prompt.token_ids)]))
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    for c in outs:
        ids = torch.tensor([prompt.token_ids + c.token_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0, :-1].float(), dim=-1)
        tgt = ids[0, 1:]
        manual = logp[torch.arange(len(tgt)), tgt][len(prompt.token_ids) - 1:].sum().item()
        assert c.cum_logprob == pytest.approx(manual, abs=1e-3)


def test_stop_strings_cut_the_text(tiny_model, new_run):
    add_problems(new_run, {"p1": QUESTIONS["p1"]})
    # Any single space ends a sample: gibberish from a random model has plenty.
    sample_run(new_run, tiny_config(tiny_model, n=4, max_tokens=30, stop=[" "]))
    rows = new_run.con.execute("SELECT text, finish_reason FROM samples").fetchall()
    assert all(" " not in text for text, _ in rows)
    assert any(reason == "stop" for _, reason in rows)


def test_unknown_problem_ids_are_refused(tiny_model, new_run):
    add_problems(new_run)
    cfg = tiny_config(tiny_model)
    cfg.problems.ids = ["p1", "nope"]
    with pytest.raises(InputError, match="nope"):
        sample_run(new_run, cfg)


def test_bad_model_path_is_one_sentence(tmp_path, new_run):
    add_problems(new_run)
    cfg = parse_config({"models": [{"name": "x", "path": str(tmp_path / "missing"), "device": "cpu"}]})
    with pytest.raises(InputError, match="missing"):
        sample_run(new_run, cfg)
