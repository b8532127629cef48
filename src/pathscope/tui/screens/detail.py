"""Problem detail: the problem and its reference answer, and the paired view —
a base CoT and an RL CoT side by side, each with its verdict, the extracted
answer highlighted and its perplexity where scored.  Keys step either side
through its samples, jump to the next correct / incorrect one, and show the
nearest base CoT of an RL CoT where the analysis stored evidence.

Loading a problem reads the sample lists (no texts) in one worker; each
side's text is read in its own worker, one sample at a time.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.widgets import Static
from textual.worker import get_current_worker

from ...safe_text import clean
from ...store import tui_queries
from ..actions import bindings_for
from ..messages import CotLoaded, ProblemLoaded, ProblemPrefetched, QueryFailed
from ..widgets.cot_view import CotView
from .base import PathscopeScreen

SIDES = ("base", "rl")


def _verdict(correct) -> tuple[str, str]:
    if correct is None:
        return "unverified", "$text-muted"
    return ("✓ correct", "bold $success") if correct else ("✗ incorrect", "bold $error")


def start_position(rows: list[dict]) -> int:
    """Where a side opens: its first correct sample (what paired reading wants), else the first."""
    return next((i for i, r in enumerate(rows) if r["correct"]), 0)


class SidePane(Vertical):
    """One side of the paired view: a head line, the CoT, an evidence line."""

    def __init__(self, side: str) -> None:
        super().__init__(id=f"side-{side}", classes="side")
        self.side = side

    def compose(self) -> ComposeResult:
        yield Static("", classes="side-head")
        yield CotView(classes="cot")
        yield Static("", classes="side-evidence")

    def on_click(self, event: Click) -> None:
        screen = self.screen
        if isinstance(screen, DetailScreen):
            screen.set_active(self.side)


class DetailScreen(PathscopeScreen):
    SCOPE = "detail"
    BINDINGS = bindings_for("detail")

    def __init__(self) -> None:
        super().__init__()
        self.problem_id: str | None = None
        self.problem: dict | None = None
        self.samples: dict[str, list[dict]] = {"base": [], "rl": []}
        self.position: dict[str, int] = {"base": 0, "rl": 0}
        self.evidence: dict[int, dict] = {}
        self.active = "rl"
        #: (side -> (problem_id, sample_idx)) of the texts on screen; tests and the bench wait on it.
        self.shown: dict[str, tuple[str, int] | None] = {"base": None, "rl": None}
        #: problem_id -> ProblemLoaded read ahead (the next problem of the list).
        self._prefetched: dict[str, ProblemLoaded] = {}

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Vertical(id="dt-problem"):
            yield Static("", id="dt-title")
            with VerticalScroll(id="dt-prompt-scroll"):
                yield Static("", id="dt-prompt")
        with Horizontal(id="dt-sides"):
            for side in SIDES:
                yield SidePane(side)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.set_active(self.active)

    def on_screen_resume(self) -> None:
        self._prefetched.clear()  # other screens may have changed what a problem shows
        pid = self.papp.current_problem
        if pid is not None and pid != self.problem_id:
            self.show_problem(pid)

    # -- loading ---------------------------------------------------------------------

    def model_for(self, side: str) -> dict:
        return self.papp.base_model if side == "base" else self.papp.rl_model

    def show_problem(self, problem_id: str) -> None:
        self.problem_id = problem_id
        self.papp.current_problem = problem_id
        cached = self._prefetched.pop(problem_id, None)
        if cached is not None:
            self.on_problem_loaded(cached)  # read ahead while the previous one was on screen
        else:
            self.load_problem(problem_id)

    def _read_problem(self, problem_id: str) -> ProblemLoaded:
        """Everything a problem switch shows, in one cursor (runs in a worker)."""
        base, rl = self.papp.base_model, self.papp.rl_model
        with self.cursor() as con:
            prob = tui_queries.problem(con, problem_id)
            lists = tui_queries.sample_lists(con, [base["model_id"], rl["model_id"]], problem_id, base["model_id"])
            sides = {"base": lists[base["model_id"]], "rl": lists.get(rl["model_id"], [])}
            evidence = tui_queries.evidence_for(con, rl["model_id"], problem_id, base["model_id"])
            # Each side opens on its first correct sample; read those two texts now,
            # in the same round trip, so a problem switch costs one worker, not three.
            texts = {}
            for side, model in (("base", base), ("rl", rl)):
                rows = sides[side]
                if rows:
                    first = start_position(rows)
                    idx = rows[first]["sample_idx"]
                    texts[side] = (first, tui_queries.cot_text(con, model["model_id"], problem_id, idx) or "")
        return ProblemLoaded(problem_id, prob, sides, evidence, texts)

    @work(thread=True, exclusive=True, group="detail-problem")
    def load_problem(self, problem_id: str) -> None:
        try:
            message = self._read_problem(problem_id)
        except Exception as exc:
            self.post_message(QueryFailed("problem", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @work(thread=True, exclusive=True, group="detail-prefetch")
    def prefetch(self, problem_id: str) -> None:
        """Read the next problem of the list ahead, so `]` shows it at once."""
        try:
            message = self._read_problem(problem_id)
        except Exception:
            return  # a failed read-ahead costs nothing: the switch reads it again
        if not get_current_worker().is_cancelled:
            self.post_message(ProblemPrefetched(message))

    def on_problem_prefetched(self, message: ProblemPrefetched) -> None:
        loaded = message.loaded
        self._prefetched[loaded.problem_id] = loaded
        while len(self._prefetched) > 4:
            self._prefetched.pop(next(iter(self._prefetched)))

    def _read_ahead(self) -> None:
        order = self.papp.problem_order
        if self.problem_id not in order or len(order) < 2:
            return
        nxt = order[(order.index(self.problem_id) + 1) % len(order)]
        if nxt not in self._prefetched:
            self.prefetch(nxt)

    def on_problem_loaded(self, message: ProblemLoaded) -> None:
        if message.problem_id != self.problem_id:
            return
        self.problem = message.problem
        self.samples = message.sides
        self.evidence = message.evidence
        self._show_problem_text()
        self._read_ahead()
        for side in SIDES:
            first, text = message.texts.get(side, (0, None))
            self.position[side] = first
            self._show_sample(side, text)

    def _show_problem_text(self) -> None:
        p = self.problem
        title = self.query_one("#dt-title", Static)
        prompt = self.query_one("#dt-prompt", Static)
        if p is None:
            title.update(Content.styled(f"problem {self.problem_id!r} is not in this run", "bold $error"))
            prompt.update("")
            return
        order = self.papp.problem_order
        where = f"  ({order.index(p['problem_id']) + 1} of {len(order)})" if p["problem_id"] in order else ""
        title.update(
            Content.assemble(
                (clean(p["problem_id"]), "bold"), (f"  {clean(p['source'] or '')} · {p['kind']}{where}   ", "$text-muted"),
                ("reference answer: ", "$text-muted"), (clean(p["answer"] or "–"), "bold $success"),
            )
        )
        prompt.update(Content(clean(p["prompt"])))

    def _show_sample(self, side: str, text: str | None = None) -> None:
        """Show the side's current sample: its head line now, its text when read
        (``text`` when the caller has it already, else from a worker)."""
        pane = self.query_one(f"#side-{side}", SidePane)
        rows = self.samples[side]
        model = self.model_for(side)
        head = pane.query_one(".side-head", Static)
        if not rows:
            head.update(Content.assemble((clean(model["name"]), "bold"), ("  no samples for this problem", "$text-muted")))
            pane.query_one(CotView).set_text("")
            pane.query_one(".side-evidence", Static).update("")
            self.shown[side] = (self.problem_id, -1)
            return
        pos = self.position[side]
        r = rows[pos]
        n_correct = sum(1 for x in rows if x["correct"])
        vtext, vstyle = _verdict(r["correct"])
        parts = [
            (clean(model["name"]), "bold $primary" if side == "base" else "bold $warning"),
            (f" ({model['role']})  ", "$text-muted"),
            (f"sample {r['sample_idx']}  [{pos + 1}/{len(rows)}, {n_correct} correct]  ", ""),
            (vtext, vstyle),
            ("  answer: ", "$text-muted"),
            (clean(r["extracted"]) if r["extracted"] is not None else "–", "bold"),
        ]
        if r["ppl"] is not None:
            parts.append((f"  ppl {r['ppl']:.2f}", "$text-muted"))
        if r["n_tokens"] is not None:
            parts.append((f"  {r['n_tokens']:,} tok", "$text-muted"))
        if r["finish_reason"] and r["finish_reason"] != "stop":
            parts.append((f"  ({clean(r['finish_reason'])})", "$warning"))
        head.update(Content.assemble(*parts))
        ev = pane.query_one(".side-evidence", Static)
        ev.display = side == "rl"
        if side == "rl":
            e = self.evidence.get(r["sample_idx"])
            if e is None:
                ev.update(Content.styled("no base evidence stored for this sample", "$text-muted"))
            else:
                nb = e["nearest_base_idx"]
                ok = "" if e["nearest_base_correct"] is None else (" ✓" if e["nearest_base_correct"] else " ✗")
                bits = [("nearest base: ", "$text-muted"), (f"#{nb}{ok}", "bold"), (f"  cos {e['similarity']:.2f}" if e["similarity"] is not None else "", "")]
                if e["suggested_mark"]:
                    conf = f" ({e['confidence']:.2f})" if e["confidence"] is not None else ""
                    bits.append((f"  suggested: {clean(e['suggested_mark'])}{conf}", "$accent"))
                bits.append(("   e: show it on the left", "$text-muted"))
                ev.update(Content.assemble(*bits))
        if text is not None:
            self._apply_cot(side, self.problem_id, r, text)
        else:
            self.load_cot(side, self.problem_id, model["model_id"], r)

    def load_cot(self, side: str, problem_id: str, model_id: int, sample: dict) -> None:
        """Read one CoT in a worker; one exclusive group per side, so stepping
        fast through one side cancels its stale reads, never the other side's."""
        self.run_worker(
            lambda: self._read_cot(side, problem_id, model_id, sample),
            thread=True, exclusive=True, group=f"detail-cot-{side}",
        )

    def _read_cot(self, side: str, problem_id: str, model_id: int, sample: dict) -> None:
        try:
            with self.cursor() as con:
                text = tui_queries.cot_text(con, model_id, problem_id, sample["sample_idx"])
        except Exception as exc:
            self.post_message(QueryFailed("sample", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(CotLoaded(side, problem_id, sample, text or ""))

    def on_cot_loaded(self, message: CotLoaded) -> None:
        if message.problem_id != self.problem_id:
            return
        rows = self.samples[message.side]
        if not rows or rows[self.position[message.side]]["sample_idx"] != message.sample["sample_idx"]:
            return  # the user has moved on
        self._apply_cot(message.side, message.problem_id, message.sample, message.text)

    def _apply_cot(self, side: str, problem_id: str, sample: dict, text: str) -> None:
        view = self.query_one(f"#side-{side} CotView", CotView)
        view.set_text(text, answer=sample.get("extracted"), term=self.papp.search_term or None)
        self.shown[side] = (problem_id, sample["sample_idx"])

    # -- actions ---------------------------------------------------------------------

    def set_active(self, side: str) -> None:
        self.active = side
        for s in SIDES:
            self.query_one(f"#side-{s}", SidePane).set_class(s == side, "-active")

    def action_switch_side(self) -> None:
        self.set_active("base" if self.active == "rl" else "rl")

    def action_step(self, delta: int) -> None:
        rows = self.samples[self.active]
        if not rows:
            return
        self.position[self.active] = (self.position[self.active] + delta) % len(rows)
        self._show_sample(self.active)

    def action_jump(self, correct: bool) -> None:
        rows = self.samples[self.active]
        if not rows:
            return
        start = self.position[self.active]
        for off in range(1, len(rows) + 1):
            i = (start + off) % len(rows)
            if bool(rows[i]["correct"]) == correct and rows[i]["correct"] is not None:
                self.position[self.active] = i
                self._show_sample(self.active)
                return
        self.notify(f"no {'correct' if correct else 'incorrect'} sample on this side", severity="warning", timeout=3)

    def action_show_evidence(self) -> None:
        rows = self.samples["rl"]
        if not rows:
            return
        e = self.evidence.get(rows[self.position["rl"]]["sample_idx"])
        if e is None or e["nearest_base_idx"] is None:
            self.notify("no nearest base CoT stored for this RL sample", severity="warning", timeout=3)
            return
        base_rows = self.samples["base"]
        for i, r in enumerate(base_rows):
            if r["sample_idx"] == e["nearest_base_idx"]:
                self.position["base"] = i
                self._show_sample("base")
                return
        self.notify(f"base sample {e['nearest_base_idx']} is not in this run", severity="warning")

    def action_problem(self, delta: int) -> None:
        order = self.papp.problem_order
        if not order:
            return
        i = order.index(self.problem_id) if self.problem_id in order else -1
        nxt = order[(i + delta) % len(order)]
        self.show_problem(nxt)
