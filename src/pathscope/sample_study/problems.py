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
# Answers are computed from the numbers printed in the question.

def _add(rng):
    name, _, item, _ = _pick(rng)
    a, b = rng.randint(2, 20), rng.randint(2, 20)
    q = f"{name} has {a} {item}. {name} finds {b} more {item}. How many {item} does {name} have now?"
    return q, a + b, "add", {"a": a, "b": b, "expr": "a+b"}


def _sub(rng):
    name, other, item, _ = _pick(rng)
    a = rng.randint(8, 30)
    b = rng.randint(2, a - 3)
    q = f"{name} has {a} {item} and gives {b} of them to {other}. How many {item} does {name} have left?"
    return q, a - b, "sub", {"a": a, "b": b, "expr": "a-b"}


def _mul(rng):
    name, _, item, box = _pick(rng)
    a, b = rng.randint(2, 5), rng.randint(2, 10)
    q = f"{name} buys {a} {_plural(box)} of {item}. Each {box} holds {b} {item}. How many {item} does {name} buy in total?"
    return q, a * b, "mul", {"a": a, "b": b, "expr": "a*b"}


def _div(rng):
    name, _, item, _ = _pick(rng)
    b = rng.randint(2, 4)
    c = rng.randint(2, 6)
    a = b * c
    q = (f"{name} shares {a} {item} equally among {b} friends. "
         f"How many {item} does each friend get?")
    return q, c, "div", {"a": a, "b": b, "expr": "a//b"}


def _add_mul(rng):
    name, _, item, box = _pick(rng)
    a = rng.randint(2, 10)
    b, c = rng.randint(2, 3), rng.randint(2, 5)
    boxes = _plural(box)
    q = (f"{name} has {a} {item}. Then {name} buys {b} {boxes} with {c} {item} in each. "
         f"How many {item} does {name} have now?")
    return q, a + b * c, "add_mul", {"a": a, "b": b, "c": c, "expr": "a+b*c"}


def _sub_sub(rng):
    name, other, item, _ = _pick(rng)
    a = rng.randint(10, 30)
    b = rng.randint(2, 8)
    c = rng.randint(1, min(8, a - b - 1))
    q = (f"{name} had {a} {item}. {name} gave {b} to {other} and then lost {c}. "
         f"How many {item} does {name} have left?")
    return q, a - b - c, "sub_sub", {"a": a, "b": b, "c": c, "expr": "a-b-c"}


def _mul_sub(rng):
    name, _, item, box = _pick(rng)
    a, b = rng.randint(2, 4), rng.randint(2, 5)
    c = rng.randint(1, a * b - 1)
    boxes = _plural(box)
    q = (f"{name} fills {a} {boxes} with {b} {item} each, then eats or gives away {c} of the {item}. "
         f"How many {item} are left?")
    return q, a * b - c, "mul_sub", {"a": a, "b": b, "c": c, "expr": "a*b-c"}


def _add_div(rng):
    name, other, item, _ = _pick(rng)
    d = 2
    total = d * rng.randint(2, 8)
    a = rng.randint(1, total - 1)
    b = total - a
    q = (f"{name} has {a} {item} and {other} has {b} {item}. They put them together and split them "
         f"equally into {d} groups. How many {item} are in each group?")
    return q, total // d, "add_div", {"a": a, "b": b, "d": d, "expr": "(a+b)//d"}


def _price(rng):
    name, _, item, _ = _pick(rng)
    a, p = rng.randint(2, 4), rng.randint(2, 5)
    paid = a * p + rng.randint(1, 5)
    q = (f"{name} buys {a} {item} that cost {p} dollars each and pays with {paid} dollars. "
         f"How many dollars of change does {name} get?")
    return q, paid - a * p, "price_change", {"a": a, "p": p, "paid": paid, "expr": "paid-a*p"}


ONE_STEP: list[Callable] = [_add, _sub, _mul, _div]
TWO_STEP: list[Callable] = [_add_mul, _sub_sub, _mul_sub, _add_div, _price]


def recompute(metadata: dict) -> int:
    """The answer recomputed from a problem's stored numbers (used by tests)."""
    env = {k: v for k, v in metadata.items() if isinstance(v, int)}
    return int(eval(metadata["expr"], {"__builtins__": {}}, env))  # noqa: S307 - our own expression


def generate(n: int, seed: int, two_step_share: float = 0.3) -> list[dict]:
    """``n`` distinct problems from one seeded stream (same seed, same problems)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[dict] = []
    while len(out) < n:
        pool = TWO_STEP if rng.random() < two_step_share else ONE_STEP
        q, ans, kind, nums = rng.choice(pool)(rng)
        if q in seen:
            continue
        seen.add(q)
        out.append({"question": q, "answer": str(ans), "metadata": {"kind": kind, "steps": 1 if pool is ONE_STEP else 2, **nums}})
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
    ap.add_argument("--train", type=int, default=400)
    ap.add_argument("--test", type=int, default=48)
    ap.add_argument("--seed", type=int, default=2025)
    a = ap.parse_args(argv)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    train, test = splits(a.train, a.test, a.seed)
    write_jsonl(train, a.out_dir / "train.jsonl")
    write_jsonl(test, a.out_dir / "test.jsonl")
    print(f"wrote {len(train)} training and {len(test)} test problems to {a.out_dir}")


if __name__ == "__main__":
    main()
