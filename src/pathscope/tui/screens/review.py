"""Review mode: judge whether each correct RL solution (or RL strategy
cluster) was already within the base model's reach.

Left: the RL CoT.  Right: its evidence (suggested mark, nearest base sample
and similarity, shared strategy cluster, perplexity under the base model, how
many base samples reached the same answer) and the nearest base CoT.  One key
per mark; every mark is one committed row (``pathscope.store.annotations``)
written by a thread in the order the keys were pressed, and the status line
says "saved" only once the row is committed.  A read-only
snapshot says so instead of pretending to save.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from ...review import LABEL_TEXT, ReviewItem, ReviewQueue
from ...safe_text import clean
from ...store.annotations import Mark
from ..actions import bindings_for
from ..widgets.cot_view import CotView
from .base import PathscopeScreen
from .review_support import ExportMixin, TextDialog, cursor_run, reviewer_for, write_refusal

STYLES = Path(__file__).resolve().parents[2] / "styles"


_MARK_STYLE = {"already_in_base": "bold $primary", "novel": "bold $warning", "possibly_novel": "bold $warning",
               "unsure": "bold $secondary", "cleared": "$text-muted"}


def _fmt(v, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def _yes_no(v) -> tuple[str, str]:
    if v is None:
        return "–", "$text-muted"
    return ("yes", "bold $primary") if v else ("no", "bold $warning")


class ReviewScreen(ExportMixin, PathscopeScreen):
    SCOPE = "review"
    BINDINGS = bindings_for("review")
    CSS_PATH = STYLES / "review.tcss"

    class QueueLoaded(Message):
        bubble = False

        def __init__(self, token: int, queue: ReviewQueue | None, error: str | None = None,
                     keep_target: str | None = None) -> None:
            super().__init__()
            self.token, self.queue, self.error, self.keep_target = token, queue, error, keep_target

    class ItemLoaded(Message):
        bubble = False

        def __init__(self, token: int, item: ReviewItem | None, error: str | None = None) -> None:
            super().__init__()
            self.token, self.item, self.error = token, item, error

    class MarkSaved(Message):
        """A row is committed.  ``op``: mark | note | undo; ``position`` of its item."""

        bubble = False

        def __init__(self, token: int, op: str, position: int, mark: Mark) -> None:
            super().__init__()
            self.token, self.op, self.position, self.mark = token, op, position, mark

    class MarkFailed(Message):
        bubble = False

        def __init__(self, token: int, op: str, error: str) -> None:
            super().__init__()
            self.token, self.op, self.error = token, op, error

    def __init__(self) -> None:
        super().__init__()
        self.kind = "sample"
        self.scope_problem: str | None = None  # None: the whole run
        self.queue: ReviewQueue | None = None
        self.position = 0
        self.item: ReviewItem | None = None
        self.token = 0  # bumps when the queue is replaced; stale results are dropped
        self.last_saved: Mark | None = None
        self._turn = threading.Condition()
        self._issued = 0  # tickets handed to write workers
        self._next_ticket = 0  # the ticket whose write goes next

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="rv-bar")
        with VerticalScroll(id="rv-problem-scroll"):
            yield Static("", id="rv-problem")
        with Horizontal(id="rv-body"):
            with Vertical(id="rv-left", classes="rv-pane"):
                yield Static("", id="rv-rl-head")
                yield CotView(id="rv-rl")
            with Vertical(id="rv-right", classes="rv-pane"):
                yield Static("", id="rv-evidence")
                yield Static("", id="rv-base-head")
                yield CotView(id="rv-base")
        yield Static("", id="rv-status")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.reviewer = reviewer_for(self.papp)
        self.refusal = write_refusal(self.papp.run_store)
        self._status_idle()
        self.load_queue()

    def on_unmount(self) -> None:
        """On the way out (quit right after a key), let the writes already
        sent finish rather than race the run being closed."""
        deadline = time.monotonic() + 5.0
        with self._turn:
            while self._next_ticket < self._issued and time.monotonic() < deadline:
                self._turn.wait(timeout=0.1)

    # -- the queue ----------------------------------------------------------------------

    def load_queue(self, keep_target: str | None = None) -> None:
        self.token += 1
        self.queue = None
        self.item = None
        self._update_bar()
        self._read_queue(self.token, self.kind, self.scope_problem, keep_target)

    @work(thread=True, exclusive=True, group="review-queue")
    def _read_queue(self, token: int, kind: str, problem_id: str | None, keep_target: str | None) -> None:
        app = self.papp
        try:
            with app.cursor() as cur:
                # a placeholder pair (a one-model run) has negative ids: let the queue say what is missing
                model, base = app.rl_model["model_id"], app.base_model["model_id"]
                q = ReviewQueue(cursor_run(app.run_store, cur), self.reviewer, kind=kind, problem_id=problem_id,
                                model=model if model >= 0 else None, base=base if base >= 0 else None)
        except Exception as exc:
            self.post_message(self.QueueLoaded(token, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        q.run = app.run_store  # the worker's cursor is closed now; callers pass their own
        if not get_current_worker().is_cancelled:
            self.post_message(self.QueueLoaded(token, q, keep_target=keep_target))

    def on_review_screen_queue_loaded(self, m: QueueLoaded) -> None:
        if m.token != self.token:
            return
        if m.queue is None:
            self.query_one("#rv-bar", Static).update(Content.styled(f"cannot build the review queue: {m.error}", "bold $error"))
            return
        self.queue = m.queue
        pos = m.queue.position_of(m.keep_target) if m.keep_target else None
        self.position = pos if pos is not None else m.queue.resume_position()
        self._update_bar()
        if len(m.queue) == 0:
            self._show_empty()
            return
        self.load_item()

    def load_item(self) -> None:
        if self.queue is None or len(self.queue) == 0:
            return
        self._read_item(self.token, self.queue, self.position)

    @work(thread=True, exclusive=True, group="review-item")
    def _read_item(self, token: int, q: ReviewQueue, position: int) -> None:
        app = self.papp
        try:
            with app.cursor() as cur:
                item = q.item(position, run=cursor_run(app.run_store, cur))
        except Exception as exc:
            self.post_message(self.ItemLoaded(token, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.ItemLoaded(token, item))

    def on_review_screen_item_loaded(self, m: ItemLoaded) -> None:
        if m.token != self.token:
            return
        if m.item is None:
            self.notify(f"review item: {m.error}", title="query failed", severity="error", timeout=8)
            return
        if m.item.position != self.position:
            return  # the reviewer has moved on
        self.item = m.item
        self._show_item(m.item)

    # -- drawing --------------------------------------------------------------------------

    def _update_bar(self) -> None:
        q = self.queue
        what = "RL solutions" if self.kind == "sample" else "RL strategy clusters"
        where = f"problem {clean(self.scope_problem)}" if self.scope_problem else "whole run"
        bits = [("reviewer ", "$text-muted"), (clean(self.reviewer), "bold"), ("  ·  ", "$text-muted"),
                (what, "bold"), (" of ", "$text-muted"), (clean(self.papp.rl_model["name"]), "$warning"),
                (" against base model ", "$text-muted"), (clean(self.papp.base_model["name"]), "$primary"),
                (f"  ·  {where}", "$text-muted")]
        if q is None:
            bits.append(("  ·  loading the queue…", "$text-muted"))
        elif len(q):
            done, total = q.progress()
            bits += [("  ·  ", "$text-muted"), (f"{done}/{total} reviewed", "bold $success" if done == total else "bold $accent"),
                     (f"  ·  item {self.position + 1} of {total}", "$text-muted")]
        if self.papp.run_store.is_snapshot:
            bits.append(("  ·  READ-ONLY SNAPSHOT", "bold $error"))
        self.query_one("#rv-bar", Static).update(Content.assemble(*bits))

    def _show_empty(self) -> None:
        what = "correct RL samples" if self.kind == "sample" else "clusters with correct RL samples"
        hint = "" if self.kind == "sample" else " (run `pathscope analyze` to cluster strategies)"
        self.query_one("#rv-problem", Static).update("")
        self.query_one("#rv-rl-head", Static).update(Content.styled(f"Nothing to review: no {what} here{hint}.", "$warning"))
        self.query_one("#rv-rl", CotView).set_text("")
        self.query_one("#rv-base", CotView).set_text("")
        self.query_one("#rv-evidence", Static).update("")
        self.query_one("#rv-base-head", Static).update("")

    def _show_item(self, it: ReviewItem) -> None:
        self._update_bar()
        ref = ("   reference answer: ", "$text-muted"), (clean(it.reference or "–"), "bold $success")
        self.query_one("#rv-problem", Static).update(Content.assemble(
            ("problem ", "$text-muted"), (clean(it.problem_id), "bold"), *ref, ("\n" + clean(it.prompt), "")))
        if it.kind == "sample":
            head = [("RL sample ", "$text-muted"), (f"#{it.key}", "bold")]
        else:
            c = it.cluster or {}
            head = [("cluster ", "$text-muted"), (f"{it.key}", "bold"), ("  ", ""), (clean(c.get("label") or ""), "italic"),
                    (f"   showing RL member #{it.text_sample_idx}" if it.text_sample_idx is not None else "   (no member text)", "$text-muted")]
        head += [("   answer ", "$text-muted"), (clean(it.extracted) if it.extracted is not None else "–", "bold"),
                 ("   your mark: ", "$text-muted")]
        head += self._mark_bits(it.label, it.note)
        self.query_one("#rv-rl-head", Static).update(Content.assemble(*head))
        self.query_one("#rv-rl", CotView).set_text(it.text, answer=it.extracted)
        self.query_one("#rv-evidence", Static).update(self._evidence(it))
        if it.nearest_base_text is not None:
            self.query_one("#rv-base-head", Static).update(Content.assemble(
                ("nearest base CoT ", "bold"), (f"#{it.nearest_base_idx}", "bold $primary"),
                (f"   cosine {_fmt(it.similarity)}", "$text-muted")))
            self.query_one("#rv-base", CotView).set_text(it.nearest_base_text)
        else:
            self.query_one("#rv-base-head", Static).update(Content.styled("no nearest base CoT stored (run `pathscope analyze`)", "$text-muted"))
            self.query_one("#rv-base", CotView).set_text("")

    def _mark_bits(self, label: str | None, note: str | None) -> list[tuple[str, str]]:
        if label is None or label == "cleared":
            bits = [("not reviewed", "$text-muted")]
        else:
            bits = [(LABEL_TEXT.get(label, label), _MARK_STYLE.get(label, "bold"))]
        if note:
            bits.append((f"   note: {clean(note)}", "italic"))
        return bits

    def _evidence(self, it: ReviewItem) -> Content:
        bits: list[tuple[str, str]] = [("suggested: ", "$text-muted")]
        if it.suggested_mark:
            bits.append((LABEL_TEXT.get(it.suggested_mark, clean(it.suggested_mark)), _MARK_STYLE.get(it.suggested_mark, "bold")))
            if it.confidence is not None:
                bits.append((f" (confidence {it.confidence:.2f})", "$text-muted"))
        else:
            bits.append(("none stored", "$text-muted"))
        shares, style = _yes_no(it.shares_cluster_with_correct_base)
        bits += [("\nshares a strategy with a correct base sample: ", "$text-muted"), (shares, style)]
        c = it.cluster
        if c:
            bits += [(f"\ncluster {c['cluster_id']} ", "$text-muted"), (clean(c.get("label") or ""), "italic"),
                     ("  base ", "$text-muted"), (f"{c['base_correct']}✓/{c['base_n'] - c['base_correct']}✗", ""),
                     ("  RL ", "$text-muted"), (f"{c['rl_correct']}✓/{c['rl_n'] - c['rl_correct']}✗", "")]
        bits += [("\nperplexity under base: ", "$text-muted"), (_fmt(it.ppl_under_base), "bold")]
        if it.kind == "cluster" and it.ppl_under_base is not None:
            bits.append((" (mean over members)", "$text-muted"))
        if it.base_same_answer is not None:
            same, n = it.base_same_answer
            bits += [("\nsame answer among base samples: ", "$text-muted"),
                     (f"{same} of {n}", "bold $primary" if same else "bold $warning")]
        elif it.answer_in_base is not None:
            yes, style = _yes_no(it.answer_in_base)
            bits += [("\nanswer among base samples: ", "$text-muted"), (yes, style)]
        if it.kind == "cluster" and it.extra:
            bits += [("\nmembers suggested in-base / novel: ", "$text-muted"),
                     (f"{it.extra.get('n_suggest_base', 0)} / {it.extra.get('n_suggest_novel', 0)}", "")]
        return Content.assemble(*bits)

    def _status_idle(self) -> None:
        st = self.query_one("#rv-status", Static)
        if self.refusal:
            st.update(Content.styled(self.refusal, "bold $error"))
        else:
            st.update(Content.styled("y in base · n novel · u unsure · c note · z undo · space/j next · k prev · m samples/clusters · a run/problem",
                                     "$text-muted"))

    def _status(self, content: Content) -> None:
        self.query_one("#rv-status", Static).update(content)

    # -- writing: in key order, never dropped -------------------------------------------
    #
    # Each write runs in a plain thread started at the key press (a Textual
    # worker that has not started yet is cancelled, not run, when the app
    # exits: a quick `y` then `q` would lose the mark).  Tickets keep the
    # writes in key order; unmounting waits for the ones already sent.

    @property
    def writes_pending(self) -> int:
        with self._turn:
            return self._issued - self._next_ticket

    def _write(self, ticket: int, job: tuple) -> None:
        """Apply one write, after every write sent before it, and report it
        only once its row is committed."""
        with self._turn:
            while self._next_ticket != ticket:
                self._turn.wait()
        try:
            self._apply(job)
        finally:
            with self._turn:
                self._next_ticket += 1
                self._turn.notify_all()

    def _apply(self, job: tuple) -> None:
        token, op, q, position, payload = job
        app = self.papp
        try:
            # A cursor of its own, not the app's tracked ones: quitting
            # interrupts the app's running queries, and a mark must not be one.
            with contextlib.closing(app.run_store.con.cursor()) as cur:
                run = cursor_run(app.run_store, cur)
                if op == "mark":
                    mark = q.mark(position, payload, run=run)
                elif op == "note":
                    mark = q.note(position, payload, run=run)
                else:
                    got = q.undo(run=run)
                    if got is None:
                        self.post_message(self.MarkFailed(token, op, "nothing to undo in this session"))
                        return
                    position, mark = got
        except Exception as exc:
            self.post_message(self.MarkFailed(token, op, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            return
        self.post_message(self.MarkSaved(token, op, position, mark))

    def _send(self, op: str, payload=None, position: int | None = None) -> bool:
        if self.refusal:
            self._status(Content.styled(f"NOT SAVED: {self.refusal}", "bold $error"))
            self.notify(self.refusal, title="read-only", severity="error", timeout=6)
            return False
        if self.queue is None or len(self.queue) == 0:
            return False
        self._status(Content.styled(f"saving {op}…", "$text-muted"))
        job = (self.token, op, self.queue, self.position if position is None else position, payload)
        with self._turn:
            ticket = self._issued
            self._issued += 1
        threading.Thread(target=self._write, args=(ticket, job), name=f"review-write-{ticket}", daemon=True).start()
        return True

    def on_review_screen_mark_saved(self, m: MarkSaved) -> None:
        self.last_saved = m.mark
        what = {"mark": "saved", "note": "saved note", "undo": "undone, saved"}[m.op]
        bits = [(f"✓ {what}: ", "bold $success"), (clean(m.mark.target_id), "bold"), (" → ", "$text-muted")]
        bits += self._mark_bits(m.mark.label, m.mark.note)
        bits.append((f"   (#{m.mark.annotation_id}, {m.mark.created_at:%H:%M:%S}, {clean(m.mark.reviewer)})", "$text-muted"))
        self._status(Content.assemble(*bits))
        if m.token != self.token:
            return
        if self.item is not None and self.item.target_id == m.mark.target_id:
            self.item.label, self.item.note = m.mark.label, m.mark.note
            if m.op != "undo" or m.position == self.position:
                self._show_item(self.item)
        if m.op == "undo" and m.position >= 0 and m.position != self.position:
            self.position = m.position
            self.load_item()
        self._update_bar()

    def on_review_screen_mark_failed(self, m: MarkFailed) -> None:
        self._status(Content.styled(f"NOT SAVED ({m.op}): {m.error}", "bold $error"))
        if m.op != "undo" or "nothing to undo" not in m.error:
            self.notify(m.error, title="not saved", severity="error", timeout=8)

    # -- actions ------------------------------------------------------------------------

    def action_mark(self, label: str) -> None:
        if self._send("mark", label):
            self._advance()

    def _advance(self) -> None:
        if self.queue is not None and self.position + 1 < len(self.queue):
            self.position += 1
            self._update_bar()
            self.load_item()

    def action_note(self) -> None:
        if self.refusal:
            self._send("note")
            return
        if self.item is None:
            return
        position = self.position

        def done(text: str | None) -> None:
            if text is not None and self.queue is not None:
                self._send("note", text.strip(), position=position)

        self.app.push_screen(TextDialog(f"Note on {self.item.target_id}:", self.item.note or "",
                                        placeholder="why you marked it so"), done)

    def action_undo(self) -> None:
        self._send("undo")

    def action_move(self, delta: int) -> None:
        if self.queue is None or len(self.queue) == 0:
            return
        new = min(max(self.position + delta, 0), len(self.queue) - 1)
        if new != self.position:
            self.position = new
            self._update_bar()
            self.load_item()

    def action_resume(self) -> None:
        if self.queue is None or len(self.queue) == 0:
            return
        self.position = self.queue.resume_position()
        self._update_bar()
        self.load_item()

    def action_toggle_kind(self) -> None:
        self.kind = "cluster" if self.kind == "sample" else "sample"
        self.load_queue()

    def action_toggle_scope(self) -> None:
        if self.scope_problem is None:
            pid = self.papp.current_problem or (self.item.problem_id if self.item else None)
            if pid is None:
                self.notify("No problem selected: open one first (p, then Enter).", severity="warning")
                return
            self.scope_problem = pid
        else:
            self.scope_problem = None
        keep = self.item.target_id if self.item else None
        self.load_queue(keep_target=keep)

    def export_problem_id(self) -> str | None:
        if self.item is not None:
            return self.item.problem_id
        return self.scope_problem or self.papp.current_problem
