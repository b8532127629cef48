"""The SQL behind the terminal UI: small per-view queries.

Each function takes a DuckDB connection (the TUI's thread workers pass their
own ``run.con.cursor()``) and returns plain Python data or an Arrow table.
None of them loads CoT texts in bulk: the problems table carries counts and
short previews, and a CoT is read one sample at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from .metrics import COUNTS_SQL

if TYPE_CHECKING:  # pyarrow loads with the first Arrow result, not at import (startup time)
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
_SNIPPET = 70


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


#: Per (model, problem) n and c over the effective verdicts (shared with ``pathscope report``).
_COUNTS_SQL = COUNTS_SQL


def problem_counts_fast(con: duckdb.DuckDBPyConnection, model_ids: list[int]) -> "pa.Table":
    """Per (model, problem): n effective verdicts and c correct ones — the same
    numbers as ``store.metrics.problem_counts`` (the ``verdict`` view), faster.

    The view ranks every verdict with a window, which costs seconds at a million
    samples.  A (model, problem) whose verdicts all come from one verifier has
    exactly one verdict per sample (the key includes the verifier), so a plain
    aggregate is exact there; only groups with several verifiers go through the
    ranking."""
    ids = [int(m) for m in model_ids]
    return con.sql(f"SELECT * FROM ({_COUNTS_SQL}) ORDER BY model_id, problem_id", params={"ids": ids}).to_arrow_table()


def problem_count_rows(con: duckdb.DuckDBPyConnection, model_ids: list[int]) -> list[tuple[int, str, int, int]]:
    """:func:`problem_counts_fast` as plain rows (no Arrow: the overview does not
    pay for loading pyarrow and pandas before its first curves)."""
    ids = [int(m) for m in model_ids]
    return con.execute(f"SELECT * FROM ({_COUNTS_SQL}) ORDER BY model_id, problem_id", {"ids": ids}).fetchall()


def problem_stats(con: duckdb.DuckDBPyConnection, base_id: int, rl_id: int) -> pa.Table:
    """One row per problem: both models' n/c, accuracy, strategies, review
    progress and a one-line prompt preview.  Computed once per view; filters
    and sorts then run over this small table (:func:`problem_table`)."""
    return con.sql(
        f"""
        WITH per_model AS ({_COUNTS_SQL}),
        counts AS (
            SELECT problem_id,
                   sum(n) FILTER (WHERE model_id = $b) AS bn, sum(c) FILTER (WHERE model_id = $b) AS bc,
                   sum(n) FILTER (WHERE model_id = $r) AS rn, sum(c) FILTER (WHERE model_id = $r) AS rc
            FROM per_model GROUP BY problem_id
        ),
        strategies AS (SELECT problem_id, count(*) AS strategies FROM clusters GROUP BY problem_id),
        reviewed AS ({review_progress_sql()})
        SELECT p.problem_id, p.source,
               coalesce(bn, 0)::BIGINT AS bn, coalesce(bc, 0)::BIGINT AS bc,
               coalesce(rn, 0)::BIGINT AS rn, coalesce(rc, 0)::BIGINT AS rc,
               CASE WHEN bn > 0 THEN bc / bn END AS base_acc,
               CASE WHEN rn > 0 THEN rc / rn END AS rl_acc,
               coalesce(st.strategies, 0)::BIGINT AS strategies,
               coalesce(rv.reviewed, 0)::BIGINT AS reviewed,
               left(regexp_replace(p.prompt, '\\s+', ' ', 'g'), 70) AS preview
        FROM problems p
        LEFT JOIN counts c USING (problem_id)
        LEFT JOIN strategies st USING (problem_id)
        LEFT JOIN reviewed rv USING (problem_id)
        ORDER BY p.problem_id
        """,
        params={"b": base_id, "r": rl_id, "ids": [base_id, rl_id]},
    ).to_arrow_table()


def search_hits(con: duckdb.DuckDBPyConnection, model_ids: list[int], term: str) -> pa.Table:
    """Problems whose prompt or any CoT of ``model_ids`` contains ``term``:
    (problem_id, hits, snippet around the first hit).

    Smart case: a term with a capital letter matches case-sensitively (a plain
    substring scan, several times faster); an all-lowercase term ignores case.
    The term is literal (no wildcards).  This scans every CoT, so it runs in a
    worker; the snippet is cut from one matching text per problem."""
    sensitive = term != term.lower()
    match = "contains({col}, $q)" if sensitive else "{col} ILIKE $p ESCAPE '\\'"
    pos = "strpos({col}, $q)" if sensitive else "strpos(lower({col}), lower($q))"
    sql = f"""
        WITH cot AS (
            SELECT problem_id, count(*) AS hits, arg_min(text, (model_id, sample_idx)) AS text
            FROM samples WHERE list_contains($ids, model_id) AND {match.format(col="text")}
            GROUP BY problem_id
        ),
        prompt AS (
            SELECT problem_id, prompt AS text FROM problems WHERE {match.format(col="prompt")}
        ),
        both_ AS (
            SELECT problem_id, coalesce(c.hits, 0) + (p.problem_id IS NOT NULL)::INT AS hits,
                   coalesce(p.text, c.text) AS text
            FROM cot c FULL OUTER JOIN prompt p USING (problem_id)
        )
        SELECT problem_id, hits::BIGINT AS hits,
               substr(text, greatest(1, {pos.format(col="text")} - 20), {_SNIPPET}) AS snippet
        FROM both_
    """
    params = {"ids": [int(m) for m in model_ids], "q": term}
    if not sensitive:
        params["p"] = f"%{_escape_like(term)}%"
    return con.sql(sql, params=params).to_arrow_table()


def problem_table(
    con: duckdb.DuckDBPyConnection,
    stats: pa.Table,
    filter: str = "all",
    sort: str = "problem_id",
    descending: bool = False,
    hits: pa.Table | None = None,
) -> pa.Table:
    """The rows of the problems table: ``stats`` (from :func:`problem_stats`)
    filtered and sorted, restricted to ``hits`` (from :func:`search_hits`) when
    searching.  Runs over the in-memory tables: milliseconds at 10,000 problems."""
    if filter not in FILTERS:
        raise ValueError(f"unknown filter {filter!r}")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    import pyarrow as pa

    if hits is None:
        hits = pa.table({"problem_id": pa.array([], pa.string()), "hits": pa.array([], pa.int64()), "snippet": pa.array([], pa.string())})
        join = "LEFT JOIN"
    else:
        join = "JOIN"
    con.register("_tui_stats", stats)
    con.register("_tui_hits", hits)
    try:
        return con.sql(
            f"""
            SELECT * FROM (
                SELECT s.*, coalesce(h.hits, 0) AS hits, h.snippet
                FROM _tui_stats s {join} _tui_hits h USING (problem_id)
            ) WHERE {FILTERS[filter][1]}
            ORDER BY {SORTS[sort][1]} {"DESC" if descending else "ASC"} NULLS LAST, problem_id
            """
        ).to_arrow_table()
    finally:
        con.unregister("_tui_stats")
        con.unregister("_tui_hits")


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


def sample_lists(con: duckdb.DuckDBPyConnection, model_ids: list[int], problem_id: str, scorer_id: int | None) -> dict[int, list[dict]]:
    """Each model's samples of a problem, without texts: index, effective
    verdict, extracted answer, tokens, finish reason, perplexity (under
    ``scorer_id`` when scored, else any scorer).

    Three point queries and a merge in Python: the rows of one problem are few
    (hundreds), and ranking them here avoids window functions in DuckDB, which
    cost more than the reads themselves."""
    ids = [int(m) for m in model_ids]
    samples = con.execute(
        "SELECT model_id, sample_idx, n_tokens, finish_reason FROM samples "
        "WHERE problem_id = ? AND list_contains(?, model_id) ORDER BY model_id, sample_idx",
        [problem_id, ids],
    ).fetchall()
    verdicts = con.execute(
        "SELECT model_id, sample_idx, verifier, created_at, correct, extracted FROM verdicts "
        "WHERE problem_id = ? AND list_contains(?, model_id)",
        [problem_id, ids],
    ).fetchall()
    scores = con.execute(
        "SELECT model_id, sample_idx, scorer_model_id, ppl FROM scores WHERE problem_id = ? AND list_contains(?, model_id)",
        [problem_id, ids],
    ).fetchall()
    # The effective verdict: any real verifier over 'imported', then the newest, then by name (as the view).
    best: dict[tuple[int, int], tuple] = {}
    for m, i, verifier, created, correct, extracted in verdicts:
        key = (verifier == "imported", -(created.timestamp() if created else 0.0), verifier)
        cur = best.get((m, i))
        if cur is None or key < cur[0]:
            best[(m, i)] = (key, correct, extracted)
    ppl: dict[tuple[int, int], tuple] = {}
    for m, i, scorer, value in scores:
        key = (scorer != scorer_id, scorer)
        cur = ppl.get((m, i))
        if cur is None or key < cur[0]:
            ppl[(m, i)] = (key, value)
    out: dict[int, list[dict]] = {m: [] for m in ids}
    for m, i, n_tokens, finish in samples:
        v = best.get((m, i))
        out[m].append({
            "sample_idx": i, "correct": v[1] if v else None, "extracted": v[2] if v else None,
            "n_tokens": n_tokens, "finish_reason": finish, "ppl": ppl[(m, i)][1] if (m, i) in ppl else None,
        })
    return out


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
