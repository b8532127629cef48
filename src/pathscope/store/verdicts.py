"""The SQL of the verify stage: which samples still need a verdict, and
writing verdicts (table ``verdicts``, one row per sample per verifier)."""

from __future__ import annotations

from .run import Run

#: Problem kind -> the verifier ``--verifier auto`` uses for it.
AUTO_VERIFIER = {"math": "math", "code": "code", "choice": "choice"}

_PENDING = """
    FROM samples s JOIN problems p USING (problem_id)
    WHERE {where} AND NOT EXISTS (
        SELECT 1 FROM verdicts v
        WHERE v.model_id = s.model_id AND v.problem_id = s.problem_id
          AND v.sample_idx = s.sample_idx AND v.verifier = ?)
"""


_NEEDS = {"answer": "p.answer IS NOT NULL AND trim(p.answer) <> ''", "tests": "p.tests IS NOT NULL"}


def _where(kinds: list[str] | None) -> tuple[str, list]:
    if kinds is None:
        return "true", []
    return "p.kind IN (" + ", ".join("?" for _ in kinds) + ")", list(kinds)


def pending_count(run: Run, verifier: str, kinds: list[str] | None, need: str | None = None) -> int:
    """Samples (of problems of these kinds; None = all) with no verdict from
    ``verifier`` (and, with ``need``, whose problem has what it grades against)."""
    where, params = _where(kinds)
    if need:
        where += f" AND {_NEEDS[need]}"
    return int(run.one("SELECT count(*) " + _PENDING.format(where=where), params + [verifier])[0])


def pending_without_reference(run: Run, verifier: str, kinds: list[str] | None, need: str = "answer") -> int:
    """Pending samples whose problem lacks what the verifier grades against
    (``need``: 'answer' for math and choice, 'tests' for code)."""
    where, params = _where(kinds)
    return int(run.one("SELECT count(*) " + _PENDING.format(where=where + f" AND NOT ({_NEEDS[need]})"), params + [verifier])[0])


def pending_batches(run: Run, verifier: str, kinds: list[str] | None, batch_rows: int, need: str | None):
    """Stream the pending samples as Arrow record batches of ``batch_rows``
    (model_id, problem_id, sample_idx, text, answer, tests, metadata).

    Reads through a second cursor, so the caller may commit verdicts on the
    run's connection between batches; the stream sees the snapshot it began with.
    """
    where, params = _where(kinds)
    if need:
        where += f" AND {_NEEDS[need]}"
    cur = run.con.cursor()
    reader = cur.sql(
        "SELECT s.model_id, s.problem_id, s.sample_idx, s.text, p.answer, p.tests::VARCHAR AS tests, "
        "p.metadata::VARCHAR AS metadata " + _PENDING.format(where=where),
        params=params + [verifier],
    ).to_arrow_reader(batch_rows)
    try:
        yield from reader
    finally:
        cur.close()


def problem_kinds(run: Run) -> dict[str, int]:
    return dict(run.con.execute("SELECT kind, count(*) FROM problems GROUP BY kind").fetchall())


def write_verdicts(run: Run, table) -> int:
    """Insert verdict rows from an Arrow table with columns model_id,
    problem_id, sample_idx, verifier, extracted, correct, status, detail
    (rows of samples that already have this verifier's verdict are refused)."""
    run.con.register("_incoming_verdicts", table)
    try:
        run.con.execute(
            """INSERT INTO verdicts
                   (model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail)
               SELECT model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail
               FROM _incoming_verdicts"""
        )
    finally:
        run.con.unregister("_incoming_verdicts")
    return table.num_rows


def verdict_summary(run: Run, verifier: str) -> dict[str, int]:
    """status -> count for one verifier."""
    return dict(run.con.execute("SELECT status, count(*) FROM verdicts WHERE verifier = ? GROUP BY status", [verifier]).fetchall())
