"""The step tree of the current problem (mode ``tree``).

Left: the reasoning search tree, loaded lazily (:class:`StepTree`).  Right:
the highlighted node's representative step and counts, the samples whose path
passes through it, and the CoT of the sample chosen there.  ``v`` opens the
path to where base and RL diverge.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static, Tree
from textual.worker import get_current_worker

from ...safe_text import clean
from ...store import tree_queries
from ..actions import bindings_for
from ..messages import QueryFailed
from ..widgets.cot_view import CotView
from ..widgets.step_tree import StepNode, StepTree
from .base import PathscopeScreen
from .review_support import CotLoaderMixin

STYLES = Path(__file__).resolve().parents[2] / "styles"

#: Samples listed per node.
NODE_SAMPLES = 200



def _one_line(text: str | None, limit: int = 120) -> str:
    s = clean(text).replace("\n", " ⏎ ").strip()
    return s[:limit] + ("…" if len(s) > limit else "")


def _verdict(correct) -> tuple[str, str]:
    if correct is None:
        return "?", "$text-muted"
    return ("✓", "bold $success") if correct else ("✗", "bold $error")


class TreeScreen(CotLoaderMixin, PathscopeScreen):
    SCOPE = "tree"
    BINDINGS = bindings_for("tree")
    CSS_PATH = STYLES / "strategies.tcss"

    class TreeInfoLoaded(Message):
        def __init__(self, problem_id: str, nodes: int, paths: int, rl_only: int) -> None:
            super().__init__()
            self.problem_id, self.nodes, self.paths, self.rl_only = problem_id, nodes, paths, rl_only

    class NodeSamplesLoaded(Message):
        def __init__(self, problem_id: str, node_id: int, rows: list[dict], total: int) -> None:
            super().__init__()
            self.problem_id, self.node_id, self.rows, self.total = problem_id, node_id, rows, total

    def __init__(self) -> None:
        super().__init__()
        self.problem_id: str | None = None
        self.node_rows: list[dict] = []
        self.selected_node: int | None = None
        #: (model_id, problem_id, sample_idx) of the CoT on screen; tests wait on it.
        self.shown_sample: tuple | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("", id="tr-status")
        with Horizontal(id="tr-body"):
            yield StepTree(self.papp.cursor, id="tr-tree")
            with Vertical(id="tr-side"):
                with VerticalScroll(id="tr-node-scroll"):
                    yield Static("", id="tr-node")
                yield Static("", id="tr-samples-title")
                yield DataTable(id="tr-samples", cursor_type="row", zebra_stripes=True)
                yield CotView(id="tr-cot")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        table = self.query_one("#tr-samples", DataTable)
        for name, width in (("model", 12), ("sample", 6), ("", 1), ("answer", 10), ("start of the CoT", 80)):
            table.add_column(name, width=width)
        self.query_one(StepTree).focus()

    def on_screen_resume(self) -> None:
        pid = self.papp.current_problem
        if pid is None and self.papp.problem_order:
            pid = self.papp.problem_order[0]
            self.papp.current_problem = pid
        if pid is not None and pid != self.problem_id:
            self.show_problem(pid)
        elif pid is None:
            self.query_one("#tr-status", Static).update(Content.styled("No problem selected: pick one in the problems table (p).", "$warning"))

    # -- loading ---------------------------------------------------------------------

    def show_problem(self, problem_id: str) -> None:
        self.problem_id = problem_id
        self.selected_node = None
        self.shown_sample = None
        self.query_one("#tr-samples", DataTable).clear()
        self.query_one("#tr-node", Static).update("")
        self.query_one("#tr-samples-title", Static).update("")
        self.query_one(CotView).set_text("")
        base, rl = self.papp.base_model, self.papp.rl_model
        self.query_one(StepTree).show(problem_id, base["model_id"], rl["model_id"])
        self.load_info(problem_id)

    @work(thread=True, exclusive=True, group="tree-info")
    def load_info(self, problem_id: str) -> None:
        base, rl = self.papp.base_model, self.papp.rl_model
        try:
            with self.cursor() as con:
                nodes, paths = tree_queries.has_tree(con, problem_id)
                rl_only = tree_queries.rl_only_count(con, problem_id, base["model_id"], rl["model_id"]) if nodes else 0
        except Exception as exc:
            self.post_message(QueryFailed("tree", str(exc).splitlines()[0]))
            return
        self.post_message(self.TreeInfoLoaded(problem_id, nodes, paths, rl_only))

    def on_tree_screen_tree_info_loaded(self, m: TreeInfoLoaded) -> None:
        if m.problem_id != self.problem_id:
            return
        status = self.query_one("#tr-status", Static)
        base, rl = self.papp.base_model, self.papp.rl_model
        if m.nodes == 0:
            status.update(Content.assemble(
                ("problem ", "$text-muted"), (clean(m.problem_id), "bold"),
                ("  no step tree stored for this problem: run `pathscope analyze` first.", "$warning")))
            return
        status.update(Content.assemble(
            ("problem ", "$text-muted"), (clean(m.problem_id), "bold"),
            (f"  {m.nodes:,} nodes · {m.paths:,} sample paths · ", "$text-muted"),
            (f"◆ {m.rl_only} RL-only", "bold $warning"),
            ("   bars: ", "$text-muted"), (f"B = {clean(base['name'])}", "$primary"), (", ", "$text-muted"),
            (f"R = {clean(rl['name'])}", "$warning"), ("  (", "$text-muted"), ("█ correct", "$success"),
            (" / ", "$text-muted"), ("█ incorrect", "$error"), (")  v: where they diverge", "$text-muted")))

    def on_step_tree_divergence_found(self, m: StepTree.DivergenceFound) -> None:
        if not m.path:
            return  # the quiet lookup made when a problem opens
        if m.node is None:
            self.notify("base and RL samples share no node of this tree", severity="warning", timeout=4)
        else:
            self.notify(f"diverge after node {m.node['node_id']} (depth {m.node['depth']}): "
                        f"{m.node['base_n']} base and {m.node['rl_n']} RL samples pass through it", timeout=4)

    def on_step_tree_failed(self, m: StepTree.Failed) -> None:
        self.notify(f"tree: {m.error}", title="query failed", severity="error", timeout=8)

    # -- a node's samples --------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[StepNode]) -> None:
        data = event.node.data
        if data is None or data.kind != "node" or data.node_id is None:
            return
        self.selected_node = data.node_id
        self._show_node(data.row)
        self.load_node_samples(self.problem_id, data.node_id)

    def _show_node(self, r: dict) -> None:
        bits = [
            (f"node {r['node_id']}", "bold"), (f" · depth {r['depth']}", "$text-muted"),
            (f" · {r['n_children']} children", "$text-muted"),
        ]
        if r.get("label"):
            bits += [("  ", ""), (clean(r["label"]), "italic")]
        bits += [
            ("\nbase ", "$primary"), (f"{r['base_correct']}/{r['base_n']} correct", ""),
            ("   RL ", "$warning"), (f"{r['rl_correct']}/{r['rl_n']} correct", ""),
        ]
        if r["base_n"] == 0 and r["rl_n"] > 0:
            bits.append(("   ◆ only RL reaches this step", "bold $warning"))
        bits.append(("\n" + clean(r.get("rep_text") or ""), ""))
        self.query_one("#tr-node", Static).update(Content.assemble(*bits))

    @work(thread=True, exclusive=True, group="tree-node-samples")
    def load_node_samples(self, problem_id: str, node_id: int) -> None:
        ids = [self.papp.base_model["model_id"], self.papp.rl_model["model_id"]]
        try:
            with self.cursor() as con:
                rows, total = tree_queries.node_samples(con, problem_id, node_id, ids, limit=NODE_SAMPLES)
        except Exception as exc:
            self.post_message(QueryFailed("node samples", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.NodeSamplesLoaded(problem_id, node_id, rows, total))

    def on_tree_screen_node_samples_loaded(self, m: NodeSamplesLoaded) -> None:
        if m.problem_id != self.problem_id or m.node_id != self.selected_node:
            return
        self.node_rows = m.rows
        table = self.query_one("#tr-samples", DataTable)
        table.clear()
        for r in m.rows:
            v, style = _verdict(r["correct"])
            table.add_row(
                Content(clean(r["model"])), r["sample_idx"], Content.styled(v, style),
                Content(_one_line(r["extracted"], 16)), Content(_one_line(r["preview"])),
            )
        self.query_one("#tr-samples-title", Static).update(Content.assemble(
            (f"{len(m.rows)} of {m.total} samples", "bold"), (f" through node {m.node_id}", "$text-muted"),
            ("  (enter on a row: its CoT below)", "$text-muted")))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id != "tr-samples" or not (0 <= event.cursor_row < len(self.node_rows)):
            return
        r = self.node_rows[event.cursor_row]
        self.load_cot((r["model_id"], self.problem_id, r["sample_idx"]), r["extracted"])

    # -- actions -----------------------------------------------------------------------

    def action_diverge(self) -> None:
        tree = self.query_one(StepTree)
        if tree.problem_id is None:
            return
        tree.focus()
        tree.jump_to_divergence()
