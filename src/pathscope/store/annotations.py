"""The SQL of the review marks: an append-only history in table ``annotations``.

Rows are never updated or deleted.  Each row is a full snapshot of one
reviewer's judgement of one target (``label`` + ``note``); the current mark of
a ``(target_kind, target_id)`` for a reviewer is that reviewer's row with the
highest ``annotation_id``.  Undo appends a row that restores the previous
snapshot (or ``'cleared'``), so the whole history survives and a crash can
lose nothing that was reported saved: every write here is a single
auto-committed INSERT.

Target ids (read by the exporter too):

- ``sample``:  ``"<model name>/<problem_id>/<sample_idx>"``
- ``cluster``: ``"<problem_id>/<cluster_id>"``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import PathscopeError, RunError
from .run import Run

#: The labels a reviewer can give.  'cleared' means "no mark" (after an undo).
LABELS = ("already_in_base", "novel", "unsure", "cleared")
#: Labels that count as reviewed.
REVIEWED_LABELS = ("already_in_base", "novel", "unsure")
TARGET_KINDS = ("sample", "cluster")


@dataclass(frozen=True)
class Mark:
    """One row of the history."""

    annotation_id: int
    target_kind: str
    target_id: str
    label: str
    note: str | None
    reviewer: str
    created_at: datetime


def sample_target_id(model_name: str, problem_id: str, sample_idx: int) -> str:
    return f"{model_name}/{problem_id}/{int(sample_idx)}"


def cluster_target_id(problem_id: str, cluster_id: int) -> str:
    return f"{problem_id}/{int(cluster_id)}"


def parse_sample_target_id(target_id: str, model_names: list[str]) -> tuple[str, str, int]:
    """Split a sample target id.  Model names and problem ids may contain '/',
    so the model is the longest known name that prefixes the id and the sample
    index follows the last '/'."""
    head, _, idx = target_id.rpartition("/")
    for name in sorted(model_names, key=len, reverse=True):
        if head.startswith(name + "/"):
            return name, head[len(name) + 1 :], int(idx)
    raise PathscopeError(f"annotation target {target_id!r} names no model of this run.")


def parse_cluster_target_id(target_id: str) -> tuple[str, int]:
    problem_id, _, cluster_id = target_id.rpartition("/")
    return problem_id, int(cluster_id)


_COLS = "annotation_id, target_kind, target_id, label, note, reviewer, created_at"


def _check(run: Run, target_kind: str, label: str, reviewer: str) -> None:
    if run.read_only:
        what = "a read-only snapshot" if run.is_snapshot else "opened read-only"
        raise RunError(f"{run.path}: {what}; marks cannot be saved here.")
    if target_kind not in TARGET_KINDS:
        raise PathscopeError(f"unknown annotation target kind {target_kind!r} (one of {', '.join(TARGET_KINDS)}).")
    if label not in LABELS:
        raise PathscopeError(f"unknown review label {label!r} (one of {', '.join(LABELS)}).")
    if not reviewer or not reviewer.strip():
        raise PathscopeError("a review mark needs a reviewer name (--reviewer or [review] reviewer in pathscope.toml).")


def append(run: Run, target_kind: str, target_id: str, label: str, reviewer: str, note: str | None = None) -> Mark:
    """Append one row and return it.  One INSERT outside any transaction:
    DuckDB commits it (to the WAL) before this returns."""
    _check(run, target_kind, label, reviewer)
    row = run.con.execute(
        f"""INSERT INTO annotations (target_kind, target_id, label, note, reviewer)
            VALUES (?, ?, ?, ?, ?) RETURNING {_COLS}""",
        [target_kind, target_id, label, note, reviewer],
    ).fetchall()[0]
    return Mark(*row)


def current(run: Run, target_kind: str, target_id: str, reviewer: str) -> Mark | None:
    """The reviewer's current mark of a target (None if never marked)."""
    row = run.one(
        f"""SELECT {_COLS} FROM annotations
            WHERE target_kind = ? AND target_id = ? AND reviewer = ?
            ORDER BY annotation_id DESC LIMIT 1""",
        [target_kind, target_id, reviewer],
    )
    return Mark(*row) if row else None


def history(run: Run, target_kind: str, target_id: str, reviewer: str | None = None) -> list[Mark]:
    """Every row for a target, oldest first (all reviewers unless one is named)."""
    sql = f"SELECT {_COLS} FROM annotations WHERE target_kind = ? AND target_id = ?"
    params: list = [target_kind, target_id]
    if reviewer is not None:
        sql += " AND reviewer = ?"
        params.append(reviewer)
    return [Mark(*r) for r in run.con.execute(sql + " ORDER BY annotation_id", params).fetchall()]


def mark(run: Run, target_kind: str, target_id: str, label: str, reviewer: str) -> Mark:
    """Give a target a label, keeping the note it already has."""
    prev = current(run, target_kind, target_id, reviewer)
    return append(run, target_kind, target_id, label, reviewer, note=prev.note if prev else None)


def add_note(run: Run, target_kind: str, target_id: str, note: str, reviewer: str) -> Mark:
    """Attach a note: a row with the current label (or 'cleared') and the note."""
    prev = current(run, target_kind, target_id, reviewer)
    return append(run, target_kind, target_id, prev.label if prev else "cleared", reviewer, note=note or None)


def undo(run: Run, undone: Mark) -> Mark:
    """Undo row ``undone``: append the reviewer's snapshot from just before it
    (or 'cleared' if it was the first)."""
    row = run.one(
        f"""SELECT {_COLS} FROM annotations
            WHERE target_kind = ? AND target_id = ? AND reviewer = ? AND annotation_id < ?
            ORDER BY annotation_id DESC LIMIT 1""",
        [undone.target_kind, undone.target_id, undone.reviewer, undone.annotation_id],
    )
    label, note = (row[3], row[4]) if row else ("cleared", None)
    return append(run, undone.target_kind, undone.target_id, label, undone.reviewer, note=note)


def current_marks(run: Run, target_kind: str | None = None, reviewer: str | None = None):
    """The current mark of every (target, reviewer) as a pandas DataFrame (or
    Arrow table): one row each, 'cleared' included."""
    where, params = [], []
    if target_kind is not None:
        where.append("target_kind = ?")
        params.append(target_kind)
    if reviewer is not None:
        where.append("reviewer = ?")
        params.append(reviewer)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return run.df(
        f"""SELECT {_COLS} FROM annotations {clause}
            QUALIFY row_number() OVER (PARTITION BY target_kind, target_id, reviewer
                                       ORDER BY annotation_id DESC) = 1
            ORDER BY target_kind, target_id, reviewer""",
        params,
    )


def reviewers(run: Run) -> list[str]:
    return [r[0] for r in run.con.execute("SELECT DISTINCT reviewer FROM annotations ORDER BY reviewer").fetchall()]


def paired_labels(run: Run, target_kind: str, reviewer_a: str, reviewer_b: str) -> list[tuple[str, str, str]]:
    """(target_id, label of a, label of b) for targets both reviewers marked
    (their current marks, 'cleared' excluded) — the input to Cohen's kappa."""
    rows = run.con.execute(
        """WITH cur AS (
               SELECT target_id, reviewer, label FROM annotations
               WHERE target_kind = ? AND reviewer IN (?, ?)
               QUALIFY row_number() OVER (PARTITION BY target_id, reviewer ORDER BY annotation_id DESC) = 1)
           SELECT a.target_id, a.label, b.label FROM cur a JOIN cur b USING (target_id)
           WHERE a.reviewer = ? AND b.reviewer = ? AND a.label <> 'cleared' AND b.label <> 'cleared'
           ORDER BY a.target_id""",
        [target_kind, reviewer_a, reviewer_b, reviewer_a, reviewer_b],
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def labels_for(con, target_kind: str, target_ids: list[str], reviewer: str) -> dict[str, tuple[str, str | None]]:
    """target_id -> (label, note) of the reviewer's current marks among
    ``target_ids`` (takes a DuckDB connection: the TUI's workers pass a cursor)."""
    if not target_ids:
        return {}
    rows = con.execute(
        """SELECT target_id, label, note FROM annotations
           WHERE target_kind = ? AND reviewer = ? AND list_contains(?, target_id)
           QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY annotation_id DESC) = 1""",
        [target_kind, reviewer, list(target_ids)],
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}
