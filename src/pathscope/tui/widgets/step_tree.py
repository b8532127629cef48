"""The reasoning search tree of one problem, loaded lazily.

Children are read when a node is expanded, in slices of :data:`SLICE`; a
"more…" node loads the next slice.  Each node shows per-model counts with a
compact correctness bar and its representative step; nodes only the compared
(RL) model reaches are marked.  All reads run in thread workers, each with its
own DuckDB cursor, which post :class:`ChildrenLoaded`; the widget adds nodes
on the UI thread.  Model output (the representative steps) is drawn as plain
text, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Tree
from textual.widgets._tree import TreeNode

from ...safe_text import clean
from ...store import tree_queries

#: Children loaded per expansion (and per "more…").
SLICE = 50
BAR = 6


@dataclass
class StepNode:
    """What a tree node carries: a step-tree node, a "more…" placeholder or "loading…"."""

    kind: str  # 'node' | 'more' | 'loading'
    row: dict = field(default_factory=dict)
    parent_id: int | None = None
    offset: int = 0
    loaded: bool = False
    total_children: int | None = None

    @property
    def node_id(self) -> int | None:
        return self.row.get("node_id") if self.kind == "node" else None

    @property
    def rl_only(self) -> bool:
        return self.kind == "node" and self.row.get("base_n", 0) == 0 and self.row.get("rl_n", 0) > 0


class StepTree(Tree[StepNode]):
    """A lazily loaded step tree.  ``source`` gives a DuckDB cursor per worker."""

    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "step-tree--correct", "step-tree--incorrect", "step-tree--empty", "step-tree--rl-only",
        "step-tree--counts", "step-tree--more", "step-tree--diverge",
    }
    DEFAULT_CSS = """
    StepTree > .step-tree--correct { color: $success; }
    StepTree > .step-tree--incorrect { color: $error; }
    StepTree > .step-tree--empty { color: $text-disabled; }
    StepTree > .step-tree--rl-only { color: $warning; text-style: bold; }
    StepTree > .step-tree--counts { color: $text-muted; }
    StepTree > .step-tree--more { color: $accent; text-style: italic; }
    StepTree > .step-tree--diverge { color: $accent; text-style: bold reverse; }
    """

    class ChildrenLoaded(Message):
        """One slice of a node's children (posted by a worker)."""

        def __init__(self, generation: int, parent_key: int | None, rows: list[dict], total: int, offset: int) -> None:
            super().__init__()
            self.generation = generation
            self.parent_key = parent_key
            self.rows = rows
            self.total = total
            self.offset = offset

    class DivergenceFound(Message):
        """Where base and RL part ways, with the path to it (None: they share no node)."""

        def __init__(self, generation: int, node: dict | None, path: list[int], ranks: dict[int, int]) -> None:
            super().__init__()
            self.generation = generation
            self.node = node
            self.path = path
            self.ranks = ranks

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, cursor_source, **kwargs) -> None:
        super().__init__("(no problem)", data=StepNode("loading"), **kwargs)
        self.cursor_source = cursor_source
        self.show_root = False
        self.guide_depth = 3
        self.problem_id: str | None = None
        self.base_id = self.rl_id = -1
        self.generation = 0
        self.divergence_id: int | None = None
        #: node_id -> TreeNode, for the nodes loaded so far.
        self.by_id: dict[int, TreeNode[StepNode]] = {}
        #: Path still to open (jump to divergence): node ids from the root.
        self._pending_path: list[int] = []
        self._pending_ranks: dict[int, int] = {}

    # -- loading ---------------------------------------------------------------------

    def show(self, problem_id: str, base_id: int, rl_id: int) -> None:
        """Show the tree of a problem (roots first; deeper levels on expand)."""
        self.generation += 1
        self.problem_id, self.base_id, self.rl_id = problem_id, base_id, rl_id
        self.divergence_id = None
        self.by_id.clear()
        self._pending_path = []
        self.clear()
        self.root.data = StepNode("node", row={"node_id": None}, loaded=True)
        self.root.set_label(Text(f"problem {problem_id}"))
        self._load(None, 0)
        self._find_divergence(mark_only=True)

    def _load(self, parent_key: int | None, offset: int, limit: int = SLICE) -> None:
        self._fetch(self.generation, self.problem_id, parent_key, offset, limit)

    @work(thread=True, group="step-tree")
    def _fetch(self, generation: int, problem_id: str, parent_key: int | None, offset: int, limit: int) -> None:
        try:
            with self.cursor_source() as con:
                rows, total = tree_queries.children(con, problem_id, parent_key, self.base_id, self.rl_id, offset, limit)
        except Exception as exc:  # a query error is shown, never raised into the UI
            self.post_message(self.Failed(str(exc).splitlines()[0]))
            return
        self.post_message(self.ChildrenLoaded(generation, parent_key, rows, total, offset))

    def on_step_tree_children_loaded(self, message: ChildrenLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        parent = self.root if message.parent_key is None else self.by_id.get(message.parent_key)
        if parent is None:
            return
        # drop "loading…" / the "more…" node this slice replaces
        for child in list(parent.children):
            if child.data is not None and child.data.kind in ("loading", "more"):
                child.remove()
        for row in message.rows:
            data = StepNode("node", row=row)
            has_kids = row["n_children"] > 0
            node = parent.add(self._label(data), data=data, allow_expand=has_kids)
            self.by_id[row["node_id"]] = node
        shown = message.offset + len(message.rows)
        if shown < message.total:
            more = StepNode("more", parent_id=message.parent_key, offset=shown)
            parent.add_leaf(self._more_label(message.total - shown), data=more)
        if parent.data is not None:
            parent.data.loaded = True
            parent.data.total_children = message.total
        if message.parent_key is None and not self._pending_path and self.cursor_line < 0 and parent.children:
            self.move_cursor(parent.children[0])
        self._continue_path()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[StepNode]) -> None:
        data = event.node.data
        if event.node is self.root or data is None or data.kind != "node" or data.loaded:
            return
        data.loaded = True  # one load per node
        event.node.add_leaf(Text("loading…"), data=StepNode("loading"))
        self._load(data.node_id, 0)

    def on_tree_node_selected(self, event: Tree.NodeSelected[StepNode]) -> None:
        data = event.node.data
        if data is not None and data.kind == "more":
            event.stop()
            data.kind = "loading"
            event.node.set_label(Text("loading…"))
            self._load(data.parent_id, data.offset)

    # -- divergence -----------------------------------------------------------------

    def jump_to_divergence(self) -> None:
        """Open the path to the deepest node base and RL share, and select it."""
        self._find_divergence(mark_only=False)

    @work(thread=True, exclusive=True, group="step-tree-diverge")
    def _find_divergence(self, mark_only: bool) -> None:
        generation, pid = self.generation, self.problem_id
        try:
            with self.cursor_source() as con:
                node = tree_queries.divergence(con, pid, self.base_id, self.rl_id)
                path = tree_queries.path_to(con, pid, node["node_id"]) if node else []
                ranks = {} if mark_only else {n: tree_queries.child_rank(con, pid, n, self.base_id, self.rl_id) for n in path}
        except Exception as exc:
            self.post_message(self.Failed(str(exc).splitlines()[0]))
            return
        self.post_message(self.DivergenceFound(generation, node, [] if mark_only else path, ranks))

    def on_step_tree_divergence_found(self, message: DivergenceFound) -> None:
        if message.generation != self.generation:
            message.stop()
            return
        if message.node is not None:
            self.divergence_id = message.node["node_id"]
            if self.divergence_id in self.by_id:
                node = self.by_id[self.divergence_id]
                node.set_label(self._label(node.data))
        if message.path:
            self._pending_path = list(message.path)
            self._pending_ranks = message.ranks
            self._continue_path()
        # bubble on: the screen tells the user what was found

    def _continue_path(self) -> None:
        """Open the pending path (root → target) as far as it is loaded; load
        the slice that holds the next missing node; select the target."""
        path = self._pending_path
        if not path:
            return
        for i, nid in enumerate(path):
            parent = self.root if i == 0 else self.by_id[path[i - 1]]
            pdata = parent.data
            if i > 0 and not parent.is_expanded:
                if pdata is not None and not pdata.loaded:
                    pdata.loaded = True  # this method loads it, not the expand handler
                    parent.expand()
                    parent.add_leaf(Text("loading…"), data=StepNode("loading"))
                    self._load(path[i - 1], 0, limit=max(SLICE, self._pending_ranks.get(nid, 0) + 1))
                    return
                parent.expand()
            node = self.by_id.get(nid)
            if node is not None:
                continue
            busy = pdata is None or pdata.total_children is None or any(
                c.data is not None and c.data.kind == "loading" for c in parent.children)
            if busy:
                return  # a slice is on its way; this runs again when it lands
            loaded = sum(1 for c in parent.children if c.data is not None and c.data.kind == "node")
            rank = self._pending_ranks.get(nid, 0)
            if rank < loaded:
                self._pending_path = []  # the tree changed under us; give up quietly
                return
            for child in list(parent.children):
                if child.data is not None and child.data.kind == "more":
                    child.data.kind = "loading"
                    child.set_label(Text("loading…"))
            self._load(None if i == 0 else path[i - 1], loaded, limit=rank - loaded + 1)
            return
        target = self.by_id[path[-1]]
        self._pending_path = []
        self._select(target)

    def _select(self, node: TreeNode[StepNode]) -> None:
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)
        self.select_node(node)

    # -- labels ---------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"step-tree--{name}", partial=True)

    def _bar(self, n: int, correct: int) -> Text:
        if n <= 0:
            return Text("·" * BAR, style=self._style("empty"))
        good = round(BAR * correct / n)
        if correct and not good:
            good = 1
        bad = BAR - good
        return Text.assemble(("█" * good, self._style("correct")), ("█" * bad, self._style("incorrect")))

    def _label(self, data: StepNode) -> Text:
        r = data.row
        text = Text()
        text.append_text(self._bar(r["base_n"], r["base_correct"]))
        text.append(f" B{r['base_n']:>3} ", self._style("counts"))
        text.append_text(self._bar(r["rl_n"], r["rl_correct"]))
        text.append(f" R{r['rl_n']:>3} ", self._style("counts"))
        if data.rl_only:
            text.append("◆RL-only ", self._style("rl-only"))
        if r.get("node_id") is not None and r.get("node_id") == self.divergence_id:
            text.append("⑂ diverge ", self._style("diverge"))
        if r.get("is_other"):
            text.append("(other) ", self._style("counts"))
        step = clean(r.get("rep_text") or r.get("label") or "").replace("\n", " ").strip()
        text.append(step[:160] + ("…" if len(step) > 160 else ""))
        return text

    def _more_label(self, remaining: int) -> Text:
        return Text(f"more… ({remaining:,} more children: press enter)", style=self._style("more"))

    def refresh_labels(self) -> None:
        for node in self.by_id.values():
            node.set_label(self._label(node.data))

    def on_mount(self) -> None:
        self.root.expand()
