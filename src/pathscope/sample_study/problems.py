"""Seeded arithmetic word problems with exact integer answers.

The sample study needs problems whose answers can be checked exactly and that
a 135M-parameter chat model solves only part of the time, with no third-party
data in the repository.  Each problem is one or two arithmetic steps wrapped in
a short story; the answer is computed from the same numbers that are printed,
so it is correct by construction (tests recompute it from ``metadata``).

Splits are drawn from one seeded stream and de-duplicated on the question
text, so the training split and the test split never share a question.

Run ``python -m pathscope.sample_study.problems OUT_DIR`` to write
``train.jsonl`` and ``test.jsonl`` (fields ``id``, ``question``, ``answer``,
``metadata``) that ``pathscope problems add`` reads.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Callable

NAMES = [
    "Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonas",
    "Kira", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara",
]
ITEMS = [
    ("apple", "apples"), ("marble", "marbles"), ("sticker", "stickers"), ("pencil", "pencils"),
    ("cookie", "cookies"), ("book", "books"), ("shell", "shells"), ("card", "cards"),
    ("stamp", "stamps"), ("balloon", "balloons"),
]
CONTAINERS = ["box", "bag", "jar", "basket", "crate", "pack"]


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("x", "s", "h")) else "s")


def _pick(rng: random.Random):
    name, other = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)[1]
    box = rng.choice(CONTAINERS)
    return name, other, item, box


# Each template takes an RNG and returns (question, answer, kind, numbers).
# Answers are computed from the numbers printed in the question.  Number
# ranges are calibrated on SmolLM2-135M-Instruct with the sample study's
# prompt (n = 16, T 0.6): one-step problems are solved 30-75% of the time per
# sample, two-step ones 5-15%, so the mix lands inside 10-60% and some problems
# are solved only at large k.

def _add(rng):
    name, _, item, _ = _pick(rng)
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    q = f"{name} has {a} {item}. {name} finds {b} more {item}. How many {item} does {name} have now?"
    return q, a + b, "add", {"a": a, "b": b, "expr": "a+b"}


def _sub(rng):
    name, other, item, _ = _pick(rng)
    a = rng.randint(5, 15)
    b = rng.randint(1, a - 1)
    q = f"{name} has {a} {item} and gives {b} of them to {other}. How many {item} does {name} have left?"
    return q, a - b, "sub", {"a": a, "b": b, "expr": "a-b"}


def _mul(rng):
    name, _, item, box = _pick(rng)
    a, b = rng.randint(2, 4), rng.randint(2, 5)
    q = f"{name} has {a} {_plural(box)} with {b} {item} in each {box}. How many {item} does {name} have in total?"
    return q, a * b, "mul", {"a": a, "b": b, "expr": "a*b"}


def _add_add(rng):
    name, other, item, _ = _pick(rng)
    a, b, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)
    q = (f"{name} has {a} {item}. {name} finds {b} more and then gets {c} more from {other}. "
         f"How many {item} does {name} have now?")
    return q, a + b + c, "add_add", {"a": a, "b": b, "c": c, "expr": "a+b+c"}


def _add_sub(rng):
    name, other, item, _ = _pick(rng)
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    c = rng.randint(1, a + b - 1)
    q = (f"{name} has {a} {item} and finds {b} more. Then {name} gives {c} to {other}. "
         f"How many {item} does {name} have now?")
    return q, a + b - c, "add_sub", {"a": a, "b": b, "c": c, "expr": "a+b-c"}


def _mul_add(rng):
    name, _, item, box = _pick(rng)
    a, b, c = rng.randint(2, 3), rng.randint(2, 5), rng.randint(1, 9)
    q = (f"{name} has {a} {_plural(box)} with {b} {item} in each {box} and {c} more {item} on the table. "
         f"How many {item} does {name} have in total?")
    return q, a * b + c, "mul_add", {"a": a, "b": b, "c": c, "expr": "a*b+c"}


ONE_STEP: list[Callable] = [_add, _sub, _mul]
TWO_STEP: list[Callable] = [_add_add, _add_sub, _mul_add]


def recompute(metadata: dict) -> int:
    """The answer recomputed from a problem's stored numbers (used by tests)."""
    env = {k: v for k, v in metadata.items() if isinstance(v, int)}
    return int(eval(metadata["expr"], {"__builtins__": {}}, env))  # noqa: S307 - our own expression


def generate(n: int, seed: int) -> list[dict]:
    """``n`` distinct problems from one seeded stream (same seed, same problems).

    Templates take turns (in a seeded order per round), so every split, even a
    small one, has about as many problems of each kind and half of them two-step.
    """
    rng = random.Random(seed)
    templates = ONE_STEP + TWO_STEP
    seen: set[str] = set()
    out: list[dict] = []
    order: list[Callable] = []
    while len(out) < n:
        if not order:
            order = rng.sample(templates, len(templates))
        make = order.pop()
        q, ans, kind, nums = make(rng)
        if q in seen:
            order.append(make)  # same kind again, so the mix stays even
            continue
        seen.add(q)
        steps = 1 if make in ONE_STEP else 2
        out.append({"question": q, "answer": str(ans), "metadata": {"kind": kind, "steps": steps, **nums}})
    return out


def splits(n_train: int, n_test: int, seed: int = 2025) -> tuple[list[dict], list[dict]]:
    """A training and a test split, disjoint by question, with stable ids."""
    problems = generate(n_train + n_test, seed)
    test = problems[:n_test]
    train = problems[n_test:]
    for i, p in enumerate(test):
        p["id"] = f"test-{i:03d}"
    for i, p in enumerate(train):
        p["id"] = f"train-{i:04d}"
    key = ("id", "question", "answer", "metadata")
    return [{k: p[k] for k in key} for p in train], [{k: p[k] for k in key} for p in test]


def write_jsonl(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--train", type=int, default=192)
    ap.add_argument("--test", type=int, default=36)
    ap.add_argument("--seed", type=int, default=2025)
    a = ap.parse_args(argv)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    train, test = splits(a.train, a.test, a.seed)
    write_jsonl(train, a.out_dir / "train.jsonl")
    write_jsonl(test, a.out_dir / "test.jsonl")
    print(f"wrote {len(train)} training and {len(test)} test problems to {a.out_dir}")


if __name__ == "__main__":
    main()
