"""The SQL behind the terminal UI: small per-view queries.

Each function takes a DuckDB connection (the TUI's thread workers pass their
own ``run.con.cursor()``) and returns plain Python data or an Arrow table.
None of them loads CoT texts in bulk: the problems table carries counts and
short previews, and a CoT is read one sample at a time.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

#: Filters of the problems table: id -> (label, SQL condition over the counts CTE).
#: ``bn``/``bc`` are the base model's verified samples / correct ones, ``rn``/``rc`` the RL model's.
FILTERS: dict[str, tuple[str, str]] = {
    "all": ("all problems", "true"),
    "rl_only": ("RL-only solved", "rc > 0 AND bc = 0"),
    "base_only": ("base-only solved (base solves at k = n, RL never)", "bc > 0 AND rc = 0"),
    "base_large_k": ("base solves only at large k (acc ≤ 10%), RL never", "bc > 0 AND bc <= 0.1 * bn AND rc = 0"),
    "both": ("both solve", "bc > 0 AND rc > 0"),
    "neither": ("neither solves", "coalesce(bc, 0) = 0 AND coalesce(rc, 0) = 0"),
    "rl_better": ("RL more accurate", "rl_acc > base_acc"),
    "base_better": ("base more accurate", "base_acc > rl_acc"),
    "unreviewed": ("not yet reviewed", "reviewed = 0"),
}

#: Sort keys of the problems table: id -> (label, SQL expression).
SORTS: dict[str, tuple[str, str]] = {
    "problem_id": ("problem id", "problem_id"),
    "base_acc": ("base accuracy", "base_acc"),
    "rl_acc": ("RL accuracy", "rl_acc"),
    "delta": ("RL − base accuracy", "rl_acc - base_acc"),
    "strategies": ("strategies", "strategies"),
    "reviewed": ("reviewed", "reviewed"),
    "hits": ("search hits", "hits"),
}

#: How many samples' matches the search shows a snippet of per problem.
_SNIPPET = 90


def models(con: duckdb.DuckDBPyConnection) -> list[dict]:
    rows = con.execute("SELECT model_id, name, role, backend FROM models ORDER BY model_id").fetchall()
    return [{"model_id": r[0], "name": r[1], "role": r[2], "backend": r[3]} for r in rows]


def pick_pair(model_rows: list[dict]) -> tuple[dict, dict] | None:
    """The (base, rl) pair: roles 'base' and 'rl' when present, else the first two models.
    (Mirrors Run.default_pair, on plain rows a worker can read.)"""
    ms = [m for m in model_rows if m["role"] != "scorer"]
    base = next((m for m in ms if m["role"] == "base"), None)
    rl = next((m for m in ms if m["role"] == "rl"), None)
    if base and rl:
        return base, rl
    if len(ms) >= 2:
        return ms[0], ms[1]
    return None


def run_totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = con.execute(
        """SELECT (SELECT count(*) FROM problems), (SELECT count(*) FROM samples),
                  (SELECT count(*) FROM verdicts), (SELECT count(*) FROM clusters),
                  (SELECT count(*) FROM evidence), (SELECT count(*) FROM scores)"""
    ).fetchall()[0]
    return dict(zip(["problems", "samples", "verdicts", "clusters", "evidence", "scores"], map(int, row)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def problem_table(
    con: duckdb.DuckDBPyConnection,
    base_id: int,
    rl_id: int,
    filter: str = "all",
    sort: str = "problem_id",
    descending: bool = False,
    search: str = "",
) -> pa.Table:
    """Every problem with per-model accuracy, solved-at-n, strategies, review
    progress and, when searching, the hit count and a snippet around the first hit."""
    if filter not in FILTERS:
        raise ValueError(f"unknown filter {filter!r}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    cond = FILTERS[filter][1]
    order = SORTS[sort][1]
    direction = "DESC" if descending else "ASC"
    search_cte = "SELECT NULL::VARCHAR AS problem_id, 0 AS hits, NULL::VARCHAR AS snippet WHERE false"
    search_cond = "true"
    if search:
        # The first hit's neighbourhood: prompt hits first, then CoT hits.
        search_cte = f"""
            SELECT problem_id, sum(hits)::INTEGER AS hits, arg_min(snippet, pri) AS snippet FROM (
                SELECT problem_id, 1 AS hits, 0 AS pri,
                       substr(prompt, greatest(1, strpos(lower(prompt), lower($q)) - 30), {_SNIPPET}) AS snippet
                FROM problems WHERE prompt ILIKE $p ESCAPE '\\'
                UNION ALL
                SELECT problem_id, count(*) AS hits, 1 AS pri,
                       any_value(substr(text, greatest(1, strpos(lower(text), lower($q)) - 30), {_SNIPPET})) AS snippet
                FROM samples WHERE model_id IN ($b, $r) AND text ILIKE $p ESCAPE '\\'
                GROUP BY problem_id
            ) GROUP BY problem_id"""
        search_cond = "s.hits > 0"
    sql = f"""
        WITH counts AS (
            SELECT problem_id,
                   count(*) FILTER (WHERE model_id = $b) AS bn,
                   count(*) FILTER (WHERE model_id = $b AND correct) AS bc,
                   count(*) FILTER (WHERE model_id = $r) AS rn,
                   count(*) FILTER (WHERE model_id = $r AND correct) AS rc
            FROM verdict WHERE model_id IN ($b, $r) GROUP BY problem_id
        ),
        strategies AS (SELECT problem_id, count(*) AS strategies FROM clusters GROUP BY problem_id),
        reviewed AS ({review_progress_sql()}),
        hits AS ({search_cte}),
        t AS (
            SELECT p.problem_id, p.source,
                   coalesce(bn, 0) AS bn, coalesce(bc, 0) AS bc, coalesce(rn, 0) AS rn, coalesce(rc, 0) AS rc,
                   CASE WHEN bn > 0 THEN bc / bn END AS base_acc,
                   CASE WHEN rn > 0 THEN rc / rn END AS rl_acc,
                   coalesce(st.strategies, 0) AS strategies,
                   coalesce(rv.reviewed, 0) AS reviewed,
                   coalesce(s.hits, 0) AS hits, s.snippet,
                   left(regexp_replace(p.prompt, '\\s+', ' ', 'g'), 70) AS preview
            FROM problems p
            LEFT JOIN counts c USING (problem_id)
            LEFT JOIN strategies st USING (problem_id)
            LEFT JOIN reviewed rv USING (problem_id)
            LEFT JOIN hits s USING (problem_id)
            WHERE {search_cond}
        )
        SELECT * FROM t WHERE {cond}
        ORDER BY {order} {direction} NULLS LAST, problem_id
    """
    named = {"b": base_id, "r": rl_id}
    if search:
        named.update({"q": search, "p": f"%{_escape_like(search)}%"})
    return con.sql(sql, params=named).to_arrow_table()


def review_progress_sql() -> str:
    """Per problem, how many review targets (samples or clusters) carry a current
    mark of any reviewer.  Target ids are ``<model name>/<problem_id>/<idx>``
    and ``<problem_id>/<cluster_id>`` (see ``store.annotations``); the current
    mark is each reviewer's latest row, and ``cleared`` does not count."""
    from .annotations import REVIEWED_LABELS

    labels = ", ".join(f"'{x}'" for x in REVIEWED_LABELS)
    return f"""
        WITH cur AS (
            SELECT target_kind, target_id, label FROM annotations
            QUALIFY row_number() OVER (PARTITION BY target_kind, target_id, reviewer ORDER BY annotation_id DESC) = 1
        ), heads AS (
            SELECT target_kind, target_id, regexp_extract(target_id, '^(.*)/[^/]*$', 1) AS head
            FROM cur WHERE label IN ({labels})
        ), owned AS (
            SELECT h.target_id,
                   CASE WHEN h.target_kind = 'cluster' THEN h.head
                        ELSE (SELECT arg_max(substr(h.head, length(m.name) + 2), length(m.name))
                              FROM models m WHERE starts_with(h.head, m.name || '/')) END AS problem_id
            FROM heads h
        )
        SELECT problem_id, count(DISTINCT target_id) AS reviewed FROM owned GROUP BY problem_id"""


def problem_index(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(problem_id, one-line prompt start) for "jump to problem"."""
    return [
        (r[0], r[1] or "")
        for r in con.execute(
            "SELECT problem_id, left(regexp_replace(prompt, '\\s+', ' ', 'g'), 60) FROM problems ORDER BY problem_id"
        ).fetchall()
    ]


def problem(con: duckdb.DuckDBPyConnection, problem_id: str) -> dict | None:
    cur = con.execute("SELECT problem_id, source, prompt, answer, kind FROM problems WHERE problem_id = ?", [problem_id])
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def sample_list(con: duckdb.DuckDBPyConnection, model_id: int, problem_id: str, scorer_id: int | None) -> list[dict]:
    """One model's samples of a problem, without texts: index, verdict, answer,
    length, perplexity (under ``scorer_id`` when scored, else any scorer)."""
    rows = con.execute(
        """
        WITH v AS (
            SELECT sample_idx, correct, extracted, verifier, status FROM verdicts
            WHERE model_id = $m AND problem_id = $p
            QUALIFY row_number() OVER (PARTITION BY sample_idx ORDER BY (verifier = 'imported'), created_at DESC, verifier) = 1
        ),
        sc AS (
            SELECT sample_idx, ppl FROM scores WHERE model_id = $m AND problem_id = $p
            QUALIFY row_number() OVER (PARTITION BY sample_idx ORDER BY (scorer_model_id IS DISTINCT FROM $s), scorer_model_id) = 1
        )
        SELECT s.sample_idx, v.correct, v.extracted, s.n_tokens, s.finish_reason, sc.ppl, length(s.text) AS chars
        FROM samples s LEFT JOIN v USING (sample_idx) LEFT JOIN sc USING (sample_idx)
        WHERE s.model_id = $m AND s.problem_id = $p
        ORDER BY s.sample_idx
        """,
        {"m": model_id, "p": problem_id, "s": scorer_id},
    ).fetchall()
    keys = ("sample_idx", "correct", "extracted", "n_tokens", "finish_reason", "ppl", "chars")
    return [dict(zip(keys, r)) for r in rows]


def evidence_for(con: duckdb.DuckDBPyConnection, model_id: int, problem_id: str, base_id: int) -> dict[int, dict]:
    """sample_idx -> its nearest base sample and the suggested mark, where analysed."""
    cur = con.execute(
        """SELECT sample_idx, nearest_base_idx, similarity, nearest_base_correct,
                  shares_cluster_with_correct_base, ppl_under_base, answer_in_base, suggested_mark, confidence
           FROM evidence WHERE model_id = ? AND problem_id = ? AND base_model_id = ?""",
        [model_id, problem_id, base_id],
    )
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r)) for r in cur.fetchall()}


def cot_text(con: duckdb.DuckDBPyConnection, model_id: int, problem_id: str, sample_idx: int) -> str | None:
    rows = con.execute(
        "SELECT text FROM samples WHERE model_id = ? AND problem_id = ? AND sample_idx = ?",
        [model_id, problem_id, sample_idx],
    ).fetchall()
    return rows[0][0] if rows else None
