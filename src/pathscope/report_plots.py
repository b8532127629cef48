"""Paper-style figures for ``pathscope report --plots DIR`` (PNG and SVG).

matplotlib is an optional extra (``pathscope[plots]``) and is imported only
here, inside :func:`write_plots`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import PathscopeError

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _save(fig, out: Path, stem: str, written: list[Path]) -> None:
    for ext in ("png", "svg"):
        path = out / f"{stem}.{ext}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        written.append(path)


def write_plots(report: dict, curves, out_dir: str | Path, ppl_points: dict | None = None) -> list[Path]:
    """Write passk, histogram, coverage (and perplexity) figures; returns the paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PathscopeError("--plots needs matplotlib: pip install 'pathscope[plots]'.") from None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PathscopeError(f"{out}: exists and is not a directory (--plots takes a directory).")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    # pass@k on a log-2 k axis, with bootstrap bands
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, cv in enumerate(curves):
        ks = np.arange(1, len(cv.values) + 1)
        color = _COLORS[i % len(_COLORS)]
        ax.plot(ks, cv.values, color=color, label=cv.model, lw=1.8)
        if cv.lower is not None:
            ax.fill_between(ks, cv.lower, cv.upper, color=color, alpha=0.2, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k")
    if report.get("crossover_k"):
        ax.axvline(report["crossover_k"], color="grey", ls="--", lw=1)
        ax.text(report["crossover_k"], 0.02, f" crossover k={report['crossover_k']}", color="grey", transform=ax.get_xaxis_transform())
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"pass@k over {report['problems_compared']:,} problems")
    _save(fig, out, "passk", written)
    plt.close(fig)

    # accuracy histogram, models side by side
    hist = report["histogram"]
    bins = hist["bins"]
    names = [m["name"] for m in report["models"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(bins))
    for i, name in enumerate(names):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, hist[name], width, label=name, color=_COLORS[i % len(_COLORS)])
    ax.set_xticks(x, bins, rotation=45, ha="right")
    ax.set_xlabel("per-problem accuracy")
    ax.set_ylabel("problems")
    ax.legend()
    ax.set_title("accuracy histogram")
    _save(fig, out, "histogram", written)
    plt.close(fig)

    cov = report.get("coverage")
    if cov:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        labels = ["both", f"only {cov['a']}", f"only {cov['b']}", "neither"]
        vals = [cov["both"], cov["only_a"], cov["only_b"], cov["neither"]]
        bars = ax.bar(labels, vals, color=["#7f7f7f", _COLORS[0], _COLORS[1], "#c7c7c7"])
        ax.bar_label(bars)
        ax.set_ylabel("problems")
        ax.set_title(f"coverage at k = n ({sum(vals):,} problems)")
        _save(fig, out, "coverage", written)
        plt.close(fig)

    if ppl_points:
        written += _perplexity_figure(plt, ppl_points, out, names)
    return written


def _perplexity_figure(plt, points: dict, out: Path, names: list[str], max_problems: int = 40) -> list[Path]:
    """One dot per response, per problem: each scorer a panel, each model a colour."""
    written: list[Path] = []
    scorers = sorted(points)
    fig, axes = plt.subplots(len(scorers), 1, figsize=(10, 3.2 * len(scorers)), squeeze=False)
    for ax, scorer in zip(axes[:, 0], scorers):
        by_model = points[scorer]
        problems = sorted({p for pids, _ in by_model.values() for p in pids})
        shown = problems[:max_problems]
        pos = {p: i for i, p in enumerate(shown)}
        order = [m for m in names if m in by_model] + [m for m in by_model if m not in names]
        width = 0.7 / max(1, len(order))
        rng = np.random.default_rng(0)
        for i, model in enumerate(order):
            pids, ppls = by_model[model]
            xs, ys = [], []
            for p, v in zip(pids, ppls):
                if p in pos:
                    xs.append(pos[p] + (i - (len(order) - 1) / 2) * width + rng.uniform(-width / 4, width / 4))
                    ys.append(v)
            ax.scatter(xs, ys, s=6, alpha=0.6, color=_COLORS[i % len(_COLORS)], label=model)
        ax.set_xticks(range(len(shown)), [str(p)[:10] for p in shown], rotation=90, fontsize=6)
        ax.set_ylabel(f"PPL under {scorer}")
        extra = f" (first {max_problems} of {len(problems)} problems)" if len(problems) > max_problems else ""
        ax.set_title(f"perplexity of responses under {scorer}{extra}")
        ax.legend(markerscale=3)
    fig.tight_layout()
    _save(fig, out, "perplexity", written)
    plt.close(fig)
    return written
