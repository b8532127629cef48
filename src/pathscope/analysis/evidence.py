"""Base-model evidence for each correct solution of a compared (e.g. RL) model.

For every correct sample of a compared model on a problem, against the base
model's samples of the same problem:

* the nearest base sample by cosine of whole-CoT embeddings (and whether it
  is correct), and the nearest *correct* base sample;
* whether a correct base sample shares its strategy cluster;
* its perplexity under the base model, where ``scores`` has it, and where that
  falls among the base model's own responses scored the same way;
* whether its final answer appears among the base samples' answers.

From these a *suggested* mark — ``already_in_base`` or ``possibly_novel`` —
with a confidence.  It orders the reviewer's queue and is shown beside the
evidence; it is never a reviewer's mark.  How it weighs the signals
(:func:`suggest`) is documented in docs/analysis.md.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

ALREADY = "already_in_base"
NOVEL = "possibly_novel"


def normalise_answer(ans: str | None) -> str | None:
    if ans is None:
        return None
    a = "".join(str(ans).split())
    return a or None


def suggest(signals: dict, same_cluster_sim: float) -> tuple[str | None, float | None]:
    """Weigh the evidence into (mark, confidence in [0.5, 1]).

    score = +2 if a correct base sample shares the strategy cluster, -1 if none does
            + up to 1 for similarity to the nearest correct base sample
              (0 at ``same_cluster_sim``, 1 at 0.1 above it)
            + 1 if the perplexity under base is within base's own range
              (quantile <= 0.9), -1 if above every base response, else 0
            + 0.5 if base produced the same final answer, -1 if it never did
    p = sigmoid(score - 1); mark = already_in_base if p >= 0.5, confidence = max(p, 1 - p).
    Signals that are missing (no scores, no extracted answer) add nothing;
    without base samples there is no suggestion (None, None)."""
    if signals.get("n_base_samples", 0) == 0:
        return None, None
    score = 0.0
    shares = signals.get("shares_cluster_with_correct_base")
    if shares is not None:
        score += 2.0 if shares else -1.0
    sim = signals.get("correct_similarity")
    if sim is not None:
        score += min(1.0, max(0.0, (sim - same_cluster_sim) / 0.1))
    q = signals.get("ppl_base_quantile")
    if q is not None:
        score += 1.0 if q <= 0.9 else (-1.0 if q >= 1.0 else 0.0)
    ans = signals.get("answer_in_base")
    if ans is not None:
        score += 0.5 if ans else -1.0
    p = 1.0 / (1.0 + math.exp(-(score - 1.0)))
    return (ALREADY if p >= 0.5 else NOVEL), round(max(p, 1.0 - p), 4)


def problem_evidence(
    samples: Sequence[dict],
    keys: Sequence[tuple[int, int]],
    X: np.ndarray,
    clusters: dict[tuple[int, int], int],
    ppl: dict[tuple[int, int], float],
    base_model_id: int,
    compared_ids: Sequence[int],
    same_cluster_sim: float,
) -> list[dict]:
    """Evidence rows for one problem.

    ``samples``: dicts with model_id, sample_idx, correct, extracted;
    ``keys``/``X``: embedded samples and their unit vectors;
    ``clusters``: (model_id, sample_idx) -> cluster id;
    ``ppl``: (model_id, sample_idx) -> perplexity under the base model."""
    row_of = {k: i for i, k in enumerate(keys)}
    info = {(s["model_id"], s["sample_idx"]): s for s in samples}
    base_keys = [k for k in keys if k[0] == base_model_id]
    base_rows = np.array([row_of[k] for k in base_keys], dtype=np.int64)
    base_correct = np.array([bool(info.get(k, {}).get("correct")) for k in base_keys], dtype=bool)
    base_answers = {normalise_answer(info[k].get("extracted")) for k in info if k[0] == base_model_id} - {None}
    n_base_answered = sum(1 for k in info if k[0] == base_model_id and info[k].get("correct") is not None)
    correct_base_clusters = {clusters[k] for k, c in zip(base_keys, base_correct) if c and k in clusters}
    base_ppl = np.sort(np.array([v for k, v in ppl.items() if k[0] == base_model_id], dtype=np.float64))

    out = []
    compared = set(compared_ids) - {base_model_id}
    for s in samples:
        k = (s["model_id"], s["sample_idx"])
        if s["model_id"] not in compared or s.get("correct") is not True:
            continue
        row = {
            "model_id": k[0], "sample_idx": k[1], "base_model_id": base_model_id,
            "nearest_base_idx": None, "similarity": None, "nearest_base_correct": None,
            "shares_cluster_with_correct_base": None, "ppl_under_base": ppl.get(k),
            "answer_in_base": None, "nearest_correct_base_idx": None, "correct_similarity": None,
            "ppl_base_quantile": None, "n_base_samples": len(base_keys),
        }
        if k in row_of and len(base_rows):
            sims = X[base_rows] @ X[row_of[k]]
            j = int(np.argmax(sims))
            row["nearest_base_idx"] = base_keys[j][1]
            row["similarity"] = round(float(sims[j]), 6)
            row["nearest_base_correct"] = bool(base_correct[j])
            if base_correct.any():
                cs = np.where(base_correct, sims, -np.inf)
                jc = int(np.argmax(cs))
                row["nearest_correct_base_idx"] = base_keys[jc][1]
                row["correct_similarity"] = round(float(sims[jc]), 6)
        if k in clusters:
            row["shares_cluster_with_correct_base"] = clusters[k] in correct_base_clusters
        if row["ppl_under_base"] is not None and len(base_ppl):
            row["ppl_base_quantile"] = round(float(np.searchsorted(base_ppl, row["ppl_under_base"], side="left") / len(base_ppl)), 6)
        ans = normalise_answer(s.get("extracted"))
        if ans is not None and n_base_answered:
            row["answer_in_base"] = ans in base_answers
        signals = {
            key: row[key]
            for key in ("shares_cluster_with_correct_base", "correct_similarity", "ppl_base_quantile", "answer_in_base", "n_base_samples")
        }
        row["suggested_mark"], row["confidence"] = suggest(signals, same_cluster_sim)
        row["signals"] = signals
        out.append(row)
    return out
