"""The SQL behind ``pathscope sample`` and ``pathscope score``."""

from __future__ import annotations

from ..errors import InputError
from .run import Run


def select_problems(run: Run, ids: list[str] | None = None, source: str | None = None, limit: int | None = None) -> list[tuple[str, str]]:
    """(problem_id, prompt) of the chosen problems, in the order they were added."""
    where, params = [], []
    if ids:
        have = {r[0] for r in run.con.execute(
            "SELECT problem_id FROM problems WHERE list_contains(?, problem_id)", [list(ids)]
        ).fetchall()}
        missing = [i for i in ids if i not in have]
        if missing:
            raise InputError(f"{run.path}: problems.ids: no problem {missing[0]!r} in the run ({len(missing)} of {len(ids)} ids unknown).")
        where.append("list_contains(?, problem_id)")
        params.append(list(ids))
    if source is not None:
        where.append("source = ?")
        params.append(source)
    sql = "SELECT problem_id, prompt FROM problems"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY rowid"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [(r[0], r[1]) for r in run.con.execute(sql, params).fetchall()]


def stored_indices(run: Run, model_id: int, lo: int, hi: int) -> dict[str, set[int]]:
    """problem_id -> sample indices in [lo, hi) already stored for a model."""
    rows = run.con.execute(
        "SELECT problem_id, list(sample_idx) FROM samples WHERE model_id = ? AND sample_idx >= ? AND sample_idx < ? GROUP BY problem_id",
        [model_id, lo, hi],
    ).fetchall()
    return {r[0]: set(r[1]) for r in rows}


def sample_count(run: Run, model_id: int) -> int:
    return int(run.one("SELECT count(*) FROM samples WHERE model_id = ?", [model_id])[0])


# -- scores ----------------------------------------------------------------------------


def unscored_counts(run: Run, scorer_id: int, model_id: int) -> list[tuple[str, int]]:
    """(problem_id, samples not yet scored) for one model, in problem order."""
    return [
        (r[0], int(r[1]))
        for r in run.con.execute(
            """SELECT s.problem_id, count(*) FROM samples s JOIN problems p USING (problem_id)
               WHERE s.model_id = ?
                 AND NOT EXISTS (SELECT 1 FROM scores c WHERE c.model_id = s.model_id AND c.problem_id = s.problem_id
                                 AND c.sample_idx = s.sample_idx AND c.scorer_model_id = ?)
               GROUP BY s.problem_id ORDER BY min(p.rowid)""",
            [model_id, scorer_id],
        ).fetchall()
    ]


def unscored_samples(run: Run, scorer_id: int, model_id: int, problem_ids: list[str]) -> list[tuple[int, str, int, str, str]]:
    """(model_id, problem_id, sample_idx, problem prompt, response) of the
    samples of these problems the scorer has not scored yet."""
    return [
        tuple(r)
        for r in run.con.execute(
            """SELECT s.model_id, s.problem_id, s.sample_idx, p.prompt, s.text
               FROM samples s JOIN problems p USING (problem_id)
               WHERE s.model_id = ? AND list_contains(?, s.problem_id)
                 AND NOT EXISTS (SELECT 1 FROM scores c WHERE c.model_id = s.model_id AND c.problem_id = s.problem_id
                                 AND c.sample_idx = s.sample_idx AND c.scorer_model_id = ?)
               ORDER BY p.rowid, s.sample_idx""",
            [model_id, list(problem_ids), scorer_id],
        ).fetchall()
    ]


def add_scores(run: Run, table) -> int:
    """Insert score rows from an Arrow table; keys already scored are skipped."""
    cols = ["model_id", "problem_id", "sample_idx", "scorer_model_id", "ppl", "mean_logprob", "n_tokens"]
    run.con.register("_incoming_scores", table)
    try:
        before = run.count("scores")
        run.con.execute(f"INSERT OR IGNORE INTO scores ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _incoming_scores")
        return run.count("scores") - before
    finally:
        run.con.unregister("_incoming_scores")
