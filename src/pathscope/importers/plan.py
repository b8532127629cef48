"""From a file's first records to an import plan.

A plan says which fields to read (and as what DuckDB type), which field plays
which role, the SQL view that turns the raw rows into the staged shape of
``pathscope.store.importing``, and the per-record checks that name a bad line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..records import CSV, JSONL, FieldChoice, check_mapping_roles, choose_field
from ..store.importing import FALSY, TRUTHY, ident, sql_str
from . import lm_eval
from .fields import GROUPED_CANDIDATES, LIST_ROLES, QWEN_EVAL_CANDIDATES, SAMPLE_CANDIDATES, infer_type

PEEK_RECORDS = 1000


@dataclass
class Plan:
    format: str
    fields: list[FieldChoice]
    read_types: dict[str, str]  # field -> DuckDB type, the fields DuckDB reads
    view_sql: str
    checks: list[tuple[str, str]]
    required: tuple[str, ...]
    has_sample_idx: bool
    notes: list[str] = field(default_factory=list)

    def field_for(self, role: str) -> str | None:
        return next((f.column for f in self.fields if f.role == role), None)


def peek(path: Path, file_fmt: str) -> tuple[dict[str, str], list[dict]]:
    """(field -> DuckDB type, first records) without reading the whole file."""
    if file_fmt == JSONL:
        sample: list[dict] = []
        with open(path, "rb") as fh:
            for raw in fh:
                if len(sample) >= PEEK_RECORDS:
                    break
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    continue  # the full read names this line if it matters
                if isinstance(rec, dict):
                    sample.append(rec)
        if not sample:
            raise InputError(f"{path}: no readable JSON object in its first lines; is it JSONL?")
        names: dict[str, None] = {}
        for rec in sample:
            for k in rec:
                names.setdefault(k, None)
        return {k: infer_type([r.get(k) for r in sample]) for k in names}, sample
    from ..store.importing import describe_file, read_table

    try:
        types = {name: _normal_type(t) for name, t in describe_file(path, file_fmt)}
        sample = read_table(path, file_fmt, limit=PEEK_RECORDS).to_pylist()
    except InputError:
        if file_fmt == CSV:  # name the line DuckDB's sniffer tripped over, if we can find it
            import tempfile

            from .scan import scan_csv

            with tempfile.TemporaryDirectory() as tmp:
                scan_csv(path, (), False, tmp)
        raise
    return types, sample


def _normal_type(duck_type: str) -> str:
    t = duck_type.upper()
    if t.endswith("[]"):
        return _normal_type(t[:-2]) + "[]"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "BIGINT"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "DOUBLE"
    if t in ("BOOLEAN", "VARCHAR"):
        return t
    return "OTHER"


def detect_format(path: Path, file_fmt: str, sample: list[dict]) -> str:
    if file_fmt == CSV:
        return "samples"
    first = sample[0] if sample else {}
    if lm_eval.looks_like(first):
        return "lm-eval"
    if isinstance(first.get("code"), list) and ("pred" in first or "score" in first):
        return "qwen-eval"
    for name in GROUPED_CANDIDATES["text"]:
        value = first.get(name)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "grouped"
    return "samples"


# -- SQL expressions over raw columns -------------------------------------------------


def _text(col: str | None, t: str | None) -> str:
    if col is None:
        return "NULL::VARCHAR"
    c = ident(col) if not col.startswith("(") else col
    if t == "VARCHAR":
        return c
    if t == "DOUBLE":
        return f"(CASE WHEN {c} = floor({c}) AND abs({c}) < 1e15 THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END)"
    if t and t.endswith("[]"):
        return f"CAST(to_json({c}) AS VARCHAR)"
    return f"CAST({c} AS VARCHAR)"


def _key(col: str | None, t: str | None) -> str:
    return f"nullif(trim({_text(col, t)}), '')" if col else "NULL::VARCHAR"


def _int(col: str | None, t: str | None) -> str:
    if col is None:
        return "NULL::BIGINT"
    return ident(col) if t == "BIGINT" else f"TRY_CAST({ident(col)} AS BIGINT)"


def _int32(col: str | None, t: str | None) -> str:
    """An INTEGER column's value, NULL when it does not fit (token counts are advisory)."""
    if col is None:
        return "NULL::BIGINT"
    return f"TRY_CAST({ident(col)} AS INTEGER)"


def _double(col: str | None, t: str | None) -> str:
    if col is None:
        return "NULL::DOUBLE"
    return f"TRY_CAST({ident(col)} AS DOUBLE)"


_T = ", ".join(sql_str(v) for v in TRUTHY)
_F = ", ".join(sql_str(v) for v in FALSY)


def _verdict(expr: str, t: str | None) -> str:
    """A verdict value as BOOLEAN (NULL when absent or not a verdict)."""
    if t is None:
        return "NULL::BOOLEAN"
    if t == "BOOLEAN":
        return expr
    if t in ("BIGINT", "DOUBLE"):
        return f"({expr} > 0)"
    s = f"lower(trim(CAST({expr} AS VARCHAR)))"
    return f"(CASE WHEN {s} IN ({_T}) THEN true WHEN {s} IN ({_F}) THEN false END)"


def _not_verdict(expr: str, t: str | None) -> str:
    if t in (None, "BOOLEAN", "BIGINT", "DOUBLE"):
        return "false"
    s = f"lower(trim(CAST({expr} AS VARCHAR)))"
    return f"({expr} IS NOT NULL AND {s} NOT IN ({_T}, {_F}))"


def _q(text: str) -> str:
    return sql_str(text)


# -- plans ---------------------------------------------------------------------------------


def build_plan(path: Path, file_fmt: str, fmt: str, types: dict[str, str], sample: list[dict], mapping: dict[str, str]) -> Plan:
    if fmt in ("grouped", "qwen-eval"):
        if file_fmt == CSV:
            raise InputError(f"{path}: grouped files hold lists of responses; write them as JSONL or Parquet.")
        return _grouped_plan(path, fmt, types, mapping)
    return _samples_plan(path, types, mapping)


def _choose(path, types, candidates, mapping, want_list: dict[str, bool]) -> dict[str, FieldChoice]:
    out = {}
    for role, names in candidates.items():
        is_list = want_list.get(role)
        cols = [c for c in types if is_list is None or types[c].endswith("[]") == is_list]
        if role in mapping and mapping[role] in types and mapping[role] not in cols:
            kind = "a list" if is_list else "a single value"
            raise InputError(f"{path}: --map {role}={mapping[role]}: field {mapping[role]!r} should hold {kind} in this format.")
        out[role] = choose_field(role, list(types) if role in mapping else cols, names, mapping, path)
    return out


def _common_checks(path, ch, types) -> tuple[str, str, list[tuple[str, str]], list[FieldChoice]]:
    id_col, prompt_col = ch["id"].column, ch["prompt"].column
    if id_col is None and prompt_col is None:
        raise InputError(
            f"{path}: no problem id field (looked for {', '.join(SAMPLE_CANDIDATES['id'])}) and no prompt field "
            f"(looked for {', '.join(SAMPLE_CANDIDATES['prompt'])}); name one with --map id=FIELD or --map prompt=FIELD."
        )
    pkey = _key(id_col, types.get(id_col))
    prompt = f"nullif({_text(prompt_col, types.get(prompt_col))}, '')"
    gk = f"coalesce({pkey}, '#' || md5({prompt}))"
    what = " and ".join(f"no {w} (field {c!r})" for w, c in (("problem id", id_col), ("prompt", prompt_col)) if c)
    checks = [(f"{pkey} IS NULL AND {prompt} IS NULL", _q(what))]
    return pkey, prompt, checks, [ch[r] for r in ch]


def _samples_plan(path: Path, types: dict[str, str], mapping: dict[str, str]) -> Plan:
    check_mapping_roles(mapping, tuple(SAMPLE_CANDIDATES), "sample files")
    ch = _choose(path, types, SAMPLE_CANDIDATES, mapping, {r: False for r in SAMPLE_CANDIDATES})
    text_col = ch["text"].column
    if text_col is None:
        lists = [c for c in types if types[c].endswith("[]") and c in GROUPED_CANDIDATES["text"]]
        hint = f" (field {lists[0]!r} holds lists: use --format grouped)" if lists else ""
        raise InputError(
            f"{path}: no response text field (looked for {', '.join(SAMPLE_CANDIDATES['text'])}){hint}; "
            f"name it with --map text=FIELD."
        )
    pkey, prompt, checks, fields = _common_checks(path, ch, types)
    t = {r: (types.get(c.column) if c.column else None) for r, c in ch.items()}
    col = {r: c.column for r, c in ch.items()}
    correct_raw = ident(col["correct"]) if col["correct"] else "NULL"
    text = _text(text_col, t["text"])
    view = f"""
        SELECT rowid + 1 AS rec, rowid AS _rid, 0 AS pos,
               coalesce({pkey}, '#' || md5({prompt})) AS gk, {pkey} AS pkey, {prompt} AS prompt,
               {_key(col['answer'], t['answer'])} AS answer, {_text(col['solution'], t['solution'])} AS solution,
               {_int(col['sample_idx'], t['sample_idx'])} AS sample_idx, {text} AS text,
               {_key(col['extracted'], t['extracted'])} AS extracted, {_verdict(correct_raw, t['correct'])} AS correct,
               {_int32(col['n_tokens'], t['n_tokens'])} AS n_tokens, {_text(col['finish_reason'], t['finish_reason'])} AS finish_reason,
               {_double(col['cum_logprob'], t['cum_logprob'])} AS cum_logprob, {_int(col['seed'], t['seed'])} AS seed
        FROM _ps_raw"""
    checks.insert(0, (f"{ident(text_col)} IS NULL", _q(f"field {text_col!r} (the response text) is missing")))
    if col["correct"]:
        checks.append((_not_verdict(correct_raw, t["correct"]),
                       _q("field %r is " % col["correct"]) + f" || CAST({correct_raw} AS VARCHAR) || " + _q(", not a verdict (true/false, 1/0)")))
    if col["sample_idx"]:
        si = _int(col["sample_idx"], t["sample_idx"])
        raw = ident(col["sample_idx"])
        checks.append((f"{raw} IS NOT NULL AND ({si} IS NULL OR {si} < 0 OR {si} > 2147483647)",
                       _q("field %r is " % col["sample_idx"]) + f" || CAST({raw} AS VARCHAR) || " + _q(", not a sample number (0, 1, …)")))
    read = {c.column: types[c.column] for c in ch.values() if c.column}
    read = {k: ("JSON" if v == "OTHER" else v) for k, v in read.items()}
    return Plan("samples", [f for f in fields if f.column or f.role in ("id", "prompt", "correct")], read, view, checks,
                (text_col,), col["sample_idx"] is not None)


def _grouped_plan(path: Path, fmt: str, types: dict[str, str], mapping: dict[str, str]) -> Plan:
    candidates = QWEN_EVAL_CANDIDATES if fmt == "qwen-eval" else GROUPED_CANDIDATES
    check_mapping_roles(mapping, tuple(GROUPED_CANDIDATES), "grouped files")
    want = {r: (r in LIST_ROLES) for r in GROUPED_CANDIDATES}
    ch = _choose(path, types, {r: candidates.get(r, ()) for r in GROUPED_CANDIDATES}, mapping, want)
    text_col = ch["text"].column
    if text_col is None:
        raise InputError(
            f"{path}: no list of responses (looked for {', '.join(candidates['text'])}); name it with --map text=FIELD."
        )
    pkey, prompt, checks, fields = _common_checks(path, ch, types)
    t = {r: (types.get(c.column) if c.column else None) for r, c in ch.items()}
    col = {r: c.column for r, c in ch.items()}
    tl = ident(text_col)
    elem = {r: (t[r][:-2] if t[r] else None) for r in LIST_ROLES}
    ext = f"(_e[pos + 1])" if col["extracted"] else None
    cor = "_c[pos + 1]" if col["correct"] else "NULL"
    view = f"""
        SELECT rec, _rid, pos, coalesce(pkey, '#' || md5(prompt)) AS gk, pkey, prompt, answer, solution,
               NULL::BIGINT AS sample_idx, _t[pos + 1] AS text,
               {f"nullif(trim({_text(ext, elem['extracted'])}), '')" if ext else "NULL::VARCHAR"} AS extracted,
               {_verdict(cor, elem['correct']) if col['correct'] else "NULL::BOOLEAN"} AS correct,
               NULL::BIGINT AS n_tokens, NULL::VARCHAR AS finish_reason, NULL::DOUBLE AS cum_logprob, NULL::BIGINT AS seed
        FROM (
            SELECT rowid + 1 AS rec, rowid AS _rid, {pkey} AS pkey, {prompt} AS prompt,
                   {_key(col['answer'], t['answer'])} AS answer, {_text(col['solution'], t['solution'])} AS solution,
                   CAST({tl} AS VARCHAR[]) AS _t,
                   {ident(col['extracted']) if col['extracted'] else 'NULL'} AS _e,
                   {ident(col['correct']) if col['correct'] else 'NULL'} AS _c,
                   unnest(range(len({tl}))) AS pos
            FROM _ps_raw WHERE {tl} IS NOT NULL
        )"""
    checks.insert(0, (f"{tl} IS NULL", _q(f"field {text_col!r} (the list of responses) is missing")))
    checks.insert(1, (f"list_count({tl}) < len({tl})", _q(f"field {text_col!r} has a null response")))
    for role in ("extracted", "correct"):
        c = col[role]
        if c:
            checks.append((f"{ident(c)} IS NOT NULL AND len({ident(c)}) <> len({tl})",
                           _q("field %r has " % c) + f" || len({ident(c)}) || " + _q(" entries but %r has " % text_col) + f" || len({tl})"))
    if col["correct"] and _not_verdict("x", elem["correct"]) != "false":
        checks.append((f"len(list_filter({ident(col['correct'])}, lambda x: {_not_verdict('x', elem['correct'])})) > 0",
                       _q(f"field {col['correct']!r} holds a value that is not a verdict (true/false, 1/0)")))
    read = {c.column: types[c.column] for c in ch.values() if c.column}
    read = {k: ("JSON" if v == "OTHER" else v) for k, v in read.items()}
    shown = [f for f in fields if f.column or f.role in ("id", "prompt", "correct")]
    return Plan(fmt, shown, read, view, checks, (text_col,), False)
