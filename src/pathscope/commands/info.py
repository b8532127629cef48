"""``pathscope info RUN``: what a run holds and which stages have run."""

from __future__ import annotations

import json

import click

from ..safe_text import for_markup
from ._common import open_for_cli, out_console, run_path_argument


@click.command(name="info")
@run_path_argument
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def command(run: str, as_json: bool) -> None:
    """Summarise RUN: models and roles, problems by source and kind, samples
    per model and per problem, and which stages have run."""
    from ..store.summary import run_summary

    with open_for_cli(run, read_only=True) as r:
        summary = run_summary(r)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    _print(summary)


def _print(s: dict) -> None:
    from rich.table import Table

    from rich.markup import escape

    out_console.print(f"[bold]{escape(s['path'])}[/]  schema {s['schema_version']} · pathscope {s['pathscope_version']}")
    if s.get("rl_method"):
        out_console.print(f"RL method: {for_markup(s['rl_method'])}")
    t = Table(title="models", title_justify="left")
    for col in ("model", "role", "backend", "samples", "problems", "per problem min/median/max", "verdicts", "correct"):
        t.add_column(col)
    for m in s["models"]:
        pp = m["samples_per_problem"]
        t.add_row(
            m["name"], m["role"], m["backend"] or "-", f"{m['samples']:,}", f"{m['problems']:,}",
            f"{pp['min']}/{pp['median']}/{pp['max']}" if pp["min"] is not None else "-",
            f"{m['verdicts']:,}", f"{m['correct']:,}",
        )
    out_console.print(t)
    t = Table(title="problems", title_justify="left")
    for col in ("source", "kind", "problems"):
        t.add_column(col)
    for p in s["problems"]:
        t.add_row(str(p["source"]), p["kind"], f"{p['count']:,}")
    out_console.print(t)
    t = Table(title="stages", title_justify="left")
    for col in ("stage", "runs", "last status", "last finished"):
        t.add_column(col)
    for st in s["stages"]:
        t.add_row(st["stage"], str(st["runs"]), st["status"], str(st["finished_at"] or "-"))
    if not s["stages"]:
        t.add_row("(none yet)", "", "", "")
    out_console.print(t)
    tables = ", ".join(f"{k} {v:,}" for k, v in s["tables"].items())
    out_console.print(f"rows: {tables}")
