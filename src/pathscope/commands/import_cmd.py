"""``pathscope import RUN FILE --model NAME``: existing generations into a run."""

from __future__ import annotations

import click

from ._common import err_console, open_for_cli, run_path_argument

_FORMATS = ("auto", "samples", "grouped", "lm-eval", "qwen-eval")


@click.command(name="import")
@run_path_argument
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--model", required=True, help="Name of the model that wrote the generations.")
@click.option("--role", help="base | rl | any label (default for a new model: base).")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="auto", show_default=True,
              help="Layout of FILE; auto recognises it from the first records.")
@click.option("--map", "maps", multiple=True, metavar="ROLE=FIELD",
              help="Take ROLE (id, prompt, answer, solution, text, sample_idx, extracted, correct, …) from FIELD. Repeatable.")
@click.option("--source", help="Source name for problems the file adds (default: from the file name).")
@click.option("--skip-bad", is_flag=True, help="Skip bad lines (reporting how many and the first few) instead of stopping.")
def command(run: str, file: str, model: str, role: str | None, fmt: str, maps: tuple[str, ...], source: str | None, skip_bad: bool) -> None:
    """Import the generations in FILE (JSONL, CSV, Parquet) into RUN.

    One file is one transaction: on an error nothing of it is kept.  Samples
    already stored are not duplicated; verdicts found in the file are stored
    as verifier 'imported'.
    """
    from rich.markup import escape

    from ..importers import import_file
    from ..records import parse_map

    mapping = parse_map(maps)
    with open_for_cli(run) as r:
        with err_console.status(f"importing {escape(file)} …"):
            report = import_file(r, file, model=model, role=role, fmt=fmt, mapping=mapping, skip_bad=skip_bad, source=source)
    for line in report.lines():
        err_console.print(escape(line), highlight=False, soft_wrap=True)
