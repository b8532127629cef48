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


def problem_counts(run: Run, model_ids):
    """Arrow table (model_id, problem_id, n, c, n_samples), ordered by model
    then problem; only problems with at least one verdict for that model."""
    clause, ids = _ids_clause(model_ids)
    return _arrow(run, 
        f"""
        WITH s AS (
            SELECT model_id, problem_id, count(*) AS n_samples
            FROM samples WHERE model_id IN {clause} GROUP BY ALL
        ), v AS (
            SELECT model_id, problem_id, count(*) AS n, count(*) FILTER (WHERE correct) AS c
            FROM verdict WHERE model_id IN {clause} GROUP BY ALL
        )
        SELECT v.model_id, v.problem_id, v.n::BIGINT AS n, v.c::BIGINT AS c,
               coalesce(s.n_samples, 0)::BIGINT AS n_samples
        FROM v LEFT JOIN s USING (model_id, problem_id)
        ORDER BY v.model_id, v.problem_id
        """,
        ids + ids,
    )


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
