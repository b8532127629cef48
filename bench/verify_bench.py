"""Math verification at scale: ``pathscope verify`` vs naive per-sample math-verify.

Workload: a real run file holding N math samples (default 1,000,000: 1,000
problems x 1,000 samples) with realistic repetition, about 20 distinct final
answers per problem (the reference, equivalent rewrites of it, and wrong
answers of the same shape, Zipf-distributed).  Reference answers mix
integers, fractions, closed forms (roots, pi) and structured answers
(intervals, tuples, polynomials, sets), roughly as in MATH-style sets; some
answers are equations (``x = 12``), which only math-verify settles.

pathscope's side is the whole stage, timed end to end: stream the pending
samples out of DuckDB, extract answers, grade each distinct pair once
(string / number / closed-form tiers, then math-verify in worker processes),
commit verdicts in batches.

The baseline is what a naive script does per sample,
``verify(parse(gold), parse(response))`` with math-verify, on a random subset
of the same samples; its time is extrapolated to N (shown both for one
process and ideally split over the machine's cores).  The two sides'
verdicts on that subset are compared too.

    python bench/verify_bench.py [--samples 1000000] [--per-problem 1000] [--workers 2] [--baseline 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

FILLER = [
    "Let us restate the problem and identify what is asked. We set up the relevant quantities and write the equation "
    "that relates them. Simplifying both sides carefully, we collect like terms and check each step. ",
    "First, consider the constraints given. Substituting the known values, we obtain an expression we can simplify. "
    "We verify the arithmetic twice to avoid sign mistakes, then solve for the unknown. ",
    "We can approach this by cases. In the first case the expression reduces nicely; in the second case we use the "
    "identity from before. Combining the cases gives a single value for the quantity we want. ",
    "Using the formula for the sum and simplifying, we get a closed form. Plugging in the numbers from the problem "
    "statement and reducing the fraction to lowest terms, we arrive at the result. ",
]


def _reference(rng, kind: int) -> tuple[str, list[str], callable]:
    """(reference, equivalent rewrites, wrong-answer maker) for one problem."""
    if kind == 0:  # integer
        a = int(rng.integers(2, 2000))
        # "x = 12" style answers need math-verify (an equation, not a number)
        return str(a), [f"{a}.0", f"{a} \\text{{ units}}", f"x = {a}"], lambda r: (
            str(a + int(r.integers(-50, 50)) or 1) if r.random() < 0.97 else f"x = {a + int(r.integers(1, 50))}")
    if kind == 1:  # fraction
        a, b = int(rng.integers(1, 30)), int(rng.integers(31, 97))
        return f"\\frac{{{a}}}{{{b}}}", [f"\\dfrac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\frac{{{2 * a}}}{{{2 * b}}}"], lambda r: f"\\frac{{{a + int(r.integers(1, 40))}}}{{{b}}}"
    if kind == 2:  # closed form
        a, b = int(rng.integers(2, 9)), int(rng.choice([2, 3, 5, 6, 7]))
        return f"{a}\\sqrt{{{b}}}", [f"\\sqrt{{{a * a * b}}}", f"{a} \\sqrt{{{b}}}", f"\\frac{{{2 * a}\\sqrt{{{b}}}}}{{2}}"], lambda r: f"{a + int(r.integers(1, 12))}\\sqrt{{{b + int(r.integers(0, 3))}}}"
    # structured: interval, tuple, polynomial or set
    a, b = int(rng.integers(-9, 0)), int(rng.integers(1, 9))
    sub = int(rng.integers(0, 4))
    if sub == 0:
        return f"({a}, {b}]", [f"({a},{b}]", f"\\left({a}, {b}\\right]"], lambda r: f"({a - int(r.integers(0, 6))}, {b + int(r.integers(1, 6))}]"
    if sub == 1:
        return f"({a}, {b})", [f"({a},{b})", f"\\left({a},{b}\\right)"], lambda r: f"({a + int(r.integers(1, 6))}, {b + int(r.integers(0, 6))})"
    if sub == 2:
        return f"x^2 + {b}x {a}", [f"x^2{a}+{b}x", f"{b}x + x^2 {a}"], lambda r: f"x^2 + {b + int(r.integers(1, 6))}x {a - int(r.integers(0, 6))}"
    return f"\\{{{a}, {b}\\}}", [f"\\{{{b}, {a}\\}}", f"\\{{{a},{b}\\}}"], lambda r: f"\\{{{a - int(r.integers(0, 6))}, {b + int(r.integers(1, 6))}\\}}"


def build(path: Path, samples: int, per_problem: int, seed: int) -> tuple[float, dict]:
    from pathscope import open_run

    rng = np.random.default_rng(seed)
    problems = max(1, samples // per_problem)
    kinds = rng.choice(4, size=problems, p=[0.55, 0.15, 0.15, 0.15])
    t0 = time.perf_counter()
    pids, answers, texts_pid, texts_idx, texts = [], [], [], [], []
    distinct = []
    for i in range(problems):
        ref, variants, wrong = _reference(rng, int(kinds[i]))
        pid = f"bench-{i:05d}"
        pids.append(pid)
        answers.append(ref)
        wrongs = list(dict.fromkeys(wrong(rng) for _ in range(60)))[:20]
        pool = [ref] + variants + wrongs
        weights = np.array([6.0] + [1.0] * len(variants) + [2.0 / (j + 1) ** 0.5 for j in range(len(wrongs))])
        weights /= weights.sum()
        picks = rng.choice(len(pool), size=per_problem, p=weights)
        distinct.append(len(set(picks.tolist())))
        style = rng.random(per_problem)
        fill = rng.integers(0, len(FILLER), per_problem)
        for j in range(per_problem):
            ans = pool[picks[j]]
            body = FILLER[fill[j]]
            if style[j] < 0.96:
                tail = f"Therefore, the final answer is $\\boxed{{{ans}}}$."
            elif style[j] < 0.99:
                tail = f"The answer is ${ans}$."
            else:
                tail = "I am not sure how to finish this."
            texts_pid.append(pid)
            texts_idx.append(j)
            texts.append(body + tail)
    with open_run(path) as run:
        mid = run.ensure_model("bench-model", role="base")
        run.add_problems(pa.table({"problem_id": pids, "prompt": ["(bench)"] * problems, "answer": answers, "kind": ["math"] * problems}))
        run.add_samples(pa.table({"model_id": pa.array([mid] * len(texts), pa.int32()), "problem_id": texts_pid,
                                  "sample_idx": pa.array(texts_idx, pa.int32()), "text": texts}))
    return time.perf_counter() - t0, {"problems": problems, "distinct_per_problem": float(np.mean(distinct)),
                                       "kinds": np.bincount(kinds, minlength=4).tolist()}


def naive(path: Path, k: int, seed: int) -> tuple[float, list]:
    """Per-sample math-verify on k random samples: seconds per sample, verdicts."""
    from math_verify import parse, verify

    from pathscope import open_run

    with open_run(path, read_only=True) as run:
        rows = run.con.execute(
            "SELECT s.problem_id, s.sample_idx, s.text, p.answer FROM samples s JOIN problems p USING (problem_id) "
            f"USING SAMPLE reservoir({int(k)} ROWS) REPEATABLE ({int(seed)})"
        ).fetchall()
    parse("$1$"), verify(parse("$1$"), parse("$1$"))  # warm up sympy
    t0 = time.perf_counter()
    out = []
    for pid, idx, text, ref in rows:
        ok = verify(parse("$" + ref + "$"), parse(text))
        out.append((pid, idx, bool(ok)))
    return (time.perf_counter() - t0) / max(1, len(rows)), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--per-problem", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--baseline", type=int, default=300, help="samples graded naively (then extrapolated)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the run file here")
    args = ap.parse_args()

    from pathscope import open_run
    from pathscope.verify.engine import VerifyOptions, verify_run

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.duckdb"
        t_build, info = build(path, args.samples, args.per_problem, args.seed)
        print(f"workload: {args.samples:,} samples, {info['problems']:,} problems x {args.per_problem}, "
              f"{info['distinct_per_problem']:.1f} distinct answers per problem (kinds int/frac/closed/structured: {info['kinds']})")
        print(f"built the run in {t_build:.1f} s (not timed below)")

        with open_run(path) as run:
            t0 = time.perf_counter()
            res = verify_run(run, VerifyOptions(verifier="math", workers=args.workers))
            t_ours = time.perf_counter() - t0
            got = {(p, i): c for p, i, c in run.con.execute("SELECT problem_id, sample_idx, correct FROM verdicts").fetchall()}
        counts = dict(res.by_verifier["math"])
        print(f"pathscope verify (workers={args.workers}): {t_ours:8.1f} s  = {args.samples / t_ours:,.0f} samples/s   target < 120 s")
        print(f"  statuses {counts}; {res.distinct_pairs:,} distinct pairs, {res.sent_to_math_verify:,} sent to math-verify")

        per, naive_rows = naive(path, args.baseline, args.seed)
        t_naive = per * args.samples
        t_naive_cores = t_naive / cores
        agree = np.mean([got[(p, i)] == ok for p, i, ok in naive_rows]) if naive_rows else float("nan")
        print(f"naive per-sample math-verify: {per * 1000:.1f} ms/sample on {len(naive_rows)} samples -> "
              f"{t_naive:,.0f} s for {args.samples:,} (extrapolated), {t_naive_cores:,.0f} s ideally split over {cores} cores")
        print(f"verdict agreement with the naive grader on that subset: {agree:.1%}")
        print(f"speed-up: {t_naive / t_ours:,.1f}x vs one process, {t_naive_cores / t_ours:,.1f}x vs {cores} ideal processes   target >= 10x")


if __name__ == "__main__":
    main()
