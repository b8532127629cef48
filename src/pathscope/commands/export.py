"""``pathscope export RUN``: clusters, samples, tree or annotations to a file."""

from __future__ import annotations

import click

from ._common import err_console, open_for_cli, run_path_argument

_EXT = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet", ".md": "md"}


@click.command(name="export")
@run_path_argument
@click.option("--what", type=click.Choice(["clusters", "samples", "tree", "annotations"]), default="clusters", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet", "md"]), default=None,
              help="Default: from the output file's extension (jsonl for stdout).")
@click.option("-o", "--output", "output", required=True, help="Output file, or - for stdout.")
@click.option("--problems", help="Comma-separated problem ids (default: all).")
def command(run, what, fmt, output, problems):
    """Export the analysis of RUN: annotated strategy clusters (members per
    model and verdict, medoid CoT, evidence, reviewers' marks), samples, step
    tree nodes, or the review history.  Data goes to the file (or stdout),
    diagnostics to stderr."""
    from pathlib import Path

    from ..errors import PathscopeError
    from ..export import export

    if fmt is None:
        fmt = "jsonl" if output == "-" else _EXT.get(Path(output).suffix.lower())
        if fmt is None:
            raise PathscopeError(f"{output}: cannot tell the format from the extension; pass --format jsonl|csv|parquet|md.")
    ids = [p.strip() for p in problems.split(",") if p.strip()] if problems else None
    with open_for_cli(run, read_only=True) as r:
        n = export(r, what, fmt, output, problem_ids=ids)
    where = "stdout" if output == "-" else output
    err_console.print(f"exported {n:,} {what} rows as {fmt} to {where}")
