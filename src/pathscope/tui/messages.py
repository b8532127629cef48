"""Typed messages from thread workers to screens.

Workers query DuckDB and post one of these; the screen's handler (on the UI
thread) owns the state and updates widgets.  Workers never touch a widget.
Every message carries plain data (dicts, lists, Arrow tables, numpy arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


class OverviewLoaded(Message):
    """Models, pass@k curves with bands, crossover, coverage and histograms."""

    bubble = False

    def __init__(self, data: "dict[str, Any]") -> None:
        super().__init__()
        self.data = data


class ProblemsLoaded(Message):
    """The problems table for one query: display rows (Arrow) and their ids in order."""

    bubble = False

    def __init__(
        self, query: "ProblemQuery", table: Any, ids: list[str], total: int, elapsed_s: float,
        stats: Any = None, hits: Any = None,
    ) -> None:
        super().__init__()
        self.query = query
        self.table = table
        self.ids = ids
        #: The per-problem stats and search hits the rows came from (the screen caches them).
        self.stats = stats
        self.hits = hits
        self.total = total
        self.elapsed_s = elapsed_s


class ProblemLoaded(Message):
    """The detail of one problem: its row and each side's sample list."""

    bubble = False

    def __init__(self, problem_id: str, problem: dict | None, sides: dict, evidence: dict, texts: dict | None = None) -> None:
        super().__init__()
        self.problem_id = problem_id
        self.problem = problem
        self.sides = sides
        self.evidence = evidence
        #: side -> (position in its sample list, text) of the sample each side opens on.
        self.texts = texts or {}


class ProblemPrefetched(Message):
    """A problem read ahead (the next in the list); applied when the user gets there."""

    bubble = False

    def __init__(self, loaded: ProblemLoaded) -> None:
        super().__init__()
        self.loaded = loaded


class CotLoaded(Message):
    """The text of one sample, for one side of the paired view."""

    bubble = False

    def __init__(self, side: str, problem_id: str, sample: dict, text: str) -> None:
        super().__init__()
        self.side = side
        self.problem_id = problem_id
        self.sample = sample
        self.text = text


class ProblemIndexLoaded(Message):
    """(problem_id, short prompt) pairs for the palette's "jump to problem"."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows


class QueryFailed(Message):
    """A worker's query raised; the screen shows one line instead of a traceback."""

    bubble = False

    def __init__(self, where: str, error: str) -> None:
        super().__init__()
        self.where = where
        self.error = error


@dataclass(frozen=True)
class ProblemQuery:
    """What the problems table shows: filter, sort, search text."""

    filter: str = "all"
    sort: str = "problem_id"
    descending: bool = False
    search: str = ""
