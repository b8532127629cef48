"""The pathscope terminal UI: one App, screens as MODES.

The app holds the open run and what several screens share (the compared
model pair, the problem order of the problems table, the search term, the
reviewer).  Screens query DuckDB only in thread workers (each with its own
cursor) and apply what those post back.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from textual import work
from textual.app import App, SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.worker import get_current_worker

from ..store import tui_queries
from .actions import REGISTRY, Action, actions_for, bindings_for
from .config import TuiConfig
from .messages import ProblemIndexLoaded
from .screens.detail import DetailScreen
from .screens.help import HelpScreen
from .screens.overview import OverviewScreen
from .screens.problems import ProblemsScreen

if TYPE_CHECKING:
    import duckdb

    from ..store.run import Run

STYLES = Path(__file__).resolve().parent.parent / "styles"
#: DuckDB memory cap while the TUI holds the run (PATHSCOPE_TUI_MEMORY overrides).
MEMORY_LIMIT = os.environ.get("PATHSCOPE_TUI_MEMORY", "192MB")


class ProblemJumpProvider(Provider):
    """Command palette: "jump to problem <id>" over the run's problem ids and prompts."""

    async def discover(self) -> Hits:
        app: PathscopeApp = self.app  # type: ignore[assignment]
        for pid, preview in app.problem_index[:20]:
            yield DiscoveryHit(f"Jump to problem {pid}", _jump(app, pid), help=preview)

    async def search(self, query: str) -> Hits:
        app: PathscopeApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        q = query.lower().removeprefix("jump to problem").strip()
        shown = 0
        for pid, preview in app.problem_index:
            text = f"Jump to problem {pid}"
            if q and (q in pid.lower() or q in preview.lower()):
                score = 1.0 if q == pid.lower() else 0.9 if pid.lower().startswith(q) else 0.6
                yield Hit(score, matcher.highlight(text), _jump(app, pid), text=text, help=preview)
                shown += 1
            elif q == "" or "jump".startswith(q[:4]):
                score = matcher.match(text)
                if score > 0:
                    yield Hit(score * 0.5, matcher.highlight(text), _jump(app, pid), text=text, help=preview)
                    shown += 1
            if shown >= 50:
                return


def _jump(app: "PathscopeApp", pid: str):
    return lambda: app.open_problem(pid)


def _screen(module: str, name: str) -> Screen:
    """A new screen of ``pathscope.tui.screens.<module>``, imported when first shown."""
    import importlib

    return getattr(importlib.import_module(f"{__package__}.screens.{module}"), name)()


class PathscopeApp(App):
    """``pathscope open RUN``."""

    TITLE = "pathscope"
    CSS_PATH = [STYLES / "global.tcss", STYLES / "app.tcss"]
    MODES = {
        "overview": OverviewScreen, "problems": ProblemsScreen, "detail": DetailScreen,
        # Imported on first visit: the first screen does not wait for them (or numpy).
        "tree": lambda: _screen("tree", "TreeScreen"),
        "clusters": lambda: _screen("clusters", "ClustersScreen"),
        "review": lambda: _screen("review", "ReviewScreen"),
    }
    DEFAULT_MODE = "overview"
    BINDINGS = bindings_for("app")
    COMMANDS = App.COMMANDS | {ProblemJumpProvider}

    def __init__(
        self,
        run: "Run",
        config: TuiConfig | None = None,
        reviewer: str | None = None,
        snapshot_reason: str | None = None,
    ) -> None:
        super().__init__()
        self.run_store = run
        self.config = config or TuiConfig()
        self.reviewer = reviewer or self.config.reviewer
        self.snapshot_reason = snapshot_reason
        # DuckDB's buffer pool would otherwise keep up to most of RAM of a scanned run
        # (a search reads every CoT); the views need little, so cap it.
        with contextlib.suppress(Exception):
            run.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        # Read before the event loop starts: two tiny rows, needed by every screen.
        self.model_rows = tui_queries.models(run.con)
        pair = tui_queries.pick_pair(self.model_rows)
        if pair is None:
            only = self.model_rows[0] if self.model_rows else {"model_id": -1, "name": "(no model)", "role": "-"}
            pair = (only, {"model_id": -2, "name": "(no second model)", "role": "-"})
        self.base_model, self.rl_model = pair
        self.current_problem: str | None = None
        #: Problem ids in the problems table's current order (next/prev problem follow it).
        self.problem_order: list[str] = []
        #: (problem_id, prompt start) for the palette; filled by a worker at start.
        self.problem_index: list[tuple[str, str]] = []
        #: The problems table's search text, highlighted in CoTs too.
        self.search_term: str = ""
        self._live_cursors: list[tuple[str, "duckdb.DuckDBPyConnection"]] = []
        self._cursor_lock = threading.Lock()
        if self.config.theme:
            if self.config.theme not in self.available_themes:
                from ..errors import InputError

                names = ", ".join(sorted(self.available_themes))
                raise InputError(f"{self.config.source}: [tui] theme {self.config.theme!r} is not a theme (one of: {names}).")
            self.theme = self.config.theme

    # -- lifecycle -------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.config.keys:
            self.set_keymap(self.config.keys)
        self.sub_title = self._subtitle()
        if self.snapshot_reason:
            self.notify(self.snapshot_reason, title="read-only snapshot", severity="warning", timeout=10)
        self.load_problem_index()

    def _subtitle(self) -> str:
        name = self.run_store.path.name
        if self.run_store.is_snapshot:
            return f"{name} · READ-ONLY SNAPSHOT"
        if self.run_store.read_only:
            return f"{name} · read-only"
        return name

    @contextlib.contextmanager
    def cursor(self, tag: str = "") -> Iterator["duckdb.DuckDBPyConnection"]:
        """A connection of its own for one worker thread (DuckDB cursors are per
        thread).  Open cursors are tracked by ``tag`` so that a superseded long
        query (a search over every CoT) can be interrupted, see :meth:`interrupt`."""
        cur = self.run_store.con.cursor()
        with self._cursor_lock:
            self._live_cursors.append((tag, cur))
        try:
            yield cur
        finally:
            with self._cursor_lock:
                self._live_cursors = [(t, c) for t, c in self._live_cursors if c is not cur]
            cur.close()

    def interrupt(self, tag: str | None = None) -> None:
        """Interrupt the running queries of workers with ``tag`` (all when None)."""
        with self._cursor_lock:
            live = [c for t, c in self._live_cursors if tag is None or t == tag]
        for cur in live:
            with contextlib.suppress(Exception):
                cur.interrupt()

    async def action_quit(self) -> None:
        self.interrupt()  # do not wait for a long search to finish
        await super().action_quit()

    @work(thread=True, exclusive=True, group="problem-index")
    def load_problem_index(self) -> None:
        with self.cursor() as con:
            rows = tui_queries.problem_index(con)
        if not get_current_worker().is_cancelled:
            self.post_message(ProblemIndexLoaded(rows))

    def on_problem_index_loaded(self, message: ProblemIndexLoaded) -> None:
        self.problem_index = message.rows
        if not self.problem_order:
            self.problem_order = [pid for pid, _ in message.rows]

    # -- navigation (screens call these) -----------------------------------------------

    def action_goto(self, mode: str) -> None:
        if mode in ("detail", "tree", "clusters") and self.current_problem is None:
            if not self.problem_order:
                self.notify("No problem selected yet: pick one in the problems table.", severity="warning")
                return
            self.current_problem = self.problem_order[0]
        if self.current_mode != mode:
            self.switch_mode(mode)

    def open_problem(self, problem_id: str) -> None:
        """Show one problem in the detail screen."""
        self.current_problem = problem_id
        if self.current_mode != "detail":
            self.switch_mode("detail")
        else:
            screen = self.screen
            if isinstance(screen, DetailScreen):
                screen.show_problem(problem_id)

    def show_problems(self, filter: str = "all") -> None:
        """Open the problems table with a filter (the overview's coverage sets)."""
        if self.current_mode != "problems":
            self.switch_mode("problems")
        screen = self.get_screen_for_mode("problems")
        if screen is not None:
            screen.set_filter(filter)

    def get_screen_for_mode(self, mode: str):
        stack = self._screen_stacks.get(mode)
        return stack[0] if stack else None

    def action_show_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        scope = getattr(self.screen, "SCOPE", "app")
        self.push_screen(HelpScreen(scope, dict(self.config.keys)))

    # -- command palette: every registry action of this screen and the app --------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        scope = getattr(screen, "SCOPE", "app")
        keymap = dict(self.config.keys)
        for action in actions_for(scope) + actions_for("app"):
            if not action.palette:
                continue
            keys = keymap.get(action.id, action.keys)
            yield SystemCommand(action.description, f"{action.id} · keys: {keys}", _runner(screen, action))
        yield from super().get_system_commands(screen)


def _runner(screen: Screen, action: Action):
    async def run() -> None:
        await screen.run_action(action.action)

    return run


__all__ = ["PathscopeApp", "REGISTRY"]
