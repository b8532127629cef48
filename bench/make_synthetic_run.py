"""Build a reproducible paper-scale synthetic run for benchmarks and fault tests.

The paper's study is about a million samples; pathscope must open and analyse
that on a laptop.  Real generations at that scale cannot live in the repository,
so this module synthesises a run with the same *shape*: 2 models (roles ``base``
and ``rl``) x 2,000 problems x 256 samples by default, with

- chain-of-thought lengths drawn from a log-normal distribution (median about
  ``text_bytes``), made of blank-line separated steps that share prefixes within
  a strategy and branch later (so step trees and clusters have structure), each
  ending in ``\\boxed{answer}`` (a few percent are truncated, finish_reason
  ``length``, with no box);
- answers with realistic repetition: the correct answer plus a handful of
  recurring wrong answers per problem;
- per-problem accuracies like the paper's histograms: the base model spread
  over all bins, the RL model sharpened (mass piled at 1.0 and at 0.0), RL
  losing some problems the base solves rarely — so pass@1 favours RL and the
  base catches up at large k;
- verdicts stored under the verifier name ``synthetic`` (optional).

Usage as a library (the signature is stable; other benches import it)::

    from make_synthetic_run import make_synthetic_run, ensure_synthetic_run
    info = make_synthetic_run("big.duckdb", n_problems=2000, n_samples=256, seed=0)
    info = ensure_synthetic_run("big.duckdb", n_problems=200)   # reuse if same params

and as a script::

    python bench/make_synthetic_run.py OUT.duckdb [--problems 2000] [--samples 256]
        [--seed 0] [--text-bytes 1500] [--no-verdicts] [--force]

Texts are built inside DuckDB (one SQL statement per chunk of problems) from
numpy-drawn per-sample parameters, then stored through ``Run.add_samples``; the
whole default run takes a few minutes on two cores.  The same arguments give
the same samples, answers and verdicts (only timestamps differ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

#: Benchmarks the synthetic problems are spread over (names only; no data of theirs).
SOURCES = ("synth-math500", "synth-minerva", "synth-olympiad", "synth-gsm8k", "synth-amc23", "synth-aime24")

# Step templates: {a} and {b} are replaced by numbers derived from a hash of
# (problem, strategy, step[, variant]), so equal keys give equal step text.
_STEP_TEMPLATES = [
    "Let x denote the unknown quantity. From the statement we know that x + {a} = {b}, so we start by isolating x.",
    "First, rewrite the expression as a sum: {a} + {b} can be regrouped so that the common factor appears explicitly.",
    "Consider the equation modulo {a}. The left-hand side leaves remainder {b}, which restricts the possible values.",
    "We substitute y = x - {a}. Then the quadratic becomes y^2 + {b}y, which factors nicely as y(y + {b}).",
    "By the Pythagorean theorem, the hypotenuse satisfies c^2 = {a}^2 + {b}^2, so we compute each square separately.",
    "Now compute the product step by step: {a} times {b} equals the partial result we carry forward to the next step.",
    "Note that the sequence is arithmetic with first term {a} and common difference {b}, so the n-th term is a + (n-1)d.",
    "Using the formula for the sum of a geometric series with ratio 1/{a}, the total is {b} divided by (1 - 1/{a}).",
    "Let us check the boundary case x = {a}: substituting gives {b}, which does not satisfy the inequality, so it is excluded.",
    "The number of ways to choose the items is C({b}, {a}); we simplify the binomial coefficient by cancelling factorials.",
    "Wait, I should double-check this step. Recomputing {a} + {b} carefully confirms the previous value.",
    "Taking logarithms of both sides, we get {a} log 2 = log {b}, and we solve for the exponent.",
    "Draw the triangle with vertices A, B, C. The angle at B is {a} degrees, and the side opposite it has length {b}.",
    "Since the function is increasing on the interval, its maximum is attained at the right endpoint x = {a}.",
    "Multiply both sides by {a} to clear the denominators; the equation becomes a polynomial of degree {b} mod 5.",
    "Hmm, let me reconsider. If the remainder were {a}, the total would exceed {b}, so that branch is impossible.",
    "The prime factorisation of {b} contains {a} as a factor, so the greatest common divisor is at least {a}.",
    "Applying Vieta's formulas, the sum of the roots is {a} and their product is {b}.",
    "We set up a table of small cases: for n = 1, 2, 3 the values are {a}, {b}, and a pattern starts to emerge.",
    "Therefore the probability is the ratio of favourable outcomes {a} to all outcomes {b}, reduced to lowest terms.",
    "Completing the square, (x + {a})^2 = {b} + {a}^2, which gives two candidate solutions.",
    "By symmetry, it suffices to consider the case where the first coordinate is at most {a}; the rest follows by reflection.",
    "The area of the region is the integral from 0 to {a} of the function, which evaluates to {b} over 3.",
    "Let me verify with a concrete example: plugging in {a} gives {b}, consistent with the claim.",
]

#: Models of the synthetic run: (name, role).
MODELS = (("synthetic-base", "base"), ("synthetic-rl", "rl"))


def _problem_plan(rng: np.random.Generator, n_problems: int, n_samples: int) -> dict:
    """Per-problem latent difficulty, accuracies, answers and strategy weights."""
    z = rng.normal(0.0, 2.0, n_problems)
    p_base = 1.0 / (1.0 + np.exp(-z))
    p_rl = 1.0 / (1.0 + np.exp(-(1.6 * z + 2.0)))
    # Problems truly out of reach of the base model (accuracy exactly 0).
    hard = rng.random(n_problems) < 0.08
    p_base[hard] = 0.0
    p_rl[hard] = 0.0
    # RL narrows coverage: it loses half of the problems the base solves rarely...
    rare = (p_base < 0.05) & ~hard
    lose = rare & (rng.random(n_problems) < 0.5)
    p_rl[lose] = 0.0
    # ...and gains a few the base never solves.
    gain = hard & (rng.random(n_problems) < 0.05)
    p_rl[gain] = rng.uniform(0.01, 0.2, gain.sum())
    # Sharpening piles RL mass at exactly 0 and 1; easy problems are always
    # solved by the base too.
    p_rl[p_rl > 0.97] = 1.0
    p_rl[(p_rl < 0.01) & ~gain] = 0.0
    p_base[p_base > 0.95] = 1.0

    # Answers: integers mostly, some fractions.
    nums = rng.integers(2, 2000, n_problems)
    dens = rng.integers(2, 30, n_problems)
    is_frac = rng.random(n_problems) < 0.15
    answers = [f"\\frac{{{n}}}{{{d}}}" if f else str(n) for n, d, f in zip(nums, dens, is_frac)]
    # A few recurring wrong answers per problem (1..6), weighted Zipf-like.
    n_wrong = np.minimum(1 + rng.poisson(2.0, n_problems), 6)
    wrong = [[str(int(nums[i]) + int(off)) for off in rng.choice(np.arange(-60, 61)[np.arange(-60, 61) != 0], n_wrong[i], replace=False)] for i in range(n_problems)]
    # Strategies: base uses 1..6, RL concentrates on the base's first few.
    n_strat = np.minimum(1 + rng.poisson(2.5, n_problems), 6)
    return {"p": (p_base, p_rl), "answers": answers, "wrong": wrong, "n_strat": n_strat}


def _chunk_samples(rng, plan, model_idx, model_id, pids, lo, hi, n_samples, text_bytes, mean_step) -> pa.Table:
    """Per-sample parameters for problems [lo, hi) of one model, as Arrow."""
    n_prob = hi - lo
    n = n_prob * n_samples
    pidx = np.repeat(np.arange(lo, hi), n_samples)
    p = plan["p"][model_idx][pidx]
    correct = rng.random(n) < p

    # Answers: the correct one, a recurring wrong one (Zipf weights), or a stray one.
    ans_pool: list[str] = []
    offsets = np.zeros(n_prob + 1, dtype=np.int64)
    for j, i in enumerate(range(lo, hi)):
        ans_pool.append(plan["answers"][i])
        ans_pool.extend(plan["wrong"][i])
        offsets[j + 1] = len(ans_pool)
    local = pidx - lo
    n_wrong = (offsets[local + 1] - offsets[local] - 1).astype(np.int64)
    zipf = rng.zipf(1.6, n)
    wrong_rank = np.minimum(zipf - 1, n_wrong - 1)
    ans_idx = np.where(correct, offsets[local], offsets[local] + 1 + wrong_rank)
    answers = pa.array(ans_pool).take(pa.array(ans_idx))
    stray = (~correct) & (rng.random(n) < 0.06)
    stray_vals = pa.array([str(v) for v in rng.integers(-999, 99999, int(stray.sum()))])
    answers = answers.to_numpy(zero_copy_only=False).astype(object)
    answers[np.flatnonzero(stray)] = stray_vals.to_numpy(zero_copy_only=False)

    # Lengths: log-normal around text_bytes; the RL model writes a bit longer.
    scale = 1.0 if model_idx == 0 else 1.15
    length = rng.lognormal(np.log(text_bytes * scale), 0.55, n)
    n_steps = np.clip(np.round(length / mean_step), 2, 80).astype(np.int16)
    # Truncated (finish_reason 'length', no box) samples are among the wrong ones.
    truncated = ~correct & (rng.random(n) < (0.04 if model_idx == 0 else 0.03))

    # Strategy: base spreads over its strategies, RL concentrates on the first ones.
    ns = plan["n_strat"][pidx]
    u = rng.random(n)
    power = 1.6 if model_idx == 0 else 4.0
    strat = np.minimum((ns * u**power).astype(np.int16), ns - 1).astype(np.int16)
    branch = (n_steps * rng.uniform(0.25, 1.0, n)).astype(np.int16)
    variant = rng.integers(0, 4, n).astype(np.int16)
    n_tokens = np.round(length / 3.8).astype(np.int32)

    return pa.table(
        {
            "model_id": pa.array(np.full(n, model_id, dtype=np.int32)),
            "problem_id": pa.array(pids[lo:hi]).take(pa.array(np.repeat(np.arange(n_prob), n_samples))),
            "sample_idx": pa.array(np.tile(np.arange(n_samples, dtype=np.int32), n_prob)),
            "strat": pa.array(strat),
            "branch": pa.array(branch),
            "variant": pa.array(variant),
            "n_steps": pa.array(n_steps),
            "ans": pa.array(answers, type=pa.string()),
            "truncated": pa.array(truncated),
            "correct": pa.array(correct),
            "n_tokens": pa.array(n_tokens),
            "cum_logprob": pa.array(-n_tokens * rng.uniform(0.15, 0.6, n)),
        }
    )


# Builds each CoT server-side: step i of strategy s is keyed by (problem, s, i)
# before the sample's branch point and by (problem, s, i, variant) after it.
_TEXT_SQL = """
SELECT model_id, problem_id, sample_idx,
       array_to_string(list_transform(
           list_transform(range(n_steps), lambda i: CASE WHEN i < branch THEN hash(problem_id, strat, i)
                                                    ELSE hash(problem_id, strat, i, variant) END),
           lambda k: replace(replace($tpl[1 + (k % $ntpl)::INTEGER], '{a}', (2 + (k // 64) % 97)::VARCHAR),
                        '{b}', ((k // 8192) % 997)::VARCHAR)), '\n\n')
       || CASE WHEN truncated THEN '' ELSE '\n\nTherefore, the final answer is $\\boxed{' || ans || '}$.' END AS text,
       n_tokens,
       CASE WHEN truncated THEN 'length' ELSE 'stop' END AS finish_reason,
       cum_logprob,
       $seed::BIGINT * 1000003 + sample_idx AS seed
FROM _synthetic_chunk
"""


def _params(n_problems, n_samples, seed, text_bytes, verdicts) -> dict:
    return {"n_problems": n_problems, "n_samples": n_samples, "seed": seed, "text_bytes": text_bytes, "verdicts": verdicts, "version": 1}


def make_synthetic_run(
    path,
    n_problems: int = 2000,
    n_samples: int = 256,
    seed: int = 0,
    text_bytes: int = 1500,
    verdicts: bool = True,
    overwrite: bool = False,
    progress: bool = False,
) -> dict:
    """Create a synthetic run at ``path`` and return a summary dict.

    path        a new run file (an existing one is an error unless ``overwrite``)
    n_problems  problems, spread over six synthetic benchmark sources
    n_samples   samples per problem per model (2 models: roles 'base' and 'rl')
    seed        numpy seed; same arguments give the same run
    text_bytes  median CoT length in bytes (log-normal, sigma 0.55)
    verdicts    store a verdict per sample under verifier 'synthetic'
    Returns {"path", "params", "samples", "verdicts", "seconds", "mean_text_bytes",
             "accuracy": {role: mean}}.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from pathscope.store import open_run

    path = Path(path)
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--force) to replace it")
        path.unlink()
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            wal.unlink()
    t0 = time.perf_counter()
    params = _params(n_problems, n_samples, seed, text_bytes, verdicts)
    rng = np.random.default_rng(seed)
    plan = _problem_plan(rng, n_problems, n_samples)
    pids = [f"synth-{i:05d}" for i in range(n_problems)]
    mean_step = float(np.mean([len(t) for t in _STEP_TEMPLATES])) + 4.0  # numbers and separator

    run = open_run(path)
    try:
        sampling = {"temperature": 0.6, "top_p": 0.95, "n": n_samples, "synthetic": True}
        model_ids = [run.ensure_model(name, role=role, backend="synthetic", sampling_params=sampling) for name, role in MODELS]
        stage = run.start_stage("synthetic", params)
        problems = pa.table(
            {
                "problem_id": pids,
                "source": [SOURCES[i % len(SOURCES)] for i in range(n_problems)],
                "prompt": [
                    f"Problem {i}: a synthetic competition question whose answer is a number. "
                    f"Compute the quantity described by parameters {i % 97} and {i % 1009}.\n"
                    "Please reason step by step, and put your final answer within \\boxed{}."
                    for i in range(n_problems)
                ],
                "answer": plan["answers"],
                "kind": ["math"] * n_problems,
                "metadata": [json.dumps({"synthetic": True, "p_base": round(float(plan["p"][0][i]), 4), "p_rl": round(float(plan["p"][1][i]), 4)}) for i in range(n_problems)],
            }
        )
        with run.transaction():
            run.add_problems(problems)
        # Chunks of ~50k samples keep memory small (~80 MB of text at a time).
        chunk = max(1, 50_000 // max(1, n_samples))
        tpl = list(_STEP_TEMPLATES)
        total = 0
        for m_idx, model_id in enumerate(model_ids):
            mrng = np.random.default_rng([seed, m_idx])
            for lo in range(0, n_problems, chunk):
                hi = min(n_problems, lo + chunk)
                meta = _chunk_samples(mrng, plan, m_idx, model_id, pids, lo, hi, n_samples, text_bytes, mean_step)
                run.con.register("_synthetic_chunk", meta)
                try:
                    texts = run.con.sql(_TEXT_SQL, params={"tpl": tpl, "ntpl": len(tpl), "seed": seed}).to_arrow_table()
                    with run.transaction():
                        total += run.add_samples(texts)
                        if verdicts:
                            _store_verdicts(run)
                finally:
                    run.con.unregister("_synthetic_chunk")
                if progress:
                    print(f"  model {m_idx + 1}/2  problems {hi:,}/{n_problems:,}  samples {total:,}  {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
        summary = _summary(run, model_ids)
        summary.update({"path": str(path), "params": params, "samples": total, "seconds": round(time.perf_counter() - t0, 1)})
        run.set_meta("synthetic_params", params)
        run.finish_stage(stage, "done", {k: v for k, v in summary.items() if k != "path"})
    finally:
        run.close()
    return summary


def _store_verdicts(run) -> None:
    """Verdicts of the current chunk, under verifier 'synthetic'.

    The chunk's texts end with \\boxed{ans} exactly when not truncated, so
    'extracted' is what an answer extractor would find."""
    run.con.execute(
        """INSERT OR IGNORE INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail)
           SELECT model_id, problem_id, sample_idx, 'synthetic',
                  CASE WHEN truncated THEN NULL ELSE ans END, correct,
                  CASE WHEN truncated THEN 'no_answer' ELSE 'ok' END, NULL
           FROM _synthetic_chunk"""
    )


def _summary(run, model_ids) -> dict:
    rows = run.con.execute(
        """SELECT m.role, avg(v.correct::INTEGER) FROM verdicts v JOIN models m USING (model_id)
           WHERE v.verifier = 'synthetic' GROUP BY m.role ORDER BY m.role"""
    ).fetchall()
    mean_len = run.con.execute("SELECT avg(strlen(text)) FROM (SELECT text FROM samples USING SAMPLE 5000 ROWS)").fetchall()[0][0]
    return {
        "verdicts": run.count("verdicts"),
        "accuracy": {r[0]: round(float(r[1]), 4) for r in rows},
        "mean_text_bytes": round(float(mean_len or 0), 1),
    }


def ensure_synthetic_run(path, **kwargs) -> dict:
    """Reuse ``path`` if it was built by this module with the same arguments
    (recorded in meta 'synthetic_params'), else (re)build it.  Same keyword
    arguments as :func:`make_synthetic_run` (``overwrite`` is implied)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from pathscope.store import open_run

    path = Path(path)
    kw = {"n_problems": 2000, "n_samples": 256, "seed": 0, "text_bytes": 1500, "verdicts": True}
    kw.update({k: v for k, v in kwargs.items() if k in kw})
    want = _params(**kw)
    if path.exists():
        try:
            with open_run(path, read_only=True) as run:
                have = run.meta().get("synthetic_params")
                n = run.count("samples")
            if have and json.loads(have) == want and n == 2 * kw["n_problems"] * kw["n_samples"]:
                return {"path": str(path), "params": want, "samples": n, "reused": True}
        except Exception:
            pass
    kwargs = dict(kwargs)
    kwargs["overwrite"] = True
    return make_synthetic_run(path, **kwargs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="run file to create")
    ap.add_argument("--problems", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=256, help="samples per problem per model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--text-bytes", type=int, default=1500, help="median CoT length")
    ap.add_argument("--no-verdicts", action="store_true", help="leave samples unverified")
    ap.add_argument("--force", action="store_true", help="replace an existing file")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = ap.parse_args(argv)
    try:
        info = make_synthetic_run(
            a.out, n_problems=a.problems, n_samples=a.samples, seed=a.seed, text_bytes=a.text_bytes,
            verdicts=not a.no_verdicts, overwrite=a.force, progress=not a.json,
        )
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(info))
    else:
        print(f"{info['path']}: {info['samples']:,} samples in {info['seconds']} s; "
              f"mean CoT {info['mean_text_bytes']:.0f} bytes; accuracy {info['accuracy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
