"""Problems: one virtualised table of every problem.

Per-model accuracy, solved-at-n, strategies (once analysed), review progress
(once reviewing), sorting, filters and a text search over prompts and CoTs.
The table is a textual-fastdatatable fed one Arrow table from DuckDB; it only
renders the visible rows, so 10,000 problems stay responsive.  Changing the
query runs a worker; the handler swaps in a fresh table.
"""

from __future__ import annotations

import re
import time

from typing import TYPE_CHECKING

import duckdb
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from ...safe_text import for_markup
from ...store import tui_queries
from ..actions import bindings_for
from ..messages import ProblemQuery, ProblemsLoaded, QueryFailed
from .base import PathscopeScreen

if TYPE_CHECKING:
    import pyarrow as pa

FILTER_ORDER = list(tui_queries.FILTERS)
SORT_ORDER = ["problem_id", "base_acc", "rl_acc", "delta", "strategies", "reviewed", "hits"]
#: Clicking a column header sorts by it (again: reverses).
HEADER_SORTS = {"problem": "problem_id", "base acc": "base_acc", "RL acc": "rl_acc", "strategies": "strategies", "reviewed": "reviewed", "hits": "hits"}


def _safe(text: str | None) -> str:
    """``for_markup`` for table cells, skipping the work for plain text (most cells)."""
    if not text:
        return ""
    if text.isprintable() and "[" not in text:
        return text
    return for_markup(text)


def _acc(n: int, c: int) -> str:
    return f"{c / n:.3f} ({c}/{n})" if n else "–"


def _highlight(snippet: str | None, term: str) -> str:
    """Markup-safe snippet with every match of ``term`` in bold underline."""
    if not snippet:
        return ""
    flat = re.sub(r"\s+", " ", snippet)
    out, pos = [], 0
    for m in re.finditer(re.escape(term), flat, flags=re.IGNORECASE):
        out.append(for_markup(flat[pos : m.start()]))
        out.append("[b u]" + for_markup(m.group(0)) + "[/b u]")
        pos = m.end()
    out.append(for_markup(flat[pos:]))
    return "".join(out)


def display_table(raw: "pa.Table", query: ProblemQuery) -> tuple["pa.Table", list[str]]:
    """The rows as the table shows them (markup-escaped strings), and the ids in order."""
    import pyarrow as pa

    d = raw.to_pydict()
    ids = d["problem_id"]
    solved = []
    for bc, rc in zip(d["bc"], d["rc"]):
        solved.append("both" if bc and rc else "base" if bc else "RL" if rc else "none")
    cols: dict[str, list] = {
        "problem": [_safe(p) for p in ids],
        "source": [_safe(s) for s in d["source"]],
        "base acc": [_acc(n, c) for n, c in zip(d["bn"], d["bc"])],
        "RL acc": [_acc(n, c) for n, c in zip(d["rn"], d["rc"])],
        "solved@n": solved,
        "strategies": [str(s) if s else "–" for s in d["strategies"]],
        "reviewed": [str(r) if r else "–" for r in d["reviewed"]],
    }
    if query.search:
        cols["hits"] = [str(h) for h in d["hits"]]
        cols["match"] = [_highlight(s, query.search) for s in d["snippet"]]
    else:
        cols["prompt"] = [_safe(p) for p in d["preview"]]
    return pa.table(cols), ids


class ProblemsScreen(PathscopeScreen):
    SCOPE = "problems"
    BINDINGS = bindings_for("problems")
    #: Nothing is focused until the table arrives (then the table is); the search
    #: box takes focus only when asked for (`/` or a click).
    AUTO_FOCUS = "DataTable"

    def __init__(self) -> None:
        super().__init__()
        self.query_state = ProblemQuery()
        self.ids: list[str] = []
        self.total = 0
        self.loaded_query: ProblemQuery | None = None
        self._generation = 0
        #: Per-problem stats (one query per visit) and search hits by term: filters
        #: and sorts then run over these in-memory tables.
        self._stats = None
        self._hits: dict[str, object] = {}
        self._focus_table_next = False  # after Enter in the search box, results take focus

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="pr-bar"):
            yield Input(placeholder="/ search problems and CoTs (Enter to run, Esc to clear)", id="pr-search")
            yield Static("", id="pr-status")
        yield Static("loading…", id="pr-empty")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self._reload()

    def on_screen_resume(self) -> None:
        # Coming back (e.g. after reviewing): counts and review progress may have changed.
        if self.loaded_query is not None:
            self._stats = None
            self._reload()

    def _reload(self) -> None:
        q = self.query_state
        self.papp.interrupt("problems")  # a superseded search stops scanning
        self.load(q, self._stats, self._hits.get(q.search) if q.search else None)

    # -- loading ---------------------------------------------------------------------

    def set_query(self, query: ProblemQuery) -> None:
        self.query_state = query
        if not self.is_mounted:
            return  # on_mount loads query_state
        self._update_status(loading=True)
        self._reload()

    def set_filter(self, which: str) -> None:
        self.set_query(ProblemQuery(filter=which, sort=self.query_state.sort, descending=self.query_state.descending, search=self.query_state.search))

    @work(thread=True, exclusive=True, group="problems")
    def load(self, query: ProblemQuery, stats=None, hits=None) -> None:
        """Stats once, search hits once per term, then filter + sort in memory."""
        t0 = time.perf_counter()
        b, r = self.papp.base_model["model_id"], self.papp.rl_model["model_id"]
        try:
            with self.cursor("problems") as con:
                if stats is None:
                    stats = tui_queries.problem_stats(con, b, r)
                if query.search and hits is None:
                    hits = tui_queries.search_hits(con, [b, r], query.search)
                raw = tui_queries.problem_table(
                    con, stats, filter=query.filter, sort=query.sort, descending=query.descending,
                    hits=hits if query.search else None,
                )
            table, ids = display_table(raw, query)
        except duckdb.InterruptException:
            return  # superseded by a newer query
        except Exception as exc:
            self.post_message(QueryFailed("problems", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ProblemsLoaded(query, table, ids, stats.num_rows, time.perf_counter() - t0, stats, hits))

    async def on_problems_loaded(self, message: ProblemsLoaded) -> None:
        if message.query != self.query_state:
            return  # a newer query is on its way
        table, ids = message.table, message.ids
        self._stats = message.stats
        if message.query.search and message.hits is not None:
            self._hits[message.query.search] = message.hits
        self.ids, self.total, self.loaded_query = ids, message.total, message.query
        self.papp.problem_order = ids
        self._generation += 1
        # The search box keeps focus if the user is in it; otherwise the new table takes it.
        table_focus = self._focus_table_next or not isinstance(self.focused, Input)
        self._focus_table_next = False
        from textual_fastdatatable import ArrowBackend, DataTable  # with pyarrow: after the first screen

        for old in self.query(".pr-table"):
            await old.remove()
        empty = self.query_one("#pr-empty", Static)
        if not ids:
            empty.update("No problem matches." if (message.query.search or message.query.filter != "all") else "This run has no problems yet.")
            empty.display = True
        else:
            empty.display = False
            dt = DataTable(
                backend=ArrowBackend(table), id=f"pr-table-{self._generation}", classes="pr-table",
                cursor_type="row", show_row_labels=False, zebra_stripes=True, max_column_content_width=60,
            )
            await self.mount(dt, before=self.query_one(Footer))
            if self.papp.current_problem in ids:
                dt.move_cursor(row=ids.index(self.papp.current_problem))
            if table_focus:
                dt.focus()
        self._update_status()

    def _update_status(self, loading: bool = False) -> None:
        q = self.query_state
        sort = tui_queries.SORTS[q.sort][0] + (" ↓" if q.descending else " ↑")
        parts = [f"filter: {tui_queries.FILTERS[q.filter][0]}", f"sort: {sort}"]
        if q.search:
            parts.append(f"search: {q.search!r}")
        if loading:
            parts.append("searching every CoT…" if q.search and q.search not in self._hits else "loading…")
        else:
            parts.append(f"{len(self.ids):,} of {self.total:,}")
        self.query_one("#pr-status", Static).update(for_markup(" · ".join(parts)))

    # -- actions ---------------------------------------------------------------------

    def _table(self):
        tables = list(self.query(".pr-table"))
        return tables[0] if tables else None

    def action_open_selected(self) -> None:
        dt = self._table()
        if dt is None or not self.ids:
            return
        self.papp.open_problem(self.ids[dt.cursor_row])

    # textual-fastdatatable's messages (handlers by name: the widget is imported lazily).
    def on_data_table_row_selected(self, event) -> None:
        if 0 <= event.cursor_row < len(self.ids):
            self.papp.open_problem(self.ids[event.cursor_row])

    def on_data_table_row_highlighted(self, event) -> None:
        if 0 <= event.cursor_row < len(self.ids):
            self.papp.current_problem = self.ids[event.cursor_row]

    def on_data_table_header_selected(self, event) -> None:
        key = HEADER_SORTS.get(event.label.plain.strip())
        if key is None:
            return
        q = self.query_state
        descending = (not q.descending) if q.sort == key else key != "problem_id"
        self.set_query(ProblemQuery(filter=q.filter, sort=key, descending=descending, search=q.search))

    def action_focus_search(self) -> None:
        self.query_one("#pr-search", Input).focus()

    @on(Input.Submitted, "#pr-search")
    def _search(self, event: Input.Submitted) -> None:
        term = event.value.strip()
        self.papp.search_term = term
        self._focus_table_next = True
        q = self.query_state
        sort = "hits" if term and q.sort == "problem_id" else ("problem_id" if not term and q.sort == "hits" else q.sort)
        self.set_query(ProblemQuery(filter=q.filter, sort=sort, descending=bool(term) and sort == "hits" or q.descending and sort != "hits", search=term))

    def action_cycle_filter(self) -> None:
        q = self.query_state
        nxt = FILTER_ORDER[(FILTER_ORDER.index(q.filter) + 1) % len(FILTER_ORDER)]
        self.set_query(ProblemQuery(filter=nxt, sort=q.sort, descending=q.descending, search=q.search))

    def action_cycle_sort(self) -> None:
        q = self.query_state
        order = [s for s in SORT_ORDER if s != "hits" or q.search]
        nxt = order[(order.index(q.sort) + 1) % len(order)] if q.sort in order else order[0]
        self.set_query(ProblemQuery(filter=q.filter, sort=nxt, descending=nxt != "problem_id", search=q.search))

    def action_reverse_sort(self) -> None:
        q = self.query_state
        self.set_query(ProblemQuery(filter=q.filter, sort=q.sort, descending=not q.descending, search=q.search))

    def action_clear(self) -> None:
        search = self.query_one("#pr-search", Input)
        if search.has_focus and search.value:
            search.value = ""
        self.papp.search_term = ""
        search.value = ""
        self.set_query(ProblemQuery(sort="problem_id" if self.query_state.sort == "hits" else self.query_state.sort,
                                    descending=self.query_state.descending and self.query_state.sort != "hits"))
        table = self._table()
        if table is not None:
            table.focus()
