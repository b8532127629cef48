"""Problem sets: load JSONL/Parquet/CSV files into the ``problems`` table.

Benchmarks name their fields differently (MATH-500: problem/answer/unique_id;
GSM8K: question/answer with the result after ``####``; Minerva: problem and
solution only).  :func:`load_problem_file` recognises the common layouts,
reports which field it took for each role, and returns an Arrow table with the
columns of ``problems``.  :func:`add_problem_file` stores it in a run.

Problem ids are ``SOURCE/ID`` so that two benchmarks that both number their
problems from 0 can share a run; a file without ids gets ``SOURCE/LINE``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .answers import last_boxed
from .errors import InputError
from .records import FieldChoice, check_mapping_roles, choose_field, read_rows

KINDS = ("math", "code", "choice")

#: role -> field names recognised without --map, best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("problem_id", "id", "idx", "unique_id", "uid", "task_id", "question_id", "qid"),
    "prompt": ("problem", "question", "prompt", "query", "input", "instruction"),
    "answer": ("answer", "gt", "ground_truth", "final_answer", "expected_answer", "target", "label"),
    "solution": ("solution", "gt_cot", "rationale", "explanation", "reasoning"),
    "tests": ("tests", "test", "test_cases", "test_list", "input_output"),
    "choices": ("choices", "options"),
}
ROLES = tuple(CANDIDATES)

_GENERIC_NAMES = {"test", "train", "validation", "valid", "val", "dev", "data", "problems", "eval", "all", "default", "main"}
_GSM8K_RE = re.compile(r"####\s*(.+?)\s*$", re.S)


def default_source(path: str | os.PathLike) -> str:
    """A source name from the file name, or from its folder when the file is
    just ``test.jsonl`` / ``train-00000-of-00001.parquet``."""
    path = Path(path).resolve()
    stem = path.name.split(".")[0]
    if stem.split("-")[0].lower() not in _GENERIC_NAMES:
        return stem
    for parent in path.parents:
        if parent.name and parent.name.lower() not in _GENERIC_NAMES:
            return parent.name
    return stem


def answer_text(value: Any) -> str | None:
    """A stored answer as text: ``27.0`` -> ``"27"``; lists/objects as JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN (a blank CSV/Parquet cell)
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return json.dumps(value, ensure_ascii=False, default=str)


def split_answer(answer: Any, solution: Any) -> tuple[str | None, str | None, str]:
    """The final answer and the worked solution of one problem, and how the
    answer was found: ``field``, ``####`` (GSM8K: the answer field holds the
    solution and ends in ``#### X``), ``boxed`` (last box of the solution) or
    ``none``."""
    ans = answer_text(answer)
    sol = solution.strip() if isinstance(solution, str) and solution.strip() else None
    if ans is not None and "####" in ans:
        m = _GSM8K_RE.search(ans)
        if m:
            return m.group(1).strip(), sol or ans, "####"
    if ans is not None:
        return ans, sol, "field"
    if sol is not None:
        boxed = last_boxed(sol)
        if boxed is not None:
            return boxed, sol, "boxed"
    return None, sol, "none"


@dataclass
class ProblemReport:
    """What a problem file held and how it was read (printed by the CLI)."""

    path: str
    source: str
    kind: str
    rows: int = 0
    fields: list[FieldChoice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metadata_fields: list[str] = field(default_factory=list)
    inserted: int | None = None
    already_present: int | None = None

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.rows:,} problems, source {self.source!r}, kind {self.kind}"]
        out += ["  " + f.describe() for f in self.fields]
        if self.metadata_fields:
            out.append("  kept as metadata: " + ", ".join(self.metadata_fields))
        out += ["  " + n for n in self.notes]
        if self.inserted is not None:
            out.append(f"  added {self.inserted:,}; {self.already_present:,} already in the run (kept as stored)")
        return out


def load_problem_file(
    path: str | os.PathLike,
    source: str | None = None,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
):
    """Read a problem file into ``(pyarrow.Table, ProblemReport)``.

    The table has the columns of ``problems``: problem_id, source, prompt,
    answer, kind, tests (JSON), metadata (JSON of every other field, plus the
    worked ``solution`` and ``choices`` when present).  ``mapping`` overrides
    the recognised fields, e.g. ``{"prompt": "question", "answer": "gt"}``.
    Raises InputError naming the file (and line) for a missing field.
    """
    import pyarrow as pa

    path = Path(path)
    mapping = dict(mapping or {})
    check_mapping_roles(mapping, ROLES, "problem files")
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(KINDS)}.")
    source = source or default_source(path)
    columns, rows = read_rows(path)
    if not rows:
        raise InputError(f"{path}: holds no problems.")
    choice = {role: choose_field(role, columns, CANDIDATES[role], mapping, path) for role in ROLES}
    prompt_col = choice["prompt"].column
    if prompt_col is None:
        raise InputError(
            f"{path}: no prompt field (looked for {', '.join(CANDIDATES['prompt'])}; the file has "
            f"{', '.join(columns)}); name it with --map prompt=FIELD."
        )
    if kind is None:
        if choice["tests"].column and not choice["answer"].column:
            kind = "code"
        elif choice["choices"].column:
            kind = "choice"
        else:
            kind = "math"
    answer_col, solution_col = choice["answer"].column, choice["solution"].column
    if kind != "code" and answer_col is None and solution_col is None:
        raise InputError(
            f"{path}: no answer field (looked for {', '.join(CANDIDATES['answer'])}) and no solution "
            f"field to take the last \\boxed{{}} from (looked for {', '.join(CANDIDATES['solution'])}); "
            f"name one with --map answer=FIELD or --map solution=FIELD."
        )
    if kind == "code" and choice["tests"].column is None:
        raise InputError(f"{path}: code problems need a tests field (looked for {', '.join(CANDIDATES['tests'])}); name it with --map tests=FIELD.")

    id_col = choice["id"].column
    used = {c.column for c in choice.values() if c.column}
    meta_cols = [c for c in columns if c not in used]
    if id_col is None:
        choice["id"].how = "missing: ids are SOURCE/LINE"
    if answer_col is None and solution_col is not None:
        choice["answer"].how = f"no field: from {solution_col!r}"
    shown = [c for c in choice.values() if c.column or c.role in ("id", "answer")]
    report = ProblemReport(str(path), source, kind, len(rows), shown, metadata_fields=meta_cols)

    out: dict[str, list] = {k: [] for k in ("problem_id", "source", "prompt", "answer", "kind", "tests", "metadata")}
    how_counts: dict[str, int] = {}
    seen: dict[str, int] = {}
    for line, rec in rows:
        prompt = rec.get(prompt_col)
        if not isinstance(prompt, str) or not prompt.strip():
            what = "missing" if prompt is None else ("empty" if isinstance(prompt, str) else f"not text ({type(prompt).__name__})")
            raise InputError(f"{path}:{line}: field {prompt_col!r} (the prompt) is {what}.")
        raw_id = answer_text(rec.get(id_col)) if id_col else None
        pid = f"{source}/{raw_id if raw_id is not None else line}"
        if pid in seen:
            raise InputError(f"{path}:{line}: duplicate id {raw_id!r} (also on line {seen[pid]}); name a unique field with --map id=FIELD.")
        seen[pid] = line
        answer, solution, how = split_answer(rec.get(answer_col) if answer_col else None, rec.get(solution_col) if solution_col else None)
        if kind == "code":
            how = "code" if answer is None else how
        how_counts[how] = how_counts.get(how, 0) + 1
        meta = {c: rec[c] for c in meta_cols if rec.get(c) is not None and not _is_nan(rec[c])}
        if isinstance(meta.get("metadata"), dict):  # a file's own metadata object: its keys, not nested
            meta = {**meta.pop("metadata"), **meta}
        if solution is not None:
            meta["solution"] = solution
        if choice["choices"].column and rec.get(choice["choices"].column) is not None:
            meta["choices"] = rec[choice["choices"].column]
        tests = rec.get(choice["tests"].column) if choice["tests"].column else None
        out["problem_id"].append(pid)
        out["source"].append(source)
        out["prompt"].append(prompt)
        out["answer"].append(answer)
        out["kind"].append(kind)
        out["tests"].append(_as_json(tests))
        out["metadata"].append(json.dumps(meta, ensure_ascii=False, default=str) if meta else None)

    if how_counts.get("####"):
        report.notes.append(f"answer: the text after '####' in {answer_col!r} for {how_counts['####']:,} problems (GSM8K layout); the full text kept as the solution")
    if how_counts.get("boxed"):
        report.notes.append(f"answer: the last \\boxed{{}} of {solution_col!r} for {how_counts['boxed']:,} problems")
    if how_counts.get("none") and kind != "code":
        report.notes.append(f"warning: {how_counts['none']:,} problems have no answer (they cannot be verified)")
    table = pa.table({k: pa.array(v, type=pa.string()) for k, v in out.items()})
    return table, report


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and v != v


def _as_json(value: Any) -> str | None:
    if value is None or _is_nan(value):
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def problem_rows(
    records: Sequence[tuple[str, str, Any, Any]], source: str, kind: str = "math"
):
    """An Arrow table of problems built from ``(problem_id, prompt, answer,
    solution)`` tuples (used by the importers for problems a file references)."""
    import pyarrow as pa

    cols: dict[str, list] = {k: [] for k in ("problem_id", "source", "prompt", "answer", "kind", "tests", "metadata")}
    for pid, prompt, answer, solution in records:
        ans, sol, _ = split_answer(answer, solution)
        cols["problem_id"].append(pid)
        cols["source"].append(source)
        cols["prompt"].append(prompt)
        cols["answer"].append(ans)
        cols["kind"].append(kind)
        cols["tests"].append(None)
        cols["metadata"].append(json.dumps({"solution": sol}, ensure_ascii=False) if sol else None)
    return pa.table({k: pa.array(v, type=pa.string()) for k, v in cols.items()})


def add_problem_file(
    run,
    path: str | os.PathLike,
    source: str | None = None,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ProblemReport:
    """Load a problem file and add it to ``run`` in one transaction; problems
    whose id is already stored are kept as stored.  Returns the report."""
    from .store.importing import conflicting_prompts

    table, report = load_problem_file(path, source=source, kind=kind, mapping=mapping)
    with run.transaction():
        stage = run.start_stage("problems", {"file": str(path), "source": report.source, "kind": report.kind, "map": mapping or {}})
        conflicts = conflicting_prompts(run.con, table)
        inserted, present = run.add_problems(table)
        run.finish_stage(stage, summary={"rows": report.rows, "inserted": inserted, "already_present": present})
    report.inserted, report.already_present = inserted, present
    if conflicts:
        report.notes.append(f"warning: {conflicts:,} ids are already in the run with a different prompt; the stored ones were kept")
    return report
