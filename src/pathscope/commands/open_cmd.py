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
    from ..errors import RunLockedError
    from ..store import open_run
    from ..tui.config import load_config

    config = load_config(config_path)
    reason = None
    if snapshot:
        r = open_run(run, snapshot=True)
        reason = "Opened as a read-only snapshot (--snapshot): changes to the run after this moment are not shown."
    else:
        try:
            r = open_run(run, create=False)
        except RunLockedError as exc:
            who = f"process {exc.pid}" if exc.pid else "another process"
            r = open_run(run, snapshot=True)
            reason = f"The run is being written by {who}: showing a read-only snapshot taken now."
            err_console.print(f"[yellow]note:[/] {reason}")
    try:
        from ..tui.app import PathscopeApp

        app = PathscopeApp(r, config=config, reviewer=reviewer, snapshot_reason=reason)
        app.run()
    finally:
        r.close()
