"""``pathscope merge OUT SHARD...``: combine runs sampled on different machines."""

from __future__ import annotations

import click

from ._common import err_console


@click.command(name="merge")
@click.argument("out", type=click.Path(dir_okay=False))
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
def command(out: str, shards: tuple[str, ...]) -> None:
    """Merge the run files SHARDS into a new run OUT.

    Shards share their problems and hold disjoint samples (different models,
    or different sample_idx ranges of one model).  Models are matched by name.
    A sample key found in two shards is refused, naming it; nothing is
    written unless the whole merge succeeds.
    """
    from ..store.merge import merge_runs

    report = merge_runs(out, list(shards))
    for s in report["shards"]:
        err_console.print(
            f"{s['shard']}: {s['samples']:,} samples, {s['verdicts']:,} verdicts, {s['scores']:,} scores, "
            f"{s['problems_added']:,} new problems, {s['models']} models"
        )
    if report["skipped_derived"]:
        tables = ", ".join(f"{t} ({n:,})" for t, n in report["skipped_derived"].items())
        err_console.print(f"not merged (derived per run; run `pathscope analyze` on {out}): {tables}")
    click.echo(out)
