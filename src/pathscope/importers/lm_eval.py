"""lm-evaluation-harness ``--log_samples`` output (``samples_<task>_*.jsonl``).

One line per document and filter::

    {"doc_id": 0, "doc": {...}, "target": "18", "arguments": ...,
     "resps": [["response 1", "response 2", ...]], "filtered_resps": [...],
     "filter": "strict-match", "metrics": ["exact_match"], "exact_match": 1.0}

``resps[0]`` holds the generations of the document (several with
``repeats``).  Metrics are per document, so a verdict is imported only when
a document has one response.  A task with several filters writes each
document once per filter; the first filter's lines are used.  These files are
small (one line per document), so they are parsed in Python.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..records import FieldChoice, describe_type, json_error_reason, surrogate_error
from ..problems import CANDIDATES as PROBLEM_CANDIDATES

METRIC_NAMES = ("exact_match", "acc", "em", "correct", "math_verify", "is_correct", "accuracy", "pass@1")
ROLES = ("id", "prompt", "answer", "solution")

STAGED_COLUMNS = ("rec", "pos", "pkey", "prompt", "answer", "solution", "text", "extracted", "correct")


def _prompt_from_arguments(args: Any) -> str | None:
    """The prompt string of a generate_until request, in either logged layout."""
    if isinstance(args, dict):
        first = next(iter(args.values()), None)
        if isinstance(first, dict):
            value = first.get("arg_0")
            return value if isinstance(value, str) else None
    if isinstance(args, list) and args:
        first = args[0]
        if isinstance(first, list) and first and isinstance(first[0], str):
            return first[0]
        if isinstance(first, str):
            return first
    return None


def _pick(doc: dict, role: str, mapping: dict[str, str]) -> tuple[str | None, Any]:
    if role in mapping:
        return mapping[role], doc.get(mapping[role])
    for name in PROBLEM_CANDIDATES[role]:
        if name in doc and doc[name] is not None:
            return name, doc[name]
    return None, None


def parse(path: Path, mapping: dict[str, str], skip_bad: bool, keep: int = 5):
    """Read the file into the staged shape: ``(arrow table, report dict)``."""
    import pyarrow as pa

    cols: dict[str, list] = {c: [] for c in STAGED_COLUMNS}
    bad: list[tuple[int, str]] = []
    n_bad = 0
    first_filter: str | None = None
    filters: set[str] = set()
    used: dict[str, str] = {}
    multi = False
    verdict_metric: str | None = None

    def fail(lineno: int, reason: str) -> None:
        nonlocal n_bad
        if not skip_bad:
            raise InputError(f"{path}:{lineno}: {reason}.")
        n_bad += 1
        if len(bad) < keep:
            bad.append((lineno, reason))

    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                fail(lineno, json_error_reason(raw.rstrip(b"\r\n")))
                continue
            if not isinstance(rec, dict):
                fail(lineno, f"expected a JSON object, found {describe_type(rec)}")
                continue
            not_unicode = surrogate_error(rec)
            if not_unicode:
                fail(lineno, not_unicode)
                continue
            if "doc_id" not in rec or "resps" not in rec:
                fail(lineno, "not an lm-eval sample line (no 'doc_id' or 'resps')")
                continue
            filt = rec.get("filter")
            if isinstance(filt, str):
                filters.add(filt)
                first_filter = first_filter or filt
                if filt != first_filter:
                    continue
            doc = rec.get("doc") if isinstance(rec.get("doc"), dict) else {}
            resps = rec.get("resps")
            if not (isinstance(resps, list) and resps and isinstance(resps[0], list)):
                fail(lineno, f"field 'resps' should be a list of lists of responses, found {describe_type(resps)}")
                continue
            texts = resps[0]
            if not texts or not all(isinstance(t, str) for t in texts):
                fail(lineno, "field 'resps' holds no generated text (loglikelihood / multiple-choice requests cannot be imported)")
                continue
            if len(resps) > 1:
                fail(lineno, f"field 'resps' holds {len(resps)} requests for one document (multiple-choice); pathscope imports generations only")
                continue
            id_field, raw_id = _pick(doc, "id", mapping)
            if raw_id is None:
                id_field, raw_id = "doc_id", rec.get("doc_id")
            prompt_field, prompt = _pick(doc, "prompt", mapping)
            if not isinstance(prompt, str):
                prompt_field, prompt = "arguments", _prompt_from_arguments(rec.get("arguments"))
            if raw_id is None and not isinstance(prompt, str):
                fail(lineno, "no document id ('doc_id') and no prompt")
                continue
            answer_field, answer = _pick(doc, "answer", mapping)
            if answer is None and rec.get("target") is not None:
                answer_field, answer = "target", rec.get("target")
            solution_field, solution = _pick(doc, "solution", mapping)
            for role, name in (("id", id_field), ("prompt", prompt_field), ("answer", answer_field), ("solution", solution_field)):
                if name and role not in used:
                    used[role] = name if name in ("doc_id", "arguments", "target") else f"doc.{name}"
            filtered = rec.get("filtered_resps")
            extracted: list[Any] = [None] * len(texts)
            if isinstance(filtered, list) and filtered:
                f0 = filtered[0]
                if isinstance(f0, list) and len(f0) == len(texts):
                    extracted = list(f0)
                elif not isinstance(f0, (list, dict)) and len(texts) == 1:
                    extracted = [f0]
            correct: list[bool | None] = [None] * len(texts)
            if len(texts) == 1:
                names = [m for m in rec.get("metrics", []) if isinstance(m, str)] if isinstance(rec.get("metrics"), list) else []
                for name in names + [m for m in METRIC_NAMES if m not in names]:
                    value = rec.get(name)
                    if isinstance(value, (bool, int, float)):
                        correct = [bool(value > 0)]
                        verdict_metric = verdict_metric or name
                        break
            else:
                multi = True
            for pos, text in enumerate(texts):
                cols["rec"].append(lineno)
                cols["pos"].append(pos)
                cols["pkey"].append(None if raw_id is None else _as_text(raw_id))
                cols["prompt"].append(prompt if isinstance(prompt, str) else None)
                cols["answer"].append(None if answer is None else _as_text(answer))
                cols["solution"].append(solution if isinstance(solution, str) else None)
                cols["text"].append(text)
                cols["extracted"].append(None if extracted[pos] is None else _as_text(extracted[pos]))
                cols["correct"].append(correct[pos])
    types = {"rec": pa.int64(), "pos": pa.int64(), "correct": pa.bool_()}
    table = pa.table({c: pa.array(v, type=types.get(c, pa.string())) for c, v in cols.items()})
    fields = [FieldChoice(role, used.get(role), "recognised" if role in used else "missing") for role in ROLES]
    fields.append(FieldChoice("text", "resps[0]", "lm-eval"))
    fields.append(FieldChoice("extracted", "filtered_resps[0]", "lm-eval"))
    notes = []
    if verdict_metric:
        fields.append(FieldChoice("correct", verdict_metric, "metric > 0"))
    if len(filters) > 1:
        notes.append(f"the file holds filters {', '.join(sorted(filters))}; the lines of {first_filter!r} were used")
    if multi:
        notes.append("documents with several responses carry one metric per document: no per-sample verdicts imported for them")
    return table, {"fields": fields, "notes": notes, "bad": n_bad, "first_bad": bad}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, bool)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def looks_like(record: dict) -> bool:
    return "doc_id" in record and ("resps" in record or "filtered_resps" in record)
