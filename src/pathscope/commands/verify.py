"""``pathscope verify RUN``: a verdict for every sample that lacks one."""

from __future__ import annotations

import click

from ._common import err_console, open_for_cli, out_console, run_path_argument


@click.command(name="verify")
@run_path_argument
@click.option(
    "--verifier", type=click.Choice(["auto", "math", "code", "choice"]), default="auto", show_default=True,
    help="auto picks by problem kind; a named verifier grades every problem.",
)
@click.option("--workers", type=click.IntRange(min=0), default=None, help="Grading processes (default: CPU count, at most 8; 0 = in-process).")
@click.option("--batch", "batch_rows", type=click.IntRange(min=1), default=20_000, show_default=True, help="Samples per committed batch.")
@click.option("--timeout", "math_timeout", type=click.FloatRange(min=0.5), default=10.0, show_default=True, help="Seconds per math-verify comparison before it is killed.")
def command(run: str, verifier: str, workers: int | None, batch_rows: int, math_timeout: float) -> None:
    """Grade every sample of RUN that has no verdict from the chosen verifier.

    Resumable: verdicts are committed batch by batch; run it again after an
    interruption and it continues where it stopped.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..store.run import library_versions
    from ..verify.engine import VerifyOptions, pending_total, skipped_total, verify_run

    options = VerifyOptions(verifier=verifier, workers=workers, batch_rows=batch_rows, math_timeout=math_timeout)
    with open_for_cli(run, create=False) as r:
        total = pending_total(r, verifier)
        if total == 0:
            skipped = skipped_total(r, verifier)
            err_console.print("nothing to verify: every gradable sample already has a verdict.")
            if skipped:
                err_console.print(f"[yellow]skipped {skipped:,} samples whose problem has no reference answer (or, for code, no tests).[/]")
            return
        stage = r.start_stage("verify", {"verifier": verifier, "workers": workers, "batch": batch_rows, "timeout": math_timeout},
                              library_versions())
        columns = [
            TextColumn("verify"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} samples/s"), TimeRemainingColumn(),
        ]
        try:
            with Progress(*columns, console=err_console, transient=False) as progress:
                task = progress.add_task("verify", total=total, rate="-")

                def advance(n: int) -> None:
                    progress.advance(task, n)
                    t = progress.tasks[task]
                    speed = t.speed or (t.completed / t.elapsed if t.elapsed else 0)
                    progress.update(task, rate=f"{speed:,.0f}")

                result = verify_run(r, options, on_progress=advance)
        except BaseException:
            r.finish_stage(stage, "interrupted")
            raise
        r.finish_stage(stage, "done", result.as_dict())
    _print(result)


def _print(result) -> None:
    from rich.table import Table

    t = Table(title="verdicts written", title_justify="left")
    for col in ("verifier", "pass", "fail", "timeout", "error", "no_answer", "total"):
        t.add_column(col, justify="right" if col != "verifier" else "left")
    for v, counts in result.by_verifier.items():
        t.add_row(v, *(f"{counts.get(s, 0):,}" for s in ("pass", "fail", "timeout", "error", "no_answer")), f"{sum(counts.values()):,}")
    out_console.print(t)
    if result.distinct_pairs:
        err_console.print(
            f"math: {result.distinct_pairs:,} distinct (reference, answer) pairs graded, "
            f"{result.sent_to_math_verify:,} of them by math-verify."
        )
    if result.skipped_no_reference:
        err_console.print(f"[yellow]skipped {result.skipped_no_reference:,} samples whose problem has no reference answer (or, for code, no tests).[/]")
    for kind, n in result.unknown_kinds.items():
        err_console.print(f"[yellow]{n:,} problems of kind {kind!r} have no verifier (use --verifier to pick one).[/]")
