"""``pathscope open RUN``: the terminal UI.

Opens the run for writing (the review screens append annotations); if another
process is writing it (``pathscope sample`` still running), opens a read-only
snapshot instead and says so.  A foreign, missing or newer file ends in one
sentence and a non-zero exit before any screen is drawn.
"""

from __future__ import annotations

import click

from ._common import err_console, run_path_argument


@click.command(name="open")
@run_path_argument
@click.option("--snapshot", is_flag=True, help="Open a read-only copy (works while another process writes the run).")
@click.option("--reviewer", metavar="NAME", help="Your name on review marks (default: [tui] reviewer in the config).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file (default: ./pathscope.toml, then ~/.config/pathscope/config.toml).")
def command(run: str, snapshot: bool, reviewer: str | None, config_path: str | None) -> None:
    """Browse RUN in the terminal: overview (pass@k, coverage, histograms),
    the problem table with search, and base-vs-RL chains of thought side by
    side.  Press ? for every key."""
    from ..tui.config import load_config

    config = load_config(config_path)
    r, reason = open_for_tui(run, snapshot)
    if reason and not snapshot:
        err_console.print(f"[yellow]note:[/] {reason}")
    try:
        from ..tui.app import PathscopeApp

        app = PathscopeApp(r, config=config, reviewer=reviewer, snapshot_reason=reason)
        app.run()
    finally:
        r.close()


def open_for_tui(path: str, snapshot: bool = False):
    """Open a run for the TUI: for writing, or a read-only snapshot when asked
    or when another process holds the run.  Returns (run, why it is a snapshot)."""
    from ..errors import RunLockedError
    from ..store import open_run

    if snapshot:
        return open_run(path, snapshot=True), "Opened as a read-only snapshot (--snapshot): later changes to the run are not shown."
    try:
        return open_run(path, create=False), None
    except RunLockedError as exc:
        who = f"process {exc.pid}" if exc.pid else "another process"
        return open_run(path, snapshot=True), f"The run is being written by {who}: showing a read-only snapshot taken now."
