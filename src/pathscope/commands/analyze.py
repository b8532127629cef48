"""``pathscope analyze RUN``: embed, cluster strategies, step tree, base evidence."""

from __future__ import annotations

import json

import click

from ._common import err_console, open_for_cli, run_path_argument


def _csv(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


@click.command(name="analyze")
@run_path_argument
@click.option("--models", help="Comma-separated model names to analyse together (default: every model).")
@click.option("--problems", help="Comma-separated problem ids (default: all).")
@click.option("--embedder", default=None, help="sentence-transformers model name or folder (default: the bundled all-MiniLM-L6-v2).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto", show_default=True,
              help="auto: a half type only where it keeps cosine >= 0.998 to fp32 on this run's texts.")
@click.option("--stages", default="embed,cluster,tree,evidence", show_default=True, help="Which stages to run, in order.")
@click.option("--base", "base", default=None, help="The base model for evidence (default: the model with role 'base').")
@click.option("--threshold", type=float, default=None, help="Strategy clusters: cosine distance cut (default 0.25).")
@click.option("--step-threshold", type=float, default=None, help="Step clusters: cosine distance cut (default 0.25).")
@click.option("--max-depth", type=int, default=None, help="Steps per CoT that enter the tree (default 12).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the stage summaries as JSON on stdout.")
def command(run, models, problems, embedder, device, precision, stages, base, threshold, step_threshold, max_depth, seed, as_json):
    """Embed every CoT of RUN, cluster each problem's CoTs into strategies,
    build each problem's step tree, and gather base-model evidence for every
    correct solution of the compared models.  Resumable: re-running skips
    what is done."""
    from ..analysis.pipeline import STAGES, AnalyzeOptions, analyze
    from ..errors import PathscopeError

    chosen = tuple(_csv(stages) or ())
    bad = [s for s in chosen if s not in STAGES]
    if bad or not chosen:
        raise PathscopeError(f"--stages: unknown stage {bad[0]!r} (choose from {', '.join(STAGES)})." if bad else "--stages: name at least one stage.")
    opts = AnalyzeOptions(models=_csv(models), problems=_csv(problems), embedder=embedder, device=device,
                          precision=precision, stages=chosen, base=base, seed=seed)
    if threshold is not None:
        opts.threshold = threshold
    if step_threshold is not None:
        opts.step_threshold = step_threshold
    if max_depth is not None:
        opts.max_depth = max_depth
    with open_for_cli(run) as r:
        summary = analyze(r, opts, console=err_console)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    for stage, s in summary.items():
        err_console.print(f"[bold]{stage}[/]: " + ", ".join(f"{k} {v}" for k, v in s.items() if not isinstance(v, (dict, list))))
