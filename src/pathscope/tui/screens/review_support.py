"""What the review, tree and clusters screens share: the reviewer's name, a
``Run`` over a worker's own cursor, the note dialog, exporting annotated
clusters through the same exporter as ``pathscope export``, and loading one
sample's CoT into the screen's ``CotView`` off the UI thread."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from ...errors import PathscopeError
from ...review import resolve_reviewer
from ...store import tree_queries
from ...store.run import Run

#: Export formats chosen by the file's extension.
EXPORT_FORMATS = {".md": "md", ".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}


def reviewer_for(app) -> str:
    """The reviewer: ``--reviewer`` / ``[tui] reviewer`` (the app's), else
    ``[review] reviewer`` of the same config file, else the OS user.  Resolved
    once and kept on the app."""
    name = getattr(app, "_resolved_reviewer", None)
    if name:
        return name
    config = getattr(app, "config", None)
    source = getattr(config, "source", None)
    try:
        name = resolve_reviewer(getattr(app, "reviewer", None), config_path=source)
    except PathscopeError:
        name = resolve_reviewer(None, config_path=None)
    app._resolved_reviewer = name
    return name


def cursor_run(app_run: Run, cursor) -> Run:
    """A :class:`Run` over a worker thread's own cursor (never closed through
    this handle: the cursor's ``with`` block owns it)."""
    return Run(cursor, app_run.path, read_only=app_run.read_only)


def write_refusal(run: Run) -> str | None:
    """Why marks cannot be saved in this run, or None."""
    if run.is_snapshot:
        return "This is a read-only snapshot of the run: marks cannot be saved here. Close the writer (or reopen without --snapshot) to review."
    if run.read_only:
        return "The run is open read-only: marks cannot be saved here."
    return None


class TextDialog(ModalScreen[str | None]):
    """One line of input (a note, a file name): Enter accepts, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    DEFAULT_CSS = """
    TextDialog { align: center middle; }
    TextDialog > Vertical { width: 90; max-width: 95%; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    TextDialog .dialog-title { text-style: bold; color: $accent; }
    TextDialog .dialog-hint { color: $text-muted; }
    """

    def __init__(self, title: str, value: str = "", hint: str = "Enter: save · Esc: cancel", placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.hint, self.placeholder = title, value, hint, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="dialog-input")
            yield Static(Content(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportDone(Message):
    bubble = False

    def __init__(self, path: str | None, summary: str, error: str | None = None) -> None:
        super().__init__()
        self.path, self.summary, self.error = path, summary, error


def default_export_path(run: Run, problem_id: str | None) -> str:
    stem = run.path.stem
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in (problem_id or ""))
    name = f"{stem}-clusters-{safe}.md" if problem_id else f"{stem}-clusters.md"
    return str(run.path.with_name(name))


def export_clusters(run: Run, path: str, problem_id: str | None) -> str:
    """Write annotated clusters (one problem, or all) through the exporter of
    ``pathscope export``; returns a one-line summary."""
    fmt = EXPORT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise PathscopeError(f"{path}: choose a file ending in {', '.join(EXPORT_FORMATS)} (the format follows the extension).")
    try:
        from ... import export as exporter
    except ImportError:
        raise PathscopeError("the exporter (pathscope.export) is not available in this build.") from None
    rows = exporter.export(run, "clusters", fmt, path, problem_ids=[problem_id] if problem_id else None)
    return f"{rows:,} clusters"


class ExportMixin:
    """``e`` / ``E`` on a screen: ask for a file, then export in a worker."""

    def export_problem_id(self) -> str | None:
        return getattr(self, "problem_id", None)

    def action_export(self, scope: str) -> None:
        pid = self.export_problem_id() if scope == "problem" else None
        if scope == "problem" and pid is None:
            self.notify("No problem selected: E exports the whole run.", severity="warning")
            return
        run = self.app.run_store
        what = f"problem {pid}" if pid else "the whole run"
        dialog = TextDialog(f"Export the annotated clusters of {what} to:", default_export_path(run, pid),
                            hint="Enter: export · Esc: cancel · format from the extension: .md .jsonl .csv .parquet")

        def done(path: str | None) -> None:
            if path:
                self._export(path.strip(), pid)

        self.app.push_screen(dialog, done)

    @work(thread=True, group="export")
    def _export(self, path: str, problem_id: str | None) -> None:
        app = self.app
        try:
            with app.cursor() as cur:
                summary = export_clusters(cursor_run(app.run_store, cur), path, problem_id)
        except PathscopeError as exc:
            self.post_message(ExportDone(None, "", str(exc)))
            return
        except Exception as exc:  # shown, never a traceback in the UI
            self.post_message(ExportDone(None, "", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
            return
        self.post_message(ExportDone(path, summary))

    def on_export_done(self, message: ExportDone) -> None:
        if message.error:
            self.notify(message.error, title="export failed", severity="error", timeout=10)
        else:
            self.notify(f"exported annotated clusters to {message.path} ({message.summary})", title="export", timeout=8)


class CotLoaded(Message):
    """One sample's CoT text, read by :meth:`CotLoaderMixin.load_cot`."""

    def __init__(self, key: tuple, text: str, extracted: str | None) -> None:
        super().__init__()
        self.key, self.text, self.extracted = key, text, extracted


class CotLoaderMixin:
    """Show a sample's CoT in the screen's ``CotView``: the text is read in a
    thread worker (the newest request wins) and dropped if the screen has moved
    on to another problem.  The screen keeps ``problem_id`` and a ``cursor()``."""

    shown_sample: tuple | None = None

    @work(thread=True, exclusive=True, group="cot-text")
    def load_cot(self, key: tuple, extracted: str | None) -> None:
        from ..messages import QueryFailed

        try:
            with self.cursor() as con:
                text = tree_queries.sample_text(con, *key)
        except Exception as exc:
            self.post_message(QueryFailed("sample", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(CotLoaded(key, text or "", extracted))

    def on_cot_loaded(self, m: CotLoaded) -> None:
        from ..widgets.cot_view import CotView

        if m.key[1] != self.problem_id:
            return
        self.query_one(CotView).set_text(m.text, answer=m.extracted)
        self.shown_sample = m.key
