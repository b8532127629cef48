"""``pathscope report RUN``: pass@k, crossover, coverage, histograms."""

from __future__ import annotations

import json

import click

from ._common import open_for_cli, err_console, out_console, run_path_argument


@click.command(name="report")
@run_path_argument
@click.option("--models", default=None, help="Comma-separated model names to compare (default: the base and rl models).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False), default=None, help="Write PNG and SVG figures to this directory.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=1000, show_default=True, help="Bootstrap replicates for the pass@k bands (0: none).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--problems", "list_problems", is_flag=True, help="List the problem ids of each coverage set.")
def command(run: str, models: str | None, as_json: bool, plots_dir: str | None, bootstrap: int, seed: int, list_problems: bool) -> None:
    """Measure RUN: unbiased pass@k with bootstrap bands for every k, the
    crossover k, coverage at k = n, per-problem accuracy histograms, distinct
    answers, perplexity (when scored) and reviewer agreement (when reviewed)."""
    from ..report import build_report, perplexity_points, resolve_models

    with open_for_cli(run, read_only=True) as r:  # a snapshot when another process is writing
        chosen = resolve_models(r, models)
        report, curves = build_report(r, chosen, bootstrap=bootstrap, seed=seed)
        points = perplexity_points(r, chosen) if plots_dir and report.get("perplexity") else None
    if plots_dir:
        from ..report_plots import write_plots

        written = write_plots(report, curves, plots_dir, points)
        err_console.print(f"wrote {len(written)} files to {plots_dir}")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print(report, list_problems)


def _print(rep: dict, list_problems: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    names = [m["name"] for m in rep["models"]]
    t = Table(title=f"models ({rep['problems_compared']:,} problems compared)", title_justify="left")
    for col in ("model", "role", "samples", "n per problem", "accuracy", "unverified"):
        t.add_column(col)
    for m in rep["models"]:
        n = str(m["n_min"]) if m["n_min"] == m["n_max"] else f"{m['n_min']}..{m['n_max']}"
        t.add_row(escape(m["name"]), escape(m["role"]), f"{m['samples']:,}", n, f"{m['accuracy']:.3f}", f"{m['unverified']:,}")
    out_console.print(t)

    conf = rep["bootstrap"]["confidence"] if rep.get("bootstrap") else None
    t = Table(title="pass@k" + (f" \\[{conf:.0%} bootstrap band]" if conf else ""), title_justify="left")
    t.add_column("k", justify="right")
    for name in names:
        t.add_column(escape(name), justify="right")
    ks = sorted({int(k) for name in names for k in rep["pass_at_k"][name]})
    for k in ks:
        cells = []
        for name in names:
            v = rep["pass_at_k"][name].get(str(k))
            band = rep["pass_at_k_bands"].get(name, {}).get(str(k))
            cells.append("-" if v is None else f"{v:.3f}" + (f" [{band[0]:.3f}, {band[1]:.3f}]" if band else ""))
        t.add_row(str(k), *cells)
    out_console.print(t)

    if rep.get("crossover"):
        c = rep["crossover"]
        k = "never (within the sampled k)" if c["k"] is None else f"k = {c['k']}"
        out_console.print(f"crossover: {escape(c['a'])} stays at or above {escape(c['b'])} from {k}")
    cov = rep.get("coverage")
    if cov:
        t = Table(title="coverage at k = n (solved at least once)", title_justify="left")
        t.add_column("set")
        t.add_column("problems", justify="right")
        for key, label in (("both", "both"), ("only_a", f"only {cov['a']}"), ("only_b", f"only {cov['b']}"), ("neither", "neither")):
            row = [escape(label), f"{cov[key]:,}"]
            t.add_row(*row)
        out_console.print(t)
        if list_problems:
            for key in ("only_a", "only_b", "neither", "both"):
                ids = cov["problems"][key]
                out_console.print(f"{key}: " + (escape(", ".join(ids)) if ids else "-"))

    hist = rep["histogram"]
    t = Table(title="per-problem accuracy histogram (problems per bin)", title_justify="left")
    t.add_column("accuracy")
    for name in names:
        t.add_column(escape(name), justify="right")
    for i, label in enumerate(hist["bins"]):
        t.add_row(label, *(str(hist[name][i]) for name in names))
    out_console.print(t)

    t = Table(title="distinct final answers per problem", title_justify="left")
    for col in ("model", "mean", "median", "max"):
        t.add_column(col)
    for name in names:
        d = rep["distinct_answers"][name]
        t.add_row(escape(name), f"{d['mean']:.2f}", f"{d['median']:g}", str(d["max"]))
    out_console.print(t)

    if rep.get("perplexity"):
        t = Table(title="perplexity of responses (median \\[q1, q3])", title_justify="left")
        t.add_column("scorer")
        t.add_column("responses of")
        t.add_column("n", justify="right")
        t.add_column("PPL", justify="right")
        for scorer, by_model in rep["perplexity"].items():
            for model, s in by_model.items():
                t.add_row(escape(scorer), escape(model), f"{s['n']:,}", f"{s['median']:.3f} [{s['q1']:.3f}, {s['q3']:.3f}]")
        out_console.print(t)
    if rep.get("agreement"):
        t = Table(title="reviewer agreement (Cohen's kappa over targets both marked)", title_justify="left")
        for col in ("reviewers", "targets", "agreement", "kappa"):
            t.add_column(col)
        for row in rep["agreement"]:
            kappa = "-" if row["kappa"] is None else f"{row['kappa']:.3f}"
            agree = "-" if row["agreement"] is None else f"{row['agreement']:.3f}"
            t.add_row(escape(" & ".join(row["reviewers"])), str(row["targets"]), agree, kappa)
        out_console.print(t)
    for note in rep.get("notes", []):
        err_console.print(f"[yellow]note:[/] {escape(note)}")
