"""SQL for reading input files and importing generations into a run.

The importers (``pathscope.importers``) decide *what* a file means; this
module does the bulk work in DuckDB: its readers parse JSONL/CSV/Parquet in
parallel straight into a temporary table (no Python loop over records), and a
few set-based statements resolve problems, insert samples and verdicts.

The staged data has one shape whatever the input format, the view
``_ps_import``::

    rec BIGINT          record number in the file (1-based, for error messages)
    pos BIGINT          position within the record (grouped files), else 0
    gk VARCHAR          grouping key of the problem (file id, else prompt hash)
    pkey VARCHAR        the problem id as written in the file (may be NULL)
    prompt, answer, solution VARCHAR
    sample_idx BIGINT   as written in the file, or NULL (numbered in file order)
    text, extracted VARCHAR
    correct BOOLEAN
    n_tokens BIGINT, finish_reason VARCHAR, cum_logprob DOUBLE, seed BIGINT
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..errors import InputError

# Large enough for a single 10 MB+ response on one line; DuckDB's default is 16 MB.
MAX_OBJECT_SIZE = 256 * 1024 * 1024

TRUTHY = ("true", "t", "1", "1.0", "yes", "y", "correct", "pass", "passed")
FALSY = ("false", "f", "0", "0.0", "no", "n", "incorrect", "wrong", "fail", "failed")


def sql_str(value: str | os.PathLike) -> str:
    """A SQL string literal (file paths cannot be bound as parameters of table functions)."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier for a column name taken from a user's file."""
    return '"' + name.replace('"', '""') + '"'


def first_line(exc: BaseException) -> str:
    msg = str(exc).strip()
    return msg.splitlines()[0] if msg else type(exc).__name__


def _reader_sql(path: Path, fmt: str) -> str:
    p = sql_str(path)
    if fmt == "csv":
        delim = ", delim='\\t'" if path.suffix.lower() == ".tsv" else ""
        return f"read_csv({p}, header=true, all_varchar=true{delim})"
    if fmt == "parquet":
        return f"read_parquet({p})"
    return f"read_json({p}, format='auto', maximum_object_size={MAX_OBJECT_SIZE})"


def read_table(path: str | os.PathLike, fmt: str, limit: int | None = None):
    """Read a whole (small) CSV/Parquet/JSON file into an Arrow table."""
    path = Path(path)
    con = duckdb.connect()
    try:
        lim = f" LIMIT {int(limit)}" if limit else ""
        return con.sql(f"SELECT * FROM {_reader_sql(path, fmt)}{lim}").to_arrow_table()
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read as {fmt.upper()} ({first_line(exc)}).") from None
    finally:
        con.close()


def describe_file(path: str | os.PathLike, fmt: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a CSV/Parquet file, without reading it all."""
    path = Path(path)
    con = duckdb.connect()
    try:
        return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {_reader_sql(path, fmt)}").fetchall()]
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read as {fmt.upper()} ({first_line(exc)}).") from None
    finally:
        con.close()


# -- staging ---------------------------------------------------------------------------


def stage_jsonl(con, path: Path, columns: dict[str, str]) -> None:
    """Parse a JSONL file with DuckDB into temp table ``_ps_raw`` (+ ``rec``).

    ``columns`` maps field -> DuckDB type; only these fields are read.  Raises
    duckdb.Error when a line cannot be parsed or converted; the caller then
    finds the exact line in Python.  Insertion order is preserved, so rowid + 1
    is the record number.
    """
    cols = "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"
    con.execute("DROP TABLE IF EXISTS _ps_raw")
    con.execute(
        f"""CREATE TEMP TABLE _ps_raw AS SELECT * FROM read_json({sql_str(path)},
            format='newline_delimited', columns={cols}, maximum_object_size={MAX_OBJECT_SIZE})"""
    )


def stage_table_file(con, path: Path, fmt: str, columns: list[str]) -> None:
    """Read the given columns of a CSV/Parquet file into temp table ``_ps_raw``."""
    select = ", ".join(ident(c) for c in columns) or "*"
    con.execute("DROP TABLE IF EXISTS _ps_raw")
    con.execute(f"CREATE TEMP TABLE _ps_raw AS SELECT {select} FROM {_reader_sql(path, fmt)}")


def stage_arrow(con, table) -> None:
    """Stage an Arrow table that already has the ``_ps_import`` columns."""
    con.register("_ps_arrow", table)
    try:
        con.execute("DROP TABLE IF EXISTS _ps_raw")
        con.execute("CREATE TEMP TABLE _ps_raw AS SELECT * FROM _ps_arrow")
    finally:
        con.unregister("_ps_arrow")


def create_import_view(con, select_sql: str) -> None:
    """``select_sql`` reads ``_ps_raw`` (with ``rec``) and yields the staged shape."""
    con.execute("DROP VIEW IF EXISTS _ps_import")
    con.execute(f"CREATE TEMP VIEW _ps_import AS {select_sql}")


def raw_columns(con) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute("DESCRIBE _ps_raw").fetchall()]


def bad_records(con, checks: list[tuple[str, str]], limit: int = 5) -> tuple[int, list[tuple[int, str]]]:
    """Records of ``_ps_raw`` failing any check: (count, first few (rec, reason)).

    ``checks`` are (condition, reason expression) over ``_ps_raw`` with ``rec``.
    """
    if not checks:
        return 0, []
    case = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in checks)
    con.execute("DROP TABLE IF EXISTS _ps_bad")
    con.execute(
        f"""CREATE TEMP TABLE _ps_bad AS
        SELECT rec, reason FROM (SELECT rowid + 1 AS rec, CASE {case} END AS reason FROM _ps_raw)
        WHERE reason IS NOT NULL"""
    )
    n = con.execute("SELECT count(*) FROM _ps_bad").fetchall()[0][0]
    first = con.execute(f"SELECT rec, reason FROM _ps_bad ORDER BY rec LIMIT {int(limit)}").fetchall()
    return int(n), [(int(r), str(m)) for r, m in first]


def drop_bad_records(con) -> None:
    """Delete the records found by :func:`bad_records` from ``_ps_raw``.

    rowids stay stable after a DELETE, so record numbers keep meaning lines."""
    con.execute("DELETE FROM _ps_raw WHERE rowid + 1 IN (SELECT rec FROM _ps_bad)")


def count_staged(con) -> tuple[int, int]:
    """(records, samples) staged."""
    recs = con.execute("SELECT count(*) FROM _ps_raw").fetchall()[0][0]
    samples = con.execute("SELECT count(*) FROM _ps_import").fetchall()[0][0]
    return int(recs), int(samples)


# -- problems ---------------------------------------------------------------------------


def resolve_problems(con, source: str) -> None:
    """Map every problem group of ``_ps_import`` to a run problem id.

    In order: the file's id is a run problem id; ``source/id`` is one; the
    prompt (trimmed) matches exactly one stored problem; else a new id
    ``source/id`` (``source/h<hash of prompt>`` when the file has no id).
    Result: temp table ``_ps_problem_map(gk, problem_id, is_new, rec, prompt,
    answer, solution)``.
    """
    src = sql_str(source)
    con.execute("DROP TABLE IF EXISTS _ps_problem_map")
    con.execute(
        f"""CREATE TEMP TABLE _ps_problem_map AS
        WITH g AS (
            SELECT gk, any_value(pkey) AS pkey, min(rec) AS rec,
                   arg_min(prompt, rec) AS prompt, arg_min(answer, rec) AS answer,
                   arg_min(solution, rec) AS solution
            FROM _ps_import GROUP BY gk
        ),
        unique_prompts AS (
            SELECT trim(prompt) AS tp, min(problem_id) AS problem_id
            FROM problems GROUP BY trim(prompt) HAVING count(*) = 1
        )
        SELECT g.gk, g.pkey, g.rec, g.prompt, g.answer, g.solution,
               coalesce(p1.problem_id, p2.problem_id, up.problem_id) IS NULL AS is_new,
               CASE WHEN p1.problem_id IS NOT NULL THEN 'id' WHEN p2.problem_id IS NOT NULL THEN 'source/id'
                    WHEN up.problem_id IS NOT NULL THEN 'prompt' ELSE 'new' END AS matched_by,
               coalesce(p1.problem_id, p2.problem_id, up.problem_id,
                        {src} || '/' || coalesce(g.pkey, 'h' || left(md5(g.prompt), 12))) AS problem_id
        FROM g
        LEFT JOIN problems p1 ON p1.problem_id = g.pkey
        LEFT JOIN problems p2 ON p2.problem_id = {src} || '/' || g.pkey
        LEFT JOIN unique_prompts up ON g.prompt IS NOT NULL AND up.tp = trim(g.prompt)"""
    )


def unresolvable_problems(con, limit: int = 5) -> tuple[int, list[tuple[int, str]]]:
    """New problems without a prompt to create them from: (count, [(rec, file id)])."""
    n = con.execute("SELECT count(*) FROM _ps_problem_map WHERE is_new AND prompt IS NULL").fetchall()[0][0]
    rows = con.execute(
        f"""SELECT rec, pkey FROM _ps_problem_map
        WHERE is_new AND prompt IS NULL ORDER BY rec LIMIT {int(limit)}"""
    ).fetchall()
    return int(n), [(int(r), str(k)) for r, k in rows]


def drop_unresolvable(con) -> None:
    con.execute(
        """DELETE FROM _ps_raw WHERE rowid IN (
            SELECT i._rid FROM _ps_import i JOIN _ps_problem_map m USING (gk)
            WHERE m.is_new AND m.prompt IS NULL)"""
    )
    con.execute("DELETE FROM _ps_problem_map WHERE is_new AND prompt IS NULL")


def new_problems(con) -> list[tuple[str, str, str | None, str | None]]:
    """(problem_id, prompt, answer, solution) of the problems to create."""
    return con.execute(
        "SELECT problem_id, prompt, answer, solution FROM _ps_problem_map WHERE is_new ORDER BY rec"
    ).fetchall()


def count_matched(con) -> dict[str, int]:
    """How the problems the file references were found: {'id': n, 'source/id': n, 'prompt': n, 'new': n}."""
    return {k: int(v) for k, v in con.execute("SELECT matched_by, count(*) FROM _ps_problem_map GROUP BY ALL").fetchall()}


# -- samples and verdicts --------------------------------------------------------------------


def stage_samples(con, any_given_idx: bool) -> None:
    """The samples joined to their run problem ids, as temp view ``_ps_samples``
    (a view, not a copy: the texts are read once, by the INSERT).

    sample_idx: as given in the file; where missing, numbered in file order
    per problem (a window over all rows, so skipped when every row has one)."""
    con.execute("DROP VIEW IF EXISTS _ps_samples")
    if any_given_idx and not con.execute("SELECT count(*) FROM _ps_import WHERE sample_idx IS NULL").fetchall()[0][0]:
        idx = "i.sample_idx"
    elif any_given_idx:
        idx = "coalesce(i.sample_idx, row_number() OVER (PARTITION BY m.problem_id ORDER BY i.rec, i.pos) - 1)"
    else:
        idx = "row_number() OVER (PARTITION BY m.problem_id ORDER BY i.rec, i.pos) - 1"
    con.execute(
        f"""CREATE TEMP VIEW _ps_samples AS
        SELECT m.problem_id, i.rec, i.pos, i.text, i.extracted, i.correct,
               i.n_tokens, i.finish_reason, i.cum_logprob, i.seed, {idx} AS sample_idx
        FROM _ps_import i JOIN _ps_problem_map m USING (gk)"""
    )


def model_has_samples(con, model_id: int) -> bool:
    """Any sample or verdict of this model stored yet?  (If not, plain INSERTs are safe.)"""
    return bool(
        con.execute(
            """SELECT (SELECT count(*) FROM (SELECT 1 FROM samples WHERE model_id = $1 LIMIT 1))
                    + (SELECT count(*) FROM (SELECT 1 FROM verdicts WHERE model_id = $1 LIMIT 1))""",
            [model_id],
        ).fetchall()[0][0]
    )


def has_duplicate_keys(con) -> bool:
    n, d = con.execute("SELECT count(*), count(DISTINCT (problem_id, sample_idx)) FROM _ps_samples").fetchall()[0]
    return n != d


_SAMPLE_COLS = "model_id, problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed"


def insert_samples(con, model_id: int, fresh: bool) -> int:
    """Insert staged samples; keys already stored are kept as they are.

    ``fresh`` (the model has no samples yet and the file no duplicate keys)
    allows a plain INSERT, which is much faster than INSERT OR IGNORE."""
    before = con.execute("SELECT count(*) FROM samples").fetchall()[0][0]
    verb = "INSERT" if fresh else "INSERT OR IGNORE"
    con.execute(
        f"""{verb} INTO samples ({_SAMPLE_COLS})
        SELECT {int(model_id)}, problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed
        FROM _ps_samples"""
    )
    return int(con.execute("SELECT count(*) FROM samples").fetchall()[0][0] - before)


def insert_imported_verdicts(con, model_id: int, detail: str, fresh: bool = False) -> int:
    """Verdicts found in the file, as verifier 'imported'; existing ones kept."""
    before = con.execute("SELECT count(*) FROM verdicts").fetchall()[0][0]
    verb = "INSERT" if fresh else "INSERT OR IGNORE"
    con.execute(
        f"""{verb} INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail)
        SELECT {int(model_id)}, problem_id, sample_idx, 'imported', extracted, correct, 'ok', ?
        FROM _ps_samples WHERE correct IS NOT NULL""",
        [detail],
    )
    return int(con.execute("SELECT count(*) FROM verdicts").fetchall()[0][0] - before)


def cleanup(con) -> None:
    for stmt in (
        "DROP VIEW IF EXISTS _ps_samples",
        "DROP VIEW IF EXISTS _ps_import",
        "DROP TABLE IF EXISTS _ps_problem_map",
        "DROP TABLE IF EXISTS _ps_bad",
        "DROP TABLE IF EXISTS _ps_raw",
    ):
        try:
            con.execute(stmt)
        except duckdb.Error:
            pass


# -- problems files ---------------------------------------------------------------------------


def conflicting_prompts(con, table) -> int:
    """How many incoming problems share an id with a stored one but differ in prompt."""
    con.register("_ps_incoming", table)
    try:
        return int(
            con.execute(
                """SELECT count(*) FROM _ps_incoming i JOIN problems p USING (problem_id)
                WHERE trim(p.prompt) <> trim(i.prompt)"""
            ).fetchall()[0][0]
        )
    finally:
        con.unregister("_ps_incoming")
