"""What every subcommand shares: the stderr console and opening a run."""

from __future__ import annotations

import click
from rich.console import Console

#: Diagnostics and progress go to stderr; data (tables, JSON) to stdout.
err_console = Console(stderr=True)
out_console = Console()

run_path_argument = click.argument("run", type=click.Path(dir_okay=False))


def open_for_cli(path: str, read_only: bool = False, create: bool | None = None):
    """Open a run; errors surface as PathscopeError and the CLI prints them.

    A read-only command on a run another process is writing (a sampler, the TUI)
    reads a snapshot taken now instead of failing, and says so on stderr."""
    from ..errors import RunLockedError
    from ..store import open_run

    try:
        return open_run(path, read_only=read_only, create=create)
    except RunLockedError as exc:
        if not read_only:
            raise
        holder = f"process {exc.pid}" if exc.pid else "another process"
        click.echo(f"note: {path} is open for writing by {holder}; reading a snapshot taken now.", err=True)
        return open_run(path, snapshot=True)
