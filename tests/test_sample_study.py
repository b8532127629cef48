"""The shipped sample study: its problem generator, its ReST-EM step, and the
committed run file (when present) opened the way a user on a light install would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathscope.sample_study import problems as gen

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUN = REPO / "sample_data" / "run.duckdb"


def test_generator_is_deterministic():
    assert gen.splits(50, 20, seed=7) == gen.splits(50, 20, seed=7)
    assert gen.splits(50, 20, seed=7) != gen.splits(50, 20, seed=8)


def test_splits_are_disjoint_and_ids_unique():
    train, test = gen.splits(400, 48)
    assert len(train) == 400 and len(test) == 48
    assert not {p["question"] for p in train} & {p["question"] for p in test}
    ids = [p["id"] for p in train + test]
    assert len(ids) == len(set(ids))


def test_answers_are_correct_integers():
    train, test = gen.splits(300, 48, seed=3)
    kinds = set()
    for p in train + test:
        meta = p["metadata"]
        kinds.add(meta["kind"])
        assert int(p["answer"]) == gen.recompute(meta) >= 0
        # Every number the answer depends on is printed in the question.
        for key, value in meta.items():
            if key not in ("kind", "steps", "expr"):
                assert str(value) in p["question"]
    assert len(kinds) == len(gen.ONE_STEP) + len(gen.TWO_STEP)


def test_templates_take_turns_so_small_splits_are_balanced():
    from collections import Counter

    _train, test = gen.splits(192, 36)
    kinds = Counter(p["metadata"]["kind"] for p in test)
    assert set(kinds.values()) == {36 // (len(gen.ONE_STEP) + len(gen.TWO_STEP))}
    assert sum(p["metadata"]["steps"] == 2 for p in test) == 18


def test_jsonl_reads_back(tmp_path):
    gen.main([str(tmp_path), "--train", "10", "--test", "5"])
    rows = [json.loads(line) for line in (tmp_path / "test.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and set(rows[0]) >= {"id", "question", "answer"}


def test_select_examples_caps_and_dedupes():
    from pathscope.sample_study.train import select_examples

    rows = [("p1", "q1", i, "same text") for i in range(5)] + [("p1", "q1", 9, "other")]
    rows += [("p2", "q2", i, f"t{i}") for i in range(10)]
    out = select_examples(rows, per_problem=3, seed=0)
    assert sum(1 for pid, _, _ in out if pid == "p1") == 2  # two distinct texts
    assert sum(1 for pid, _, _ in out if pid == "p2") == 3


@pytest.mark.slow
def test_rest_em_step_trains_on_verified_correct_only(tmp_path, tiny_model):
    """The M-step on a real run: only samples verified correct become training data."""
    import pyarrow as pa

    from pathscope import open_run
    from pathscope.sample_study.train import train

    run_file = tmp_path / "train.duckdb"
    with open_run(run_file) as run:
        mid = run.ensure_model("tiny", role="base", path_or_endpoint=str(tiny_model), backend="transformers")
        mid = mid if isinstance(mid, int) else mid.model_id
        run.add_problems(pa.table({"problem_id": ["a", "b"], "prompt": ["What is 2 + 3?", "What is 7 * 6?"], "answer": ["5", "42"], "kind": ["math", "math"]}))
        run.add_samples(pa.table({
            "model_id": [mid] * 4, "problem_id": ["a", "a", "b", "b"], "sample_idx": [0, 1, 0, 1],
            "text": ["2 + 3 = 5. \\boxed{5}", "\\boxed{6}", "7 * 6 = 42. \\boxed{42}", "\\boxed{41}"],
        }))
        run.con.execute(
            "INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, correct) VALUES "
            "(?, 'a', 0, 'math', true), (?, 'a', 1, 'math', false), (?, 'b', 0, 'math', true), (?, 'b', 1, 'math', false)",
            [mid, mid, mid, mid],
        )
    out = tmp_path / "rl"
    summary = train(str(run_file), "tiny", str(tiny_model), str(out), epochs=1, batch_size=2, lr=1e-3)
    assert summary["verified_correct"] == 2 and summary["train_examples"] == 2
    assert summary["optimizer_steps"] == 1 and summary["rl_method"].startswith("ReST-EM")
    assert (out / "config.json").exists() and json.loads((out / "rest_em.json").read_text())["samples"] == 4


# -- the committed run -----------------------------------------------------------------


@pytest.fixture
def sample_run():
    if not SAMPLE_RUN.exists():
        pytest.skip("sample_data/run.duckdb has not been built in this checkout")
    from pathscope import open_run

    run = open_run(SAMPLE_RUN, read_only=True)
    yield run
    run.close()


def test_sample_run_is_small():
    if not SAMPLE_RUN.exists():
        pytest.skip("sample_data/run.duckdb has not been built in this checkout")
    assert SAMPLE_RUN.stat().st_size < 25 * 1024 * 1024


def test_sample_run_has_both_models_at_paper_protocol(sample_run):
    roles = {m.role for m in sample_run.models()}
    assert {"base", "rl"} <= roles
    rows = sample_run.con.execute(
        "SELECT model_id, min(c), count(*) FROM (SELECT model_id, problem_id, count(*) c FROM samples "
        "GROUP BY ALL) GROUP BY model_id"
    ).fetchall()
    assert len(rows) >= 2
    n_problems = sample_run.count("problems")
    for _mid, min_n, probs in rows:
        assert min_n >= 32 and probs == n_problems
    for m in sample_run.models():
        params = m.sampling_params or {}
        if isinstance(params, str):
            params = json.loads(params)
        flat = json.dumps(params)
        assert '"temperature": 0.6' in flat and '"top_p": 0.95' in flat


def test_sample_run_is_verified_scored_and_analysed(sample_run):
    n = sample_run.count("samples")
    assert sample_run.one("SELECT count(*) FROM verdict")[0] == n
    base = [m for m in sample_run.models() if m.role == "base"][0]
    scored = sample_run.one("SELECT count(*) FROM scores WHERE scorer_model_id = ?", [base.model_id])[0]
    assert scored == n
    for table in ("clusters", "cluster_members", "tree_nodes", "evidence"):
        assert sample_run.count(table) > 0, table


def test_sample_run_names_its_rl_method(sample_run):
    meta = sample_run.meta()
    assert meta.get("rl_method", "").startswith("ReST-EM")
    training = json.loads(meta["rl_training"])
    assert training["reward"].startswith("pathscope verify")
    assert 0 < training["train_examples"] <= training["verified_correct"] < training["samples"]


def test_sample_run_is_calibrated_and_split(sample_run):
    """What the study promises: 10-60% per-sample accuracy for the base, test problems only."""
    base = [m for m in sample_run.models() if m.role == "base"][0]
    acc = sample_run.one("SELECT avg(correct::INT) FROM verdict WHERE model_id = ?", [base.model_id])[0]
    assert 0.10 <= acc <= 0.60
    ids = [r[0] for r in sample_run.con.execute("SELECT problem_id FROM problems").fetchall()]
    assert len(ids) >= 30 and all(i.startswith("arith/test-") for i in ids)


def test_combine_shards_copies_samples_and_checks_params(tmp_path):
    import pyarrow as pa

    from pathscope import open_run
    from pathscope.errors import RunError
    from pathscope.store.sample_study import combine_shard, drop_unsampled_problems

    problems = pa.table({"problem_id": ["a", "b"], "prompt": ["q1", "q2"], "answer": ["1", "2"], "kind": ["math", "math"]})
    params = {"temperature": 0.6, "top_p": 0.95, "n": 2}
    paths = []
    for i, pid in enumerate(["a", "b"]):
        path = tmp_path / f"shard{i}.duckdb"
        with open_run(path) as run:
            run.add_problems(problems)
            mid = run.ensure_model("m", role="base", sampling_params=params)
            run.add_samples(pa.table({"model_id": [mid, mid], "problem_id": [pid, pid], "sample_idx": [0, 1], "text": ["x", "y"]}))
            run.con.execute("INSERT INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl) VALUES (?, ?, 0, ?, 2.5)", [mid, pid, mid])
            sid = run.start_stage("sample", {"shard": i})
            run.finish_stage(sid)
        paths.append(path)
    main = tmp_path / "main.duckdb"
    with open_run(main) as run:
        run.add_problems(problems)
        assert combine_shard(run, str(paths[0])) == {"m": 2}
        assert combine_shard(run, str(paths[1])) == {"m": 2}
        assert combine_shard(run, str(paths[1])) == {"m": 0}  # idempotent
        assert run.count("samples") == 4 and len(run.models()) == 1 and run.count("scores") == 2
        assert run.models()[0].sampling_params == params
        run.add_problems(pa.table({"problem_id": ["c"], "prompt": ["q3"], "answer": ["3"], "kind": ["math"]}))
        assert drop_unsampled_problems(run) == 1 and run.count("problems") == 2
    other = tmp_path / "other.duckdb"
    with open_run(other) as run:
        run.add_problems(problems)
        run.ensure_model("m", role="base", sampling_params={"temperature": 1.0})
    with open_run(other) as run, pytest.raises(RunError, match="other parameters"):
        combine_shard(run, str(paths[0]))


def test_shared_prefix_loss_and_gradient_equal_full_sequences(tiny_model):
    """The M-step encodes the common prompt prefix once per batch; that must not change the objective."""
    import torch
    from transformers import AutoModelForCausalLM

    from pathscope.sample_study.train import batch_loss
    from pathscope.sampling.prefix import common_prefix

    torch.manual_seed(0)
    net = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    vocab = net.config.vocab_size
    shared = torch.randint(3, vocab, (20,)).tolist()
    pairs = [(shared + torch.randint(3, vocab, (k,)).tolist(), torch.randint(3, vocab, (r,)).tolist())
             for k, r in [(3, 5), (6, 2), (1, 7)]]
    prefix = common_prefix([p for p, _ in pairs])
    assert prefix == shared

    def grads(loss):
        net.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in net.parameters() if p.grad is not None]

    shared_loss = batch_loss(net, prefix, [(p[len(prefix):], r) for p, r in pairs], pad=0)
    g_shared = grads(shared_loss)
    # Reference: every full sequence on its own row, transformers' own loss.
    width = max(len(p) + len(r) for p, r in pairs)
    ids = torch.zeros((len(pairs), width), dtype=torch.long)
    labels = torch.full((len(pairs), width), -100)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    for i, (p, r) in enumerate(pairs):
        ids[i, : len(p) + len(r)] = torch.tensor(p + r)
        labels[i, len(p): len(p) + len(r)] = torch.tensor(r)
        mask[i, : len(p) + len(r)] = 1
    full_loss = net(input_ids=ids, attention_mask=mask, labels=labels).loss
    g_full = grads(full_loss)
    assert abs(shared_loss.item() - full_loss.item()) < 1e-5
    assert len(g_shared) == len(g_full) > 0
    for a, b in zip(g_shared, g_full):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def test_common_prefix_leaves_each_sequence_a_token():
    from pathscope.sampling.prefix import common_prefix

    assert common_prefix([[1, 2, 3], [1, 2, 3]]) == [1, 2]
    assert common_prefix([[1, 2, 3], [1, 5]]) == [1]
    assert common_prefix([[4], [4, 4]]) == []
    assert common_prefix([]) == []
