"""The SQL behind the metrics and ``pathscope report``.

:func:`problem_counts` is the one query every pass@k / coverage / histogram
view starts from (the TUI uses it too): per (model, problem), ``n`` = samples
with an effective verdict (view ``verdict``) and ``c`` = how many of them are
correct.  Samples not yet verified are not counted; ``n_samples`` says how
many samples exist, so a partly verified run is visible.
"""

from __future__ import annotations

from .run import Run


def _arrow(run: Run, query: str, params: list):
    """Arrow straight from a relation (no extra copy of the rows)."""
    return run.con.sql(query, params=params).to_arrow_table()


def _ids_clause(model_ids) -> tuple[str, list]:
    ids = [int(m) for m in model_ids]
    if not ids:
        raise ValueError("no model ids given")
    return "(" + ", ".join("?" for _ in ids) + ")", ids


#: Per (model, problem) ``n`` effective verdicts and ``c`` correct ones, for the model ids in ``$ids``.
#: Equal to aggregating the ``verdict`` view, which ranks every verdict with a window (seconds at a
#: million samples); a (model, problem) whose verdicts all come from one verifier has exactly one
#: verdict per sample, so a plain aggregate is exact there and only mixed groups are ranked.
COUNTS_SQL = """
    WITH g AS (
        SELECT model_id, problem_id, count(*) AS n, count(*) FILTER (WHERE correct) AS c,
               min(verifier) = max(verifier) AS single
        FROM verdicts WHERE list_contains($ids, model_id) GROUP BY ALL
    ),
    multi AS (SELECT model_id, problem_id FROM g WHERE NOT single),
    ranked AS (
        SELECT v.model_id, v.problem_id, v.correct FROM verdicts v SEMI JOIN multi USING (model_id, problem_id)
        QUALIFY row_number() OVER (
            PARTITION BY v.model_id, v.problem_id, v.sample_idx
            ORDER BY (v.verifier = 'imported'), v.created_at DESC, v.verifier) = 1
    )
    SELECT model_id, problem_id, n::BIGINT AS n, c::BIGINT AS c FROM g WHERE single
    UNION ALL
    SELECT model_id, problem_id, count(*)::BIGINT, (count(*) FILTER (WHERE correct))::BIGINT FROM ranked GROUP BY ALL
"""


def problem_counts(run: Run, model_ids):
    """Arrow table (model_id, problem_id, n, c, n_samples), ordered by model
    then problem; only problems with at least one verdict for that model."""
    _ids_clause(model_ids)  # refuses an empty list
    ids = [int(m) for m in model_ids]
    return run.con.sql(
        f"""
        WITH s AS (
            SELECT model_id, problem_id, count(*) AS n_samples
            FROM samples WHERE list_contains($ids, model_id) GROUP BY ALL
        ), v AS ({COUNTS_SQL})
        SELECT v.model_id, v.problem_id, v.n::BIGINT AS n, v.c::BIGINT AS c,
               coalesce(s.n_samples, 0)::BIGINT AS n_samples
        FROM v LEFT JOIN s USING (model_id, problem_id)
        ORDER BY v.model_id, v.problem_id
        """,
        params={"ids": ids},
    ).to_arrow_table()


def unverified_count(run: Run, model_ids) -> int:
    """Samples of these models with no effective verdict."""
    clause, ids = _ids_clause(model_ids)
    return int(
        run.one(
            f"""SELECT count(*) FROM samples s ANTI JOIN verdict v
                USING (model_id, problem_id, sample_idx) WHERE s.model_id IN {clause}""",
            ids,
        )[0]
    )


def distinct_answers(run: Run, model_ids):
    """Arrow table (model_id, problem_id, distinct_answers, answered): the
    number of distinct extracted final answers per problem per model (samples
    with no extracted answer are not an answer)."""
    clause, ids = _ids_clause(model_ids)
    return _arrow(run, 
        f"""SELECT model_id, problem_id,
                   count(DISTINCT trim(extracted))::BIGINT AS distinct_answers,
                   count(extracted)::BIGINT AS answered
            FROM verdict WHERE model_id IN {clause} GROUP BY ALL ORDER BY model_id, problem_id""",
        ids,
    )


def current_marks(run: Run) -> list[tuple[str, str, str, str]]:
    """(reviewer, target_kind, target_id, label) of every reviewer's current
    mark: the reviewer's row with the highest annotation_id per target,
    dropped when that row is 'cleared' or has no label."""
    rows = run.con.execute(
        """SELECT reviewer, target_kind, target_id, label FROM annotations
           QUALIFY row_number() OVER (PARTITION BY reviewer, target_kind, target_id
                                      ORDER BY annotation_id DESC) = 1"""
    ).fetchall()
    return [r for r in rows if r[3] is not None and r[3] != "cleared"]


def perplexities(run: Run, model_ids):
    """Arrow table (model_id, problem_id, sample_idx, scorer_model_id, ppl,
    correct) of every stored score of these models' responses."""
    clause, ids = _ids_clause(model_ids)
    return _arrow(run, 
        f"""SELECT sc.model_id, sc.problem_id, sc.sample_idx, sc.scorer_model_id, sc.ppl, v.correct
            FROM scores sc LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
            WHERE sc.model_id IN {clause} AND sc.ppl IS NOT NULL
            ORDER BY sc.scorer_model_id, sc.model_id, sc.problem_id, sc.sample_idx""",
        ids,
    )
