"""Import existing generations (JSONL, CSV, Parquet) into a run.

Formats (``--format``; ``auto`` recognises them from the first records):

``samples``    one sample per line: problem id and/or prompt, text, optional
               sample_idx, extracted answer and verdict;
``grouped``    one problem per line with a list of responses and optional
               parallel lists of extracted answers and verdicts;
``qwen-eval``  grouped, as written by the Qwen2.5-Math evaluation harness
               (idx, question, gt, code[], pred[], score[]);
``lm-eval``    lm-evaluation-harness ``--log_samples`` output.

DuckDB's reader parses the file in bulk; only when it refuses the file does a
Python scan find the bad line (``FILE:LINE: what is wrong``) or, with
``skip_bad``, drop it.  One file is one transaction: on any error nothing of
it stays.  Samples whose key is already stored are kept as stored, so
importing a file twice adds nothing the second time.  Verdicts found in the
file are stored as verifier ``imported``.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import JSONL, PARQUET, FieldChoice, check_mapping_roles, file_format
from . import lm_eval
from .plan import Plan, build_plan, detect_format, peek

FORMATS = ("auto", "samples", "grouped", "lm-eval", "qwen-eval")


@dataclass
class ImportReport:
    """What an import recognised and stored (the CLI prints :meth:`lines`)."""

    path: str
    format: str
    model: str
    model_id: int | None = None
    source: str = ""
    fields: list[FieldChoice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    records: int = 0
    samples_in_file: int = 0
    samples_added: int = 0
    problems_matched: int = 0
    problems_created: int = 0
    verdicts_added: int = 0
    skipped: int = 0
    first_skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def samples_existing(self) -> int:
        return self.samples_in_file - self.samples_added

    def lines(self) -> list[str]:
        out = [f"{self.path}: format {self.format}, {self.records:,} records -> {self.samples_in_file:,} samples"]
        out += ["  " + f.describe() for f in self.fields]
        out += ["  " + n for n in self.notes]
        out.append(
            f"  model {self.model!r}: {self.samples_added:,} samples added"
            + (f", {self.samples_existing:,} already stored (kept)" if self.samples_existing else "")
            + f"; {self.verdicts_added:,} imported verdicts"
        )
        out.append(f"  problems: {self.problems_matched:,} already in the run, {self.problems_created:,} created (source {self.source!r})")
        if self.skipped:
            out.append(f"  skipped {self.skipped:,} bad records; first: " + "; ".join(self.first_skipped))
        out.append(f"  {self.seconds:.1f} s")
        return out


def default_import_source(path: Path) -> str:
    """Source name for problems an import creates: lm-eval's task name, else the file name."""
    from ..problems import default_source

    name = path.name
    if name.startswith("samples_") and name.endswith(".jsonl"):
        task = name[len("samples_"):-len(".jsonl")]
        return task.rsplit("_", 1)[0] if "_" in task else task
    return default_source(path)


def import_file(
    run,
    path: str | os.PathLike,
    model: str,
    role: str | None = None,
    fmt: str = "auto",
    mapping: dict[str, str] | None = None,
    skip_bad: bool = False,
    source: str | None = None,
) -> ImportReport:
    """Import one file of generations of ``model`` into ``run`` (atomically).

    ``mapping`` names fields for roles (id, prompt, answer, solution, text,
    sample_idx, extracted, correct, n_tokens, finish_reason, cum_logprob,
    seed).  Raises InputError naming file/line/field for bad input; with
    ``skip_bad`` bad records are skipped and counted in the report instead.
    """
    started = time.perf_counter()
    path = Path(path)
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}.")
    if not model or not model.strip():
        raise InputError("--model: give the name of the model that wrote these generations.")
    mapping = dict(mapping or {})
    file_fmt = file_format(path)
    source = source or default_import_source(path)
    run._require_write()
    con = run.con
    con.execute("SET enable_progress_bar = false")  # DuckDB would draw on stdout
    tmpdir = tempfile.mkdtemp(prefix="pathscope-import-")
    import duckdb

    from ..store import importing as sql

    try:
        columns, sample = peek(path, file_fmt)
        if fmt == "auto":
            fmt = detect_format(path, file_fmt, sample)
        report = ImportReport(str(path), fmt, model, source=source)
        locate = _Locator(path, file_fmt)
        if fmt == "lm-eval":
            if file_fmt != JSONL:
                raise InputError(f"{path}: lm-eval sample logs are JSONL files.")
            check_mapping_roles(mapping, lm_eval.ROLES, "lm-eval files")
            table, info = lm_eval.parse(path, mapping, skip_bad)
            report.fields, report.notes = info["fields"], info["notes"]
            report.skipped = info["bad"]
            report.first_skipped = [f"{path}:{ln}: {why}" for ln, why in info["first_bad"]]
            locate.direct = True
            sql.stage_arrow(con, table)
            sql.create_import_view(con, _LM_EVAL_VIEW)
            plan = None
        else:
            plan = build_plan(path, file_fmt, fmt, columns, sample, mapping)
            report.fields, report.notes = plan.fields, list(plan.notes)
            _stage(con, path, file_fmt, plan, skip_bad, tmpdir, report, locate)
            sql.create_import_view(con, plan.view_sql)
            n_bad, first = sql.bad_records(con, plan.checks)
            if n_bad:
                places = locate(r for r, _ in first)
                if not skip_bad:
                    rec, reason = first[0]
                    raise InputError(f"{places[rec]}: {reason}.")
                sql.drop_bad_records(con)
                report.skipped += n_bad
                report.first_skipped = _first(report.first_skipped + [f"{places[r]}: {why}" for r, why in first])
        report.records, report.samples_in_file = sql.count_staged(con)
        if report.records == 0:
            raise InputError(f"{path}: no records to import" + (" (every record was bad)" if report.skipped else "") + ".")
        _store(run, con, report, role, plan, mapping, skip_bad, locate)
    except duckdb.Error as exc:
        # A safety net: whatever DuckDB refuses is still one sentence about the file.
        raise InputError(f"{path}: could not be imported ({sql.first_line(exc)}).") from None
    finally:
        sql.cleanup(con)
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _first(items: list[str], keep: int = 5) -> list[str]:
    """The first few skipped records, in file order ("FILE:LINE: why" sorts by LINE)."""
    def line(item: str) -> int:
        m = re.search(r":(\d+): |: row (\d+): ", item)
        return int(m.group(1) or m.group(2)) if m else 0

    return sorted(items, key=line)[:keep]


_LM_EVAL_VIEW = """
    SELECT rec, rowid AS _rid, pos, coalesce(pkey, '#' || md5(prompt)) AS gk, pkey, prompt, answer, solution,
           NULL::BIGINT AS sample_idx, text, extracted, correct,
           NULL::BIGINT AS n_tokens, NULL::VARCHAR AS finish_reason, NULL::DOUBLE AS cum_logprob, NULL::BIGINT AS seed
    FROM _ps_raw
"""


class _Locator:
    """Turns record numbers into ``FILE:LINE`` (or ``FILE: row N``)."""

    def __init__(self, path: Path, file_fmt: str):
        self.path = path
        self.file_fmt = file_fmt
        self.good_lines: list[int] | None = None
        self.direct = False  # records are line numbers already (lm-eval)

    def __call__(self, recs) -> dict[int, str]:
        from .scan import record_lines

        recs = list(recs)
        if self.direct:
            return {r: f"{self.path}:{r}" for r in recs}
        if self.good_lines is not None:
            return {r: f"{self.path}:{self.good_lines[r - 1]}" for r in recs}
        if self.file_fmt == JSONL:
            lines = record_lines(self.path, recs)
            return {r: f"{self.path}:{lines.get(r, '?')}" for r in recs}
        return {r: f"{self.path}: row {r}" for r in recs}


def _without_bom(path: Path, tmpdir: str) -> Path:
    """DuckDB's JSON reader refuses a leading UTF-8 byte order mark (some Windows
    tools write one): read a copy without it; line numbers do not change."""
    import shutil

    with open(path, "rb") as fh:
        if fh.read(3) != b"\xef\xbb\xbf":
            return path
        copy = Path(tmpdir) / ("nobom-" + path.name)
        with open(copy, "wb") as out:
            shutil.copyfileobj(fh, out, 16 * 1024 * 1024)
    return copy


def _stage(con, path: Path, file_fmt: str, plan: Plan, skip_bad: bool, tmpdir: str, report: ImportReport, locate: _Locator) -> None:
    """Read the file with DuckDB; on failure find (and maybe drop) bad lines in Python."""
    import duckdb

    from ..store import importing as sql
    from .scan import scan_csv, scan_jsonl

    def read(p: Path) -> None:
        if file_fmt == JSONL:
            sql.stage_jsonl(con, p, plan.read_types)
        else:
            sql.stage_table_file(con, p, file_fmt, list(plan.read_types))

    src = _without_bom(path, tmpdir) if file_fmt == JSONL else path
    try:
        read(src)
        return
    except duckdb.Error as exc:
        first_error = sql.first_line(exc)
    if file_fmt == PARQUET:
        raise InputError(f"{path}: cannot be read as Parquet ({first_error}).")
    if file_fmt == JSONL:
        result = scan_jsonl(src, plan.read_types, plan.required, skip_bad, tmpdir, name=path)
    else:
        result = scan_csv(path, plan.required, skip_bad, tmpdir)
    if result.bad == 0:
        raise InputError(f"{path}: cannot be read ({first_error}).")
    report.skipped += result.bad
    report.first_skipped += [f"{path}:{ln}: {why}" for ln, why in result.first_bad]
    locate.good_lines = result.good_lines
    try:
        read(result.path)
    except duckdb.Error as exc:
        raise InputError(f"{path}: cannot be read even without its {result.bad:,} bad lines ({sql.first_line(exc)}).") from None


def _store(run, con, report: ImportReport, role, plan, mapping, skip_bad: bool, locate: _Locator) -> None:
    """Resolve problems, insert samples and verdicts: one transaction."""
    from ..problems import problem_rows
    from ..store import importing as sql

    with run.transaction():
        report.model_id = run.ensure_model(report.model, role, backend="imported", path_or_endpoint=report.path)
        stage = run.start_stage(
            "import",
            {"file": report.path, "format": report.format, "model": report.model, "role": role, "map": mapping, "skip_bad": skip_bad},
        )
        sql.resolve_problems(con, report.source)
        n_missing, first = sql.unresolvable_problems(con)
        if n_missing:
            field = (plan.field_for("prompt") if plan else None) or "prompt"
            places = locate(r for r, _ in first)
            if not skip_bad:
                rec, key = first[0]
                raise InputError(
                    f"{places[rec]}: problem {key!r} is not in the run and the record has no prompt "
                    f"(field {field!r}) to create it from; add the problem set first (pathscope problems add)."
                )
            sql.drop_unresolvable(con)
            report.skipped += n_missing
            report.first_skipped = _first(report.first_skipped + [f"{places[r]}: problem {k!r} unknown, no prompt" for r, k in first])
        matched = sql.count_matched(con)
        report.problems_created = matched.pop("new", 0)
        report.problems_matched = sum(matched.values())
        if matched.get("prompt"):
            report.notes.append(f"{matched['prompt']:,} problems matched to stored ones by their prompt text")
        new = sql.new_problems(con)
        if new:
            run.add_problems(problem_rows(new, report.source))
        report.records, report.samples_in_file = sql.count_staged(con)
        given_idx = plan is not None and plan.has_sample_idx
        sql.stage_samples(con, given_idx)
        fresh = not sql.model_has_samples(con, report.model_id) and not (given_idx and sql.has_duplicate_keys(con))
        report.samples_added = sql.insert_samples(con, report.model_id, fresh)
        report.verdicts_added = sql.insert_imported_verdicts(con, report.model_id, Path(report.path).name, fresh)
        run.finish_stage(
            stage,
            summary={
                "records": report.records, "samples_added": report.samples_added,
                "samples_in_file": report.samples_in_file, "verdicts_added": report.verdicts_added,
                "problems_created": report.problems_created, "skipped": report.skipped,
            },
        )
