"""ReST-EM expert iteration: fine-tune a model on its own verified-correct samples.

One round of ReST-EM (Singh et al. 2023, "Beyond Human Data"): the E-step
samples k solutions per training problem (``pathscope sample`` into a training
run), the reward is pathscope's own verifier (``pathscope verify``: a sample is
kept only if it is verified correct), and this module is the M-step: supervised
fine-tuning of the *base* model on the kept solutions, loss on response tokens
only.  The prompt each example is trained on is rendered by
:mod:`pathscope.sampling.prompts`, so training and sampling see the same tokens.

Run ``python -m pathscope.sample_study.train TRAIN_RUN --model NAME --base DIR --out DIR``.
Plain torch on CPU; torch and transformers are imported inside :func:`train`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from pathlib import Path

from ..errors import InputError
from ..sampling.prefix import common_prefix
from ..store.run import open_run
from ..store.sample_study import verdict_counts, verified_correct

METHOD = "ReST-EM expert iteration (1 round): sample k per training problem, keep pathscope-verified-correct, SFT the base model"


def select_examples(rows: list[tuple[str, str, int, str]], per_problem: int, seed: int) -> list[tuple[str, str, str]]:
    """At most ``per_problem`` distinct correct responses per problem (ReST-EM's cap keeps easy problems from dominating)."""
    by_problem: dict[str, list[tuple[str, str]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for pid, question, _idx, text in rows:
        key = (pid, text.strip())
        if key in seen:
            continue
        seen.add(key)
        by_problem[pid].append((question, text))
    rng = random.Random(seed)
    out = []
    for pid in sorted(by_problem):
        items = by_problem[pid]
        rng.shuffle(items)
        out.extend((pid, q, t) for q, t in items[:per_problem])
    rng.shuffle(out)
    return out


def batch_loss(net, prefix: list[int], batch: list[tuple[list[int], list[int]]], pad: int):
    """Mean next-token loss over the response tokens of ``batch`` (prompt-suffix, response) pairs.

    The shared ``prefix`` runs once, with gradients, and its keys and values are
    broadcast to every row: the same loss and gradient as running each full
    sequence (tests compare the two), at a fraction of the compute when a long
    few-shot prompt dominates.  Logits are computed only where there is a label.
    """
    import torch

    from ..sampling.prefix import broadcast_cache, decoder_of, encode_prefix

    rows = len(batch)
    width = max(len(p) + len(r) for p, r in batch)
    ids = torch.full((rows, width), pad, dtype=torch.long)
    labels = torch.full((rows, width), -100, dtype=torch.long)
    mask = torch.zeros((rows, width), dtype=torch.long)
    for row, (p, r) in enumerate(batch):
        seq = p + r
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, len(p): len(seq)] = torch.tensor(r)  # loss on the response only
        mask[row, : len(seq)] = 1
    body = decoder_of(net)
    kwargs = {}
    if prefix:
        cache = broadcast_cache(body, encode_prefix(body, prefix), rows)
        mask = torch.cat([torch.ones((rows, len(prefix)), dtype=torch.long), mask], dim=1)
        kwargs = {"past_key_values": cache, "use_cache": True}
    hidden = body(input_ids=ids, attention_mask=mask, **kwargs).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = net.lm_head(hidden[:, :-1][keep]).float()
    return torch.nn.functional.cross_entropy(logits, target[keep])


def _freeze_all_but_last(net, k: int) -> None:
    """Train only the last ``k`` decoder layers and the final norm: a CPU budget
    choice (no gradients flow into the frozen lower layers or the embeddings)."""
    for p in net.parameters():
        p.requires_grad_(False)
    layers = net.model.layers
    for layer in layers[len(layers) - k:]:
        for p in layer.parameters():
            p.requires_grad_(True)
    for p in net.model.norm.parameters():
        p.requires_grad_(True)


def train(
    train_runs: str | list[str],
    model: str,
    base: str,
    out: str,
    per_problem: int = 4,
    epochs: int = 2,
    lr: float = 1e-5,
    batch_size: int = 8,
    seed: int = 0,
    threads: int | None = None,
    train_layers: int | None = None,
) -> dict:
    """Fine-tune ``base`` on ``model``'s verified-correct samples in ``train_runs`` (run files,
    e.g. shards sampled in parallel); save to ``out``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..sampling.prompts import from_description, render

    if isinstance(train_runs, str):
        train_runs = [train_runs]
    n_samples = n_verified = n_correct = 0
    rows: list[tuple[str, str, int, str]] = []
    prompts = set()
    for path in train_runs:
        with open_run(path, read_only=True) as run:
            info = run.model(model)
            prompts.add(json.dumps((info.sampling_params or {}).get("prompt"), sort_keys=True))
            counts = verdict_counts(run, info.model_id)
            if counts[1] == 0:
                raise InputError(f"{path}: model {model!r} has no verified samples; run `pathscope verify` first.")
            n_samples, n_verified, n_correct = n_samples + counts[0], n_verified + counts[1], n_correct + counts[2]
            rows += verified_correct(run, info.model_id)
    if not rows:
        raise InputError(f"{', '.join(train_runs)}: model {model!r} has no verified-correct samples to train on.")
    if len(prompts) > 1:
        raise InputError(f"{', '.join(train_runs)}: model {model!r} was sampled with different prompts in these runs.")
    prompt_description = json.loads(prompts.pop())
    examples = select_examples(rows, per_problem, seed)

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(base)
    net = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    if train_layers is not None:
        _freeze_all_but_last(net, train_layers)
    net.train()
    # Train on exactly the prompt the samples were drawn with.
    spec = from_description(prompt_description)
    eos = tok.eos_token or ""

    encoded = []
    for _pid, question, text in examples:
        prompt_ids = render(spec, question, tok).token_ids
        resp_ids = tok(text.strip() + eos, add_special_tokens=False)["input_ids"]
        encoded.append((prompt_ids, resp_ids))

    # Every prompt starts with the same tokens (system prompt, worked examples):
    # encode that prefix once per step and share it across the batch.
    prefix = common_prefix([p for p, _ in encoded])
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    steps_total = epochs * ((len(encoded) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / max(1, steps_total)))
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rng = random.Random(seed)
    losses = []
    t0 = time.time()
    step = 0
    for epoch in range(epochs):
        order = list(range(len(encoded)))
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            batch = [encoded[i] for i in order[b:b + batch_size]]
            loss = batch_loss(net, prefix, [(p[len(prefix):], r) for p, r in batch], pad)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            step += 1
            print(f"epoch {epoch + 1} step {step}/{steps_total} loss {losses[-1]:.4f} ({time.time() - t0:.0f}s)", flush=True)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    net.eval()
    net.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    summary = {
        "rl_method": METHOD,
        "reward": "pathscope verify (math verifier): 1 if the effective verdict is correct, else 0",
        "train_runs": [str(p) for p in train_runs],
        "policy_model": model,
        "samples": n_samples,
        "verified": n_verified,
        "verified_correct": n_correct,
        "problems_with_a_correct_sample": len({pid for pid, _, _ in examples}),
        "train_examples": len(examples),
        "per_problem_cap": per_problem,
        "prompt": prompt_description,
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "optimizer_steps": step,
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "train_seconds": round(time.time() - t0, 1),
        "seed": seed,
        "shared_prompt_prefix_tokens": len(prefix),
        "trained_layers": "all" if train_layers is None else f"last {train_layers} decoder layers + final norm",
    }
    (out_dir / "rest_em.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="One ReST-EM M-step on a run's verified-correct samples.")
    ap.add_argument("train_runs", nargs="+", help="run file(s) holding the sampled, verified training split")
    ap.add_argument("--model", required=True, help="the sampled model whose correct samples are kept")
    ap.add_argument("--base", required=True, help="model folder to fine-tune")
    ap.add_argument("--out", required=True)
    ap.add_argument("--per-problem", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--train-layers", type=int, default=None, help="train only the last K decoder layers (default: all)")
    a = ap.parse_args(argv)
    s = train(a.train_runs, a.model, a.base, a.out, a.per_problem, a.epochs, a.lr, a.batch_size, a.seed, a.threads, a.train_layers)
    print(json.dumps(s, indent=2))


if __name__ == "__main__":
    main()
