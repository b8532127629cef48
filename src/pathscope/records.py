"""Reading tabular input files (JSONL, CSV, Parquet) and mapping their fields.

Problem sets and generation files come in many layouts.  This module owns the
parts they share: telling the file formats apart, reading JSONL line by line
with exact ``FILE:LINE`` errors, choosing which column plays which role
(``prompt``, ``answer``, ``id`` …) from a list of common names unless the user
says ``--map role=COLUMN``, and describing the choice so it can be reported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from .errors import InputError

JSONL, CSV, PARQUET = "jsonl", "csv", "parquet"

_EXT = {
    ".jsonl": JSONL, ".ndjson": JSONL, ".json": JSONL,
    ".csv": CSV, ".tsv": CSV,
    ".parquet": PARQUET, ".pq": PARQUET,
}


def file_format(path: str | os.PathLike) -> str:
    """``jsonl`` | ``csv`` | ``parquet``, from the extension or the first bytes."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a data file.")
    ext = _EXT.get(path.suffix.lower())
    if ext:
        return ext
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return PARQUET
    if head.lstrip()[:1] in (b"{", b"["):
        return JSONL
    return CSV


def parse_map(options: Sequence[str] | None) -> dict[str, str]:
    """``["prompt=question", "answer=gt"]`` -> ``{"prompt": "question", ...}``."""
    mapping: dict[str, str] = {}
    for opt in options or ():
        role, sep, col = opt.partition("=")
        role, col = role.strip(), col.strip()
        if not sep or not role or not col:
            raise InputError(f"--map {opt!r}: expected ROLE=COLUMN, e.g. --map prompt=question.")
        mapping[role] = col
    return mapping


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def describe_type(value: Any) -> str:
    """A JSON value's type in words, for error messages."""
    return _describe(value)


def json_error_reason(raw: bytes) -> str:
    """Why one JSONL line cannot be read: invalid UTF-8, bad JSON, or not an object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = getattr(exc, "msg", str(exc))
        pos = getattr(exc, "pos", None)
        where = f" at column {pos + 1}" if pos is not None else ""
        if msg.startswith("Unterminated string") or (pos is not None and pos >= len(text.rstrip()) - 1):
            return f"the line ends before its JSON value does (truncated?): {msg}"
        return f"not valid JSON{where}: {msg}"
    if not isinstance(value, dict):
        return f"expected a JSON object, found {_describe(value)}"
    return ""


def surrogate_error(record: Any) -> str:
    """Why a parsed record cannot be stored as text: JSON may escape a lone
    UTF-16 surrogate (``"\\ud800"``), which is not Unicode.  "" if fine."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a string holds an unpaired surrogate escape (\\u{ord(exc.object[exc.start]):04x}), which is not valid Unicode"
    return ""


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` for each non-blank line; a bad line
    raises :class:`InputError` naming ``FILE:LINE``.  A file that is one JSON
    array (``[{...}, ...]``) is read whole, numbering records from 1."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip()
    if head.startswith(b"["):
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a valid JSON array ({exc}).") from None
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a JSON array of objects.")
        for i, rec in enumerate(data, 1):
            if not isinstance(rec, dict):
                raise InputError(f"{path}: record {i} is {_describe(rec)}, not a JSON object.")
            bad = surrogate_error(rec)
            if bad:
                raise InputError(f"{path}: record {i}: {bad}.")
            yield i, rec
        return
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                reason = json_error_reason(raw.rstrip(b"\r\n"))
                raise InputError(f"{path}:{lineno}: {reason}.") from None
            if not isinstance(rec, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, found {_describe(rec)}.")
            bad = surrogate_error(rec)
            if bad:
                raise InputError(f"{path}:{lineno}: {bad}.")
            yield lineno, rec


def read_rows(path: str | os.PathLike, fmt: str | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """All records of a (small) file as ``(column names, [(line/row, dict)])``.

    JSONL is read in Python for exact line numbers; CSV and Parquet through
    DuckDB's readers (CSV rows are numbered as file lines, header = line 1).
    Meant for problem sets (thousands of rows), not for bulk sample imports.
    """
    path = Path(path)
    fmt = fmt or file_format(path)
    if fmt == JSONL:
        rows = list(iter_jsonl(path))
        columns: dict[str, None] = {}
        for _, rec in rows:
            for key in rec:
                columns.setdefault(key, None)
        return list(columns), rows
    from .store.importing import read_table

    table = read_table(path, fmt)
    first = 2 if fmt == CSV else 1
    return table.column_names, [(i + first, rec) for i, rec in enumerate(table.to_pylist())]


@dataclass
class FieldChoice:
    """Which column plays a role, and why (for the report)."""

    role: str
    column: str | None
    how: str  # "mapped" | "recognised" | "missing" | a derivation note
    alternatives: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.column is None:
            return f"{self.role}: {self.how}"
        note = f"{self.role} <- {self.column!r} ({self.how})"
        if self.alternatives:
            note += f"; also present: {', '.join(repr(a) for a in self.alternatives)}"
        return note


def choose_field(
    role: str,
    columns: Sequence[str],
    candidates: Sequence[str],
    mapping: dict[str, str],
    file: str | os.PathLike,
) -> FieldChoice:
    """Pick the column for ``role``: ``mapping[role]`` if given (it must exist),
    else the first of ``candidates`` present (case-insensitive)."""
    if role in mapping:
        col = mapping[role]
        if col not in columns:
            raise InputError(
                f"{file}: --map {role}={col}: the file has no field {col!r} "
                f"(fields: {', '.join(columns) or 'none'})."
            )
        return FieldChoice(role, col, "mapped")
    lower = {c.lower(): c for c in columns}
    found = [lower[c] for c in candidates if c in lower]
    if not found:
        return FieldChoice(role, None, "missing")
    return FieldChoice(role, found[0], "recognised", alternatives=found[1:])


def check_mapping_roles(mapping: dict[str, str], roles: Sequence[str], what: str) -> None:
    """Refuse ``--map`` roles this reader does not know (a typo would be silently ignored)."""
    unknown = sorted(set(mapping) - set(roles))
    if unknown:
        raise InputError(
            f"--map {unknown[0]}=…: {what} have no role {unknown[0]!r} (roles: {', '.join(roles)})."
        )
