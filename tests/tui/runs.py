"""Small deterministic runs for the TUI tests, built through the Run API."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

#: Model output that must render as literal text.
NASTY = (
    "[bold red]not markup[/] and [link=http://x]link[/link]\n"
    "ansi \x1b[31mred\x1b[0m and osc \x1b]0;pwned-title\x07 end\n"
    "nul \x00 byte, bell \x07, cr \r done\n"
    + "long " + "x" * 5000 + " tail\n"
    "So the answer is \\boxed{7}."
)


def _cot(pid: str, model: str, idx: int, answer: str) -> str:
    steps = [f"Step {s + 1}: consider part {s} of problem {pid} ({model} sample {idx})." for s in range(3 + idx % 3)]
    return "\n".join(steps) + f"\nTherefore the answer is \\boxed{{{answer}}}."


def build_run(path: Path, n_problems: int = 6, n_samples: int = 8, analysed: bool = True) -> Path:
    """A run with models base + rl; per problem a fixed pattern of correct samples.

    p00: both solve    p01: base only     p02: RL only
    p03: neither       p04: both (RL more accurate)   p05: both, RL's sample 0 is hostile text
    """
    from pathscope import open_run

    # correct counts (base, rl) per problem, cycling for larger runs
    pattern = [(5, 7), (2, 0), (0, 3), (0, 0), (1, 8), (4, 4)]
    with open_run(path) as run:
        b = run.ensure_model("base-model", role="base", backend="transformers")
        r = run.ensure_model("rl-model", role="rl", backend="transformers")
        pids = [f"p{i:02d}" for i in range(n_problems)]
        run.add_problems(pa.table({
            "problem_id": pids,
            "source": ["math500"] * n_problems,
            "prompt": [f"Problem {i}: what is {i} + 7? Give the [result] in a box." for i in range(n_problems)],
            "answer": [str(i + 7) for i in range(n_problems)],
            "kind": ["math"] * n_problems,
        }))
        rows = {k: [] for k in ("model_id", "problem_id", "sample_idx", "text", "n_tokens", "finish_reason")}
        verdicts = {k: [] for k in ("model_id", "problem_id", "sample_idx", "verifier", "extracted", "correct")}
        for i, pid in enumerate(pids):
            cb, cr = pattern[i % len(pattern)]
            for mid, name, c in ((b, "base", cb), (r, "rl", cr)):
                for s in range(n_samples):
                    ok = s < c if name == "base" else s >= n_samples - c
                    ans = str(i + 7) if ok else str(i + 100 + s)
                    text = NASTY if (pid == "p05" and name == "rl" and s == 0) else _cot(pid, name, s, ans)
                    if pid == "p05" and name == "rl" and s == 0:
                        ans, ok = "7", False
                    rows["model_id"].append(mid); rows["problem_id"].append(pid); rows["sample_idx"].append(s)
                    rows["text"].append(text); rows["n_tokens"].append(len(text) // 4); rows["finish_reason"].append("stop")
                    verdicts["model_id"].append(mid); verdicts["problem_id"].append(pid); verdicts["sample_idx"].append(s)
                    verdicts["verifier"].append("math"); verdicts["extracted"].append(ans); verdicts["correct"].append(ok)
        run.add_samples(pa.table(rows))
        run.con.register("_v", pa.table(verdicts))
        run.con.execute("INSERT INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct) SELECT * FROM _v")
        run.con.unregister("_v")
        run.con.execute(
            "INSERT INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl, mean_logprob) VALUES (?, 'p00', ?, ?, ?, ?)",
            [r, n_samples - 1, b, 1.25, -0.223],
        )
        if analysed:
            for pid, k in (("p00", 2), ("p04", 3)):
                for cid in range(k):
                    run.con.execute(
                        "INSERT INTO clusters (problem_id, cluster_id, label, size) VALUES (?, ?, ?, ?)",
                        [pid, cid, f"strategy {cid}", 4],
                    )
            run.con.execute(
                """INSERT INTO evidence (model_id, problem_id, sample_idx, base_model_id, nearest_base_idx, similarity,
                       nearest_base_correct, suggested_mark, confidence) VALUES (?, 'p00', ?, ?, 3, 0.91, true, 'already in base', 0.8)""",
                [r, n_samples - 1, b],
            )
    return path
