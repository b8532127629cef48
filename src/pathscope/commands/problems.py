"""``pathscope problems add RUN FILE`` / ``pathscope problems list RUN``."""

from __future__ import annotations

import click

from ._common import err_console, open_for_cli, out_console, run_path_argument

_KINDS = ("math", "code", "choice")


@click.group(name="problems")
def command() -> None:
    """Add problem sets (JSONL, Parquet, CSV) to a run, or list them."""


@command.command(name="add")
@run_path_argument
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--source", help="Name of the problem set (default: from the file or folder name).")
@click.option("--kind", type=click.Choice(_KINDS), help="math | code | choice (default: guessed from the fields).")
@click.option("--map", "maps", multiple=True, metavar="ROLE=FIELD",
              help="Take ROLE (prompt, answer, id, solution, tests, choices) from FIELD. Repeatable.")
def add(run: str, file: str, source: str | None, kind: str | None, maps: tuple[str, ...]) -> None:
    """Add the problems of FILE to RUN (created if missing).

    Fields are recognised by common names (problem/question, answer/gt,
    id/idx/unique_id, solution); with no answer field the answer is the last
    \\boxed{} of the solution.  Ids become SOURCE/ID.
    """
    from rich.markup import escape

    from ..problems import add_problem_file
    from ..records import parse_map

    mapping = parse_map(maps)
    with open_for_cli(run) as r:
        report = add_problem_file(r, file, source=source, kind=kind, mapping=mapping)
    for line in report.lines():
        err_console.print(escape(line), highlight=False, soft_wrap=True)


@command.command(name="list")
@run_path_argument
def list_(run: str) -> None:
    """Problems of RUN by source and kind."""
    from rich.table import Table

    from ..store.summary import run_summary

    with open_for_cli(run, read_only=True) as r:
        summary = run_summary(r)
    t = Table(title="problems", title_justify="left")
    for col in ("source", "kind", "problems"):
        t.add_column(col)
    for p in summary["problems"]:
        t.add_row(str(p["source"]), p["kind"], f"{p['count']:,}")
    out_console.print(t)
