"""What every subcommand shares: the stderr console and opening a run."""

from __future__ import annotations

import click
from rich.console import Console

#: Diagnostics and progress go to stderr; data (tables, JSON) to stdout.
err_console = Console(stderr=True)
out_console = Console()

run_path_argument = click.argument("run", type=click.Path(dir_okay=False))


def open_for_cli(path: str, read_only: bool = False, create: bool | None = None):
    """Open a run; errors surface as PathscopeError and the CLI prints them."""
    from ..store import open_run

    return open_run(path, read_only=read_only, create=create)
