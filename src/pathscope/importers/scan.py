"""The slow, exact path: find bad lines of a file DuckDB's reader refused.

Imports first let DuckDB parse the whole file in bulk.  Only when that fails
(or to locate a record by number) do we walk the file line by line in Python,
to name the first bad line and why, or, with ``--skip-bad``, to write the good
lines to a temporary file that DuckDB then reads.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import describe_type, json_error_reason, surrogate_error
from .fields import matches_type, type_words


@dataclass
class ScanResult:
    """Good lines (as a temp file when some were dropped) and the bad ones."""

    path: Path
    good_lines: list[int] | None = None  # line number of each kept record, if filtered
    bad: int = 0
    first_bad: list[tuple[int, str]] = field(default_factory=list)


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_json_line(raw: bytes, columns: dict[str, str], required: tuple[str, ...]) -> str:
    try:
        rec = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as exc:
        if "is not valid JSON" in str(exc):
            return f"{exc} (DuckDB's reader refuses NaN and Infinity)"
        return json_error_reason(raw.rstrip(b"\r\n"))
    if not isinstance(rec, dict):
        return f"expected a JSON object, found {describe_type(rec)}"
    bad = surrogate_error(rec)
    if bad:
        return bad
    for name in required:
        if rec.get(name) is None:
            return f"field {name!r} is missing"
    for name, duck_type in columns.items():
        value = rec.get(name)
        if not matches_type(value, duck_type):
            return f"field {name!r} should be {type_words(duck_type)} (as in the lines before), found {describe_type(value)}"
    return ""


def scan_jsonl(
    path: Path,
    columns: dict[str, str],
    required: tuple[str, ...],
    skip_bad: bool,
    tmpdir: str,
    keep: int = 5,
    name: Path | None = None,
) -> ScanResult:
    """Check every line against ``columns`` (field -> DuckDB type).

    Without ``skip_bad`` the first bad line raises ``InputError('FILE:LINE: …')``.
    With it, good lines go to a temp file in ``tmpdir`` (returned as ``path``)."""
    result = ScanResult(path)
    out = None
    good: list[int] = []
    try:
        if skip_bad:
            result.path = Path(tmpdir) / "good.jsonl"
            out = open(result.path, "wb")
        with open(path, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                reason = _check_json_line(raw, columns, required)
                if reason:
                    if not skip_bad:
                        raise InputError(f"{name or path}:{lineno}: {reason}.")
                    result.bad += 1
                    if len(result.first_bad) < keep:
                        result.first_bad.append((lineno, reason))
                    continue
                if out is not None:
                    good.append(lineno)
                    out.write(raw if raw.endswith(b"\n") else raw + b"\n")
    finally:
        if out is not None:
            out.close()
    result.good_lines = good if skip_bad else None
    return result


def record_lines(path: Path, recs: list[int]) -> dict[int, int]:
    """Line numbers of records (1-based, counting non-blank lines as DuckDB does)."""
    wanted = set(recs)
    found: dict[int, int] = {}
    if not wanted:
        return found
    last = max(wanted)
    rec = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            rec += 1
            if rec in wanted:
                found[rec] = lineno
            if rec >= last:
                break
    return found


def scan_csv(path: Path, required: tuple[str, ...], skip_bad: bool, tmpdir: str, keep: int = 5) -> ScanResult:
    """Find CSV rows DuckDB refused: invalid UTF-8, or a wrong number of fields.

    Quoted fields may span lines (CoTs do), so rows are read with the csv
    module and named by the line they start on."""
    result = ScanResult(path)
    delim = "\t" if path.suffix.lower() == ".tsv" else ","
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header: list[str] | None = None
    good_rows: list[list[str]] = []
    good: list[int] = []
    start = 1
    while True:
        reason = ""
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason, row = f"not valid CSV ({exc})", []
        lineno, start = start, reader.line_num + 1
        if not reason and not any(cell.strip() for cell in row):
            continue
        if not reason:
            bad_cell = next((c for c in row if any("\udc80" <= ch <= "\udcff" for ch in c)), None)
            if bad_cell is not None:
                reason = "invalid UTF-8"
        if header is None and not reason:
            header = row
            missing = [r for r in required if r not in header]
            if missing:
                raise InputError(f"{path}: no field {missing[0]!r} in the header line.")
            continue
        if not reason and header is not None and len(row) != len(header):
            reason = f"{len(row)} fields where the header has {len(header)}"
        if reason:
            if header is None or not skip_bad:
                raise InputError(f"{path}:{lineno}: {reason}.")
            result.bad += 1
            if len(result.first_bad) < keep:
                result.first_bad.append((lineno, reason))
            if reader.line_num + 1 < start:  # a csv.Error may leave the reader mid-row
                start = reader.line_num + 1
            continue
        good.append(lineno)
        good_rows.append(row)
    if skip_bad:
        result.path = Path(tmpdir) / ("good" + (path.suffix or ".csv"))
        with open(result.path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, delimiter=delim)
            writer.writerow(header or [])
            writer.writerows(good_rows)
        result.good_lines = good
    return result


def remove_quietly(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
