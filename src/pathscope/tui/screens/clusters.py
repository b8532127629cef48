"""The strategy clusters of the current problem (mode ``clusters``).

One row per cluster: its label, members per model and verdict, the
reviewer's mark and the start of its medoid.  Highlighting a cluster lists its
members; highlighting a member shows its CoT.  ``b`` keeps only the clusters
with correct RL members and no base member (strategies the base never used).
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from ...review import LABEL_TEXT
from ...safe_text import clean
from ...store import annotations as ann
from ...store import tree_queries
from ..actions import bindings_for
from ..messages import QueryFailed
from ..widgets.cot_view import CotView
from .base import PathscopeScreen
from .review_support import CotLoaderMixin, ExportMixin, reviewer_for

STYLES = Path(__file__).resolve().parents[2] / "styles"



def _one_line(text: str | None, limit: int = 100) -> str:
    s = clean(text).replace("\n", " ⏎ ").strip()
    return s[:limit] + ("…" if len(s) > limit else "")


def _split(n: int, correct: int) -> Content:
    if n == 0:
        return Content.styled("–", "$text-disabled")
    return Content.assemble((f"{correct}✓", "$success"), ("/", "$text-muted"), (f"{n - correct}✗", "$error"))


class ClustersScreen(CotLoaderMixin, ExportMixin, PathscopeScreen):
    SCOPE = "clusters"
    BINDINGS = bindings_for("clusters")
    CSS_PATH = STYLES / "strategies.tcss"

    class ClustersLoaded(Message):
        def __init__(self, problem_id: str, rl_only: bool, rows: list[dict], marks: dict) -> None:
            super().__init__()
            self.problem_id, self.rl_only, self.rows, self.marks = problem_id, rl_only, rows, marks

    class MembersLoaded(Message):
        def __init__(self, problem_id: str, cluster_id: int, rows: list[dict], total: int, medoid: str | None) -> None:
            super().__init__()
            self.problem_id, self.cluster_id, self.rows, self.total, self.medoid = problem_id, cluster_id, rows, total, medoid

    def __init__(self) -> None:
        super().__init__()
        self.problem_id: str | None = None
        self.rl_only = False
        self.rows: list[dict] = []
        self.members: list[dict] = []
        self.cluster_id: int | None = None
        self.shown_sample: tuple | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="cl-status")
        with Horizontal(id="cl-body"):
            yield DataTable(id="cl-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="cl-side"):
                with VerticalScroll(id="cl-medoid-scroll"):
                    yield Static("", id="cl-medoid")
                yield Static("", id="cl-members-title")
                yield DataTable(id="cl-members", cursor_type="row", zebra_stripes=True)
                yield CotView(id="cl-cot")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#cl-table", DataTable)
        for name, width in (("id", 4), ("label", 30), ("base", 9), ("RL", 9), ("mark", 15), ("medoid", 60)):
            table.add_column(name, width=width)
        members = self.query_one("#cl-members", DataTable)
        for name, width in (("model", 12), ("sample", 6), ("", 1), ("answer", 10), ("start of the CoT", 80)):
            members.add_column(name, width=width)
        self.query_one("#cl-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        pid = self.papp.current_problem
        if pid is None and self.papp.problem_order:
            pid = self.papp.problem_order[0]
            self.papp.current_problem = pid
        if pid is None:
            self.query_one("#cl-status", Static).update(Content.styled("No problem selected: pick one in the problems table (p).", "$warning"))
            return
        # reload each time: the reviewer's marks may have changed in the review screen
        self.show_problem(pid)

    # -- loading ---------------------------------------------------------------------

    def show_problem(self, problem_id: str) -> None:
        if problem_id != self.problem_id:
            self.cluster_id = None
            self.shown_sample = None
            self.query_one("#cl-members", DataTable).clear()
            self.query_one("#cl-medoid", Static).update("")
            self.query_one("#cl-members-title", Static).update("")
            self.query_one(CotView).set_text("")
        self.problem_id = problem_id
        self.load_clusters(problem_id, self.rl_only)

    @work(thread=True, exclusive=True, group="clusters")
    def load_clusters(self, problem_id: str, rl_only: bool) -> None:
        base, rl = self.papp.base_model, self.papp.rl_model
        reviewer = reviewer_for(self.papp)
        try:
            with self.cursor() as con:
                rows = tree_queries.clusters(con, problem_id, base["model_id"], rl["model_id"], rl_without_base=rl_only)
                marks = ann.labels_for(con, "cluster", [ann.cluster_target_id(problem_id, r["cluster_id"]) for r in rows], reviewer)
        except Exception as exc:
            self.post_message(QueryFailed("clusters", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.ClustersLoaded(problem_id, rl_only, rows, marks))

    def on_clusters_screen_clusters_loaded(self, m: ClustersLoaded) -> None:
        if m.problem_id != self.problem_id or m.rl_only != self.rl_only:
            return
        self.rows = m.rows
        table = self.query_one("#cl-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in m.rows:
            label, _ = m.marks.get(ann.cluster_target_id(m.problem_id, r["cluster_id"]), (None, None))
            mark = Content.styled(LABEL_TEXT.get(label, label), "$accent") if label and label != "cleared" else Content("")
            novel = r["rl_correct"] > 0 and r["base_n"] == 0
            table.add_row(
                r["cluster_id"],
                Content.assemble((_one_line(r["label"] or "", 30), ""), (" ◆" if novel else "", "bold $warning")),
                _split(r["base_n"], r["base_correct"]), _split(r["rl_n"], r["rl_correct"]), mark,
                Content(_one_line(r["medoid_preview"], 60)),
            )
        if m.rows:
            table.move_cursor(row=min(max(keep, 0), len(m.rows) - 1))
        base, rl = self.papp.base_model, self.papp.rl_model
        n_novel = sum(1 for r in m.rows if r["rl_correct"] > 0 and r["base_n"] == 0)
        plural = "" if len(m.rows) == 1 else "s"
        what = (f"cluster{plural} with correct RL members and no base member" if self.rl_only
                else f"strategy cluster{plural}")
        if not m.rows:
            text = Content.assemble(
                ("problem ", "$text-muted"), (clean(m.problem_id), "bold"),
                ("  no clusters with correct RL members and no base member (b: show all)" if self.rl_only
                 else "  no strategy clusters stored: run `pathscope analyze` first.", "$warning"))
        else:
            text = Content.assemble(
                ("problem ", "$text-muted"), (clean(m.problem_id), "bold"), (f"  {len(m.rows)} {what}", ""),
                (f" · ◆ {n_novel} RL-only", "bold $warning"),
                ("   base = ", "$text-muted"), (clean(base["name"]), "$primary"), ("  RL = ", "$text-muted"),
                (clean(rl["name"]), "$warning"), ("   b: RL-only toggle · e: export", "$text-muted"))
        self.query_one("#cl-status", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "cl-table":
            if 0 <= event.cursor_row < len(self.rows):
                r = self.rows[event.cursor_row]
                self.cluster_id = r["cluster_id"]
                self.load_members(self.problem_id, r["cluster_id"], r.get("medoid_model"), r.get("medoid_sample_idx"))
        elif event.data_table.id == "cl-members":
            if 0 <= event.cursor_row < len(self.members):
                r = self.members[event.cursor_row]
                self.load_cot((r["model_id"], self.problem_id, r["sample_idx"]), r["extracted"])

    @work(thread=True, exclusive=True, group="cluster-members")
    def load_members(self, problem_id: str, cluster_id: int, medoid_model: str | None, medoid_idx: int | None) -> None:
        try:
            with self.cursor() as con:
                rows, total = tree_queries.cluster_members(con, problem_id, cluster_id)
                medoid = None
                if medoid_model is not None and medoid_idx is not None:
                    mid = next((r["model_id"] for r in self.papp.model_rows if r["name"] == medoid_model), None)
                    if mid is not None:
                        medoid = tree_queries.sample_text(con, mid, problem_id, medoid_idx)
        except Exception as exc:
            self.post_message(QueryFailed("cluster members", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.MembersLoaded(problem_id, cluster_id, rows, total, medoid))

    def on_clusters_screen_members_loaded(self, m: MembersLoaded) -> None:
        if m.problem_id != self.problem_id or m.cluster_id != self.cluster_id:
            return
        self.members = m.rows
        r = next((x for x in self.rows if x["cluster_id"] == m.cluster_id), {})
        head = [(f"cluster {m.cluster_id}", "bold"), ("  ", ""), (clean(r.get("label") or ""), "italic")]
        if r.get("medoid_model") is not None:
            head.append((f"   medoid: {clean(r['medoid_model'])} #{r['medoid_sample_idx']}", "$text-muted"))
        head.append(("\n" + _one_line(m.medoid, 600) if m.medoid else "", ""))
        self.query_one("#cl-medoid", Static).update(Content.assemble(*head))
        table = self.query_one("#cl-members", DataTable)
        table.clear()
        for x in m.rows:
            v, style = ("?", "$text-muted") if x["correct"] is None else (("✓", "bold $success") if x["correct"] else ("✗", "bold $error"))
            table.add_row(Content(clean(x["model"])), x["sample_idx"], Content.styled(v, style),
                          Content(_one_line(x["extracted"], 16)), Content(_one_line(x["preview"])))
        self.query_one("#cl-members-title", Static).update(Content.assemble(
            (f"{len(m.rows)} of {m.total} members", "bold"), ("  (highlight one: its CoT below)", "$text-muted")))

    # -- actions -----------------------------------------------------------------------

    def action_toggle_rl_only(self) -> None:
        self.rl_only = not self.rl_only
        if self.problem_id is not None:
            self.load_clusters(self.problem_id, self.rl_only)
