"""The measurements of ``pathscope report``, as one plain dict.

:func:`build_report` reads per-problem counts from the run
(:mod:`pathscope.store.metrics`) and computes pass@k with bootstrap bands,
the crossover k, coverage at k = n, the accuracy histograms, distinct
answers, perplexity summaries and reviewer agreement (:mod:`pathscope.metrics`).
The dict is what ``--json`` prints and what the tables and plots are drawn
from, so all three always agree.

Models are compared on the problems every reported model has verdicts for;
a curve stops at the smallest sample count n among its problems (see
:mod:`pathscope.metrics.passk`).  The crossover is that of the first model
over the second: with the default (base, rl) pair, the k from which the base
model stays at or above the RL model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import PathscopeError
from .metrics import BIN_LABELS, accuracy_histogram, coverage, crossover_k, pass_at_k, report_ks
from .metrics.agreement import pairwise_kappa
from .store import metrics as mstore
from .store.run import ModelInfo, Run


@dataclass
class Curve:
    """A model's full curve (every k), kept for plots; the dict holds the report ks."""

    model: str
    values: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None


def resolve_models(run: Run, names: str | None) -> list[ModelInfo]:
    """``--models A,B`` (names or ids), else the run's default (base, rl) pair,
    else its only model."""
    if names:
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        models = [run.model(n) for n in wanted]
        if len({m.model_id for m in models}) != len(models):
            raise PathscopeError(f"--models names a model twice ({names}).")
        return models
    pair = run.default_pair()
    if pair:
        return list(pair)
    models = [m for m in run.models() if m.role != "scorer"] or run.models()
    if not models:
        raise PathscopeError(f"{run.path}: the run has no models yet; sample or import generations first.")
    return models[:1]


def _f(x) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), 6)


def build_report(run: Run, models: list[ModelInfo], bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95):
    """(report dict, curves for plots)."""
    ids = [m.model_id for m in models]
    counts = mstore.problem_counts(run, ids).to_pydict()
    per_model: dict[int, dict[str, tuple[int, int]]] = {mid: {} for mid in ids}
    for mid, pid, n, c in zip(counts["model_id"], counts["problem_id"], counts["n"], counts["c"]):
        per_model[mid][pid] = (n, c)
    unverified = {m.model_id: mstore.unverified_count(run, [m.model_id]) for m in models}
    notes: list[str] = []
    for m in models:
        if not per_model[m.model_id]:
            raise PathscopeError(
                f"{run.path}: model {m.name!r} has no verdicts; run 'pathscope verify {run.path}' first."
            )
        if unverified[m.model_id]:
            notes.append(f"{m.name}: {unverified[m.model_id]:,} samples have no verdict yet and are not counted.")
    common = sorted(set.intersection(*(set(per_model[mid]) for mid in ids)))
    if not common:
        raise PathscopeError(f"{run.path}: the models {', '.join(m.name for m in models)} share no verified problem.")
    for m in models:
        dropped = len(per_model[m.model_id]) - len(common)
        if dropped:
            notes.append(f"{m.name}: {dropped:,} problems the other model(s) lack are left out of the comparison.")

    model_rows, pass_k, bands, curves, hist, distinct = [], {}, {}, [], {}, {}
    dist = mstore.distinct_answers(run, ids).to_pydict()
    distinct_by = {}
    for mid, pid, d in zip(dist["model_id"], dist["problem_id"], dist["distinct_answers"]):
        distinct_by.setdefault(mid, {})[pid] = d
    for m in models:
        n = np.array([per_model[m.model_id][p][0] for p in common])
        c = np.array([per_model[m.model_id][p][1] for p in common])
        res = pass_at_k(n, c, beyond_n="truncate", bootstrap=bootstrap, confidence=confidence, seed=seed)
        if res.n_min != res.n_max:
            notes.append(f"{m.name}: problems have {res.n_min}..{res.n_max} samples; the curve stops at k = {res.n_min}.")
        ks = report_ks(len(res.values))
        pass_k[m.name] = {str(k): _f(res.at(k)) for k in ks}
        if res.lower is not None:
            bands[m.name] = {str(k): [_f(res.lower[k - 1]), _f(res.upper[k - 1])] for k in ks}
        curves.append(Curve(m.name, res.values, res.lower, res.upper))
        hist[m.name] = accuracy_histogram(n, c).tolist()
        d = np.array([distinct_by.get(m.model_id, {}).get(p, 0) for p in common])
        distinct[m.name] = {"mean": _f(d.mean()), "median": _f(np.median(d)), "max": int(d.max())}
        model_rows.append({
            "name": m.name, "model_id": m.model_id, "role": m.role, "problems": len(common),
            "samples": int(n.sum()), "correct": int(c.sum()), "unverified": unverified[m.model_id],
            "n_min": int(n.min()), "n_max": int(n.max()), "accuracy": _f(c.sum() / n.sum()),
        })

    report = {
        "run": str(run.path),
        "models": model_rows,
        "problems_compared": len(common),
        "pass_at_k": pass_k,
        "pass_at_k_bands": bands,
        "bootstrap": {"replicates": bootstrap, "confidence": confidence, "seed": seed} if bootstrap else None,
        "crossover_k": None,
        "coverage": None,
        "histogram": {"bins": BIN_LABELS, **hist},
        "distinct_answers": distinct,
        "notes": notes,
    }
    if len(models) >= 2:
        a, b = models[0], models[1]
        ca, cb = curves[0], curves[1]
        report["crossover_k"] = crossover_k(ca.values, cb.values)
        report["crossover"] = {"a": a.name, "b": b.name, "k": report["crossover_k"],
                               "meaning": f"smallest k from which {a.name} stays at or above {b.name}"}
        cov = coverage({p: per_model[a.model_id][p][1] > 0 for p in common},
                       {p: per_model[b.model_id][p][1] > 0 for p in common})
        report["coverage"] = {
            "a": a.name, "b": b.name,
            "both": len(cov.both), "only_a": len(cov.only_a), "only_b": len(cov.only_b), "neither": len(cov.neither),
            "problems": {"both": cov.both, "only_a": cov.only_a, "only_b": cov.only_b, "neither": cov.neither},
        }
    ppl = perplexity_summary(run, models)
    if ppl:
        report["perplexity"] = ppl
    agreement = reviewer_agreement(run)
    if agreement:
        report["agreement"] = agreement
    return report, curves


def perplexity_summary(run: Run, models: list[ModelInfo]) -> dict:
    """scorer name -> model name -> {n, median, q1, q3, mean} of response PPL."""
    table = mstore.perplexities(run, [m.model_id for m in models]).to_pydict()
    if not table["ppl"]:
        return {}
    names = {m.model_id: m.name for m in run.models()}
    groups: dict[tuple[int, int], list[float]] = {}
    for mid, sid, ppl in zip(table["model_id"], table["scorer_model_id"], table["ppl"]):
        groups.setdefault((sid, mid), []).append(ppl)
    out: dict = {}
    for (sid, mid), vals in sorted(groups.items()):
        v = np.array(vals, dtype=float)
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        out.setdefault(names.get(sid, str(sid)), {})[names.get(mid, str(mid))] = {
            "n": len(v), "median": _f(med), "q1": _f(q1), "q3": _f(q3), "mean": _f(v.mean()),
        }
    return out


def perplexity_points(run: Run, models: list[ModelInfo]) -> dict:
    """For the perplexity figure: scorer -> model -> (problem_ids, ppls)."""
    table = mstore.perplexities(run, [m.model_id for m in models]).to_pydict()
    names = {m.model_id: m.name for m in run.models()}
    out: dict = {}
    for mid, pid, sid, ppl in zip(table["model_id"], table["problem_id"], table["scorer_model_id"], table["ppl"]):
        pts = out.setdefault(names.get(sid, str(sid)), {}).setdefault(names.get(mid, str(mid)), ([], []))
        pts[0].append(pid)
        pts[1].append(ppl)
    return out


def reviewer_agreement(run: Run) -> list[dict]:
    """Cohen's kappa per pair of reviewers (empty with fewer than two reviewers)."""
    marks: dict[str, dict] = {}
    for reviewer, kind, target, label in mstore.current_marks(run):
        marks.setdefault(reviewer, {})[(kind, target)] = label
    if len(marks) < 2:
        return []
    return pairwise_kappa(marks)
