"""What every pathscope screen shares: header, footer, its action scope."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

from textual.screen import Screen
from textual.widgets import Footer, Header

from ..messages import QueryFailed

if TYPE_CHECKING:
    import duckdb

    from ..app import PathscopeApp


class PathscopeScreen(Screen):
    """Base of the app's mode screens.  ``SCOPE`` names its rows in the action registry."""

    SCOPE = "app"

    @property
    def papp(self) -> "PathscopeApp":
        return self.app  # type: ignore[return-value]

    def compose_header(self):
        yield Header(show_clock=False, icon="◇")

    def compose_footer(self):
        yield Footer()

    @contextlib.contextmanager
    def cursor(self, tag: str = "") -> Iterator["duckdb.DuckDBPyConnection"]:
        """A DuckDB cursor of its own, for use inside one thread worker."""
        with self.papp.cursor(tag) as cur:
            yield cur

    def on_query_failed(self, message: QueryFailed) -> None:
        self.notify(f"{message.where}: {message.error}", title="query failed", severity="error", timeout=8)
