"""Valid seed files of every input format, and a seeded mutator that breaks them.

The mutator mixes byte-level damage (truncation, deleted spans, invalid UTF-8,
NUL bytes, CRLF, BOM, shuffled or duplicated lines) with structure-aware edits
of JSON records (missing or renamed fields, wrong types, huge numbers, nested
objects, lone surrogates, a megabyte-long line, lists of unequal length).  Each
case is reproducible from ``(kind, seed)``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

HOSTILE = [
    "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "[bold]markup[/]", "[/]", "\x00", "\ud800", "\udfff", "\u202e", "\r",
    "\\boxed{", "}}}", "\ufeff", "\u0085", "\x9b2J", "🙂" * 3,
]


def _cot(i: int, ans) -> str:
    return f"Step 1: read problem {i}.\n\nStep 2: compute carefully.\n\nThe answer is \\boxed{{{ans}}}."


def sample_records(n_problems: int = 3, n_samples: int = 2) -> list[dict]:
    out = []
    for p in range(n_problems):
        for s in range(n_samples):
            ans = str(p + 2) if s == 0 else str(p + 9)
            out.append({
                "problem_id": f"q{p}", "problem": f"What is {p} + 2?", "gt": str(p + 2), "text": _cot(p, ans),
                "sample_idx": s, "extracted": ans, "correct": s == 0, "n_tokens": 20 + s, "finish_reason": "stop",
            })
    return out


def grouped_records(n_problems: int = 3, n_samples: int = 3) -> list[dict]:
    out = []
    for p in range(n_problems):
        preds = [str(p + 2) if s % 2 == 0 else str(p + 7) for s in range(n_samples)]
        out.append({
            "problem_id": f"g{p}", "question": f"Compute {p} * 1 + 2.", "answer": str(p + 2),
            "responses": [_cot(p, a) for a in preds], "preds": preds, "scores": [a == str(p + 2) for a in preds],
        })
    return out


def qwen_eval_records(n_problems: int = 3, n_samples: int = 2) -> list[dict]:
    out = []
    for p in range(n_problems):
        preds = [str(p + 1)] * n_samples
        out.append({
            "idx": p, "question": f"Find {p} + 1.", "gt_cot": f"{p} + 1 = {p + 1}", "gt": str(p + 1),
            "code": [_cot(p, a) for a in preds], "pred": preds, "score": [True] * n_samples,
        })
    return out


def lm_eval_records(n_docs: int = 3) -> list[dict]:
    out = []
    for d in range(n_docs):
        prompt = f"Question: what is {d} + 5?\nAnswer:"
        resp = _cot(d, d + 5)
        out.append({
            "doc_id": d, "doc": {"problem": f"what is {d} + 5?", "answer": str(d + 5)}, "target": str(d + 5),
            "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["Question:"], "do_sample": False}}},
            "resps": [[resp]], "filtered_resps": [resp], "filter": "strict-match", "metrics": ["exact_match"],
            "exact_match": 1.0,
        })
    return out


def problem_records(n: int = 4) -> list[dict]:
    return [{"unique_id": f"test/algebra/{i}.json", "problem": f"Solve x + {i} = {2 * i}.", "solution": f"x = {i}. \\boxed{{{i}}}",
             "answer": str(i), "level": 1 + i % 5, "subject": "Algebra"} for i in range(n)]


#: importer kind -> (seed records, import format argument)
IMPORT_KINDS = {
    "samples": (sample_records, "samples"),
    "grouped": (grouped_records, "grouped"),
    "qwen-eval": (qwen_eval_records, "qwen-eval"),
    "lm-eval": (lm_eval_records, "lm-eval"),
}


@dataclass
class Case:
    kind: str
    seed: int
    path: Path
    what: list[str]

    def describe(self) -> str:
        return f"{self.kind} seed={self.seed} ({self.path.name}): " + "; ".join(self.what)


def _rand_value(rng: random.Random, depth: int = 0):
    choice = rng.randrange(13)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.randint(-(10**30), 10**30)
    if choice == 3:
        return rng.choice([0.5, -1e308, 1e-320, 3.0])
    if choice == 4:
        return "".join(rng.choice(HOSTILE) for _ in range(rng.randint(1, 4)))
    if choice == 5:
        return []
    if choice == 6 and depth < 3:
        return [_rand_value(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    if choice == 7 and depth < 3:
        return {rng.choice(["a", "text", "problem", ""]): _rand_value(rng, depth + 1)}
    if choice == 8:
        return ""
    if choice == 9:
        return -1
    if choice == 10:
        return "x" * rng.randint(1, 200)
    if choice == 11:
        return rng.randint(0, 5)
    return "0"


def _mutate_record(rng: random.Random, rec, what: list[str]):
    if not isinstance(rec, dict) or not rec:
        return rec
    keys = list(rec)
    op = rng.randrange(8)
    key = rng.choice(keys)
    if op == 0:
        del rec[key]
        what.append(f"drop field {key!r}")
    elif op == 1:
        rec[key] = _rand_value(rng)
        what.append(f"{key!r} = {rec[key]!r:.60}")
    elif op == 2:
        rec[key + "_x" if rng.random() < 0.5 else key.upper()] = rec.pop(key)
        what.append(f"rename field {key!r}")
    elif op == 3:
        what.append("record replaced by a non-object")
        return rng.choice([[1, 2], "text", 42, None, []])
    elif op == 4 and isinstance(rec[key], list):
        if rec[key]:
            rec[key] = rec[key][: rng.randrange(len(rec[key]))]
        else:
            rec[key] = [1]
        what.append(f"shorten list {key!r}")
    elif op == 5 and isinstance(rec[key], dict):
        _mutate_record(rng, rec[key], what)
    elif op == 6:
        rec[key] = "".join(rng.choice(HOSTILE) for _ in range(3)) + str(rec[key])
        what.append(f"hostile chars in {key!r}")
    else:
        rec[rng.choice(["extra", "zzz", ""])] = _rand_value(rng)
        what.append("extra field")
    return rec


def _jsonl_bytes(records, rng: random.Random) -> bytes:
    lines = []
    for rec in records:
        if isinstance(rec, bytes):
            lines.append(rec)
            continue
        try:
            # allow_nan: a producer may write NaN/Infinity, which is not JSON.
            lines.append(json.dumps(rec, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError):
            lines.append(b"{}")
    return b"\n".join(lines) + (b"\n" if rng.random() < 0.8 else b"")


_BAD_BYTES = [b"\xff", b"\xfe\xff", b"\x00", b'"', b"{", b"}", b"[", b"]", b"\n", b",", b"\\", b"\\u12", b"\xc3", b"\xed\xa0\x80", b"\r\n", b"NaN", b":"]


def _mutate_bytes(rng: random.Random, data: bytes, what: list[str]) -> bytes:
    op = rng.randrange(9)
    n = len(data)
    if op == 0 and n:
        cut = rng.randrange(n)
        what.append(f"truncate at byte {cut}")
        return data[:cut]
    if op == 1 and n:
        a = rng.randrange(n)
        b = min(n, a + rng.randint(1, 40))
        what.append(f"delete bytes {a}-{b}")
        return data[:a] + data[b:]
    if op == 2:
        a = rng.randrange(n + 1)
        ins = b"".join(rng.choice(_BAD_BYTES) for _ in range(rng.randint(1, 4)))
        what.append(f"insert {ins!r} at {a}")
        return data[:a] + ins + data[a:]
    if op == 3 and n:
        buf = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            buf[rng.randrange(n)] = rng.randrange(256)
        what.append("flip bytes")
        return bytes(buf)
    lines = data.split(b"\n")
    if op == 4 and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        what.append(f"duplicate line {i + 1}")
        return b"\n".join(lines)
    if op == 5:
        rng.shuffle(lines)
        what.append("shuffle lines")
        return b"\n".join(lines)
    if op == 6:
        what.append("CRLF + BOM")
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    if op == 7:
        what.append("blank and whitespace lines")
        return b"\n  \n" + data + b"\n\n\t\n"
    what.append("garbage line")
    return data + rng.choice([b"not json at all\n", b"{\"a\": \n", b"[1,2,3]\n", b"null\n", b"\x00\x00\x00\n"])


def _csv_bytes(records: list[dict], rng: random.Random) -> bytes:
    cols: dict[str, None] = {}
    for rec in records:
        if isinstance(rec, dict):
            for k in rec:
                cols.setdefault(k, None)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cols) or ["x"], extrasaction="ignore")
    w.writeheader()
    for rec in records:
        if isinstance(rec, dict):
            w.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in rec.items()})
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _parquet_bytes(records: list[dict], rng: random.Random, what: list[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [r for r in records if isinstance(r, dict)]
    try:
        table = pa.Table.from_pylist(rows)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        what.append("(records not representable in Arrow: empty table)")
        table = pa.table({"x": pa.array([], pa.int64())})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def make_case(kind: str, seed: int, folder: Path, records_fn, file_fmt: str | None = None) -> Case:
    """Write one mutated input of ``kind`` to ``folder`` and describe what was done."""
    rng = random.Random(f"{kind}:{seed}")
    records = copy.deepcopy(records_fn())
    what: list[str] = []
    file_fmt = file_fmt or rng.choices(["jsonl", "csv", "parquet"], weights=[8, 1, 1])[0]
    # Structure-aware edits first, on one to three records.
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(records))
        records[i] = _mutate_record(rng, records[i], what)
    if rng.random() < 0.01:
        big = copy.deepcopy(records[0]) if isinstance(records[0], dict) else {}
        big["text" if kind != "problems" else "problem"] = "y" * 1_100_000
        records.append(big)
        what.append("a 1.1 MB line")
    if file_fmt == "jsonl":
        data = _jsonl_bytes(records, rng)
    elif file_fmt == "csv":
        data = _csv_bytes(records, rng)
    else:
        data = _parquet_bytes(records, rng, what)
    # Byte damage in about half of the cases (most Parquet damage is fatal; keep it rarer).
    if rng.random() < (0.5 if file_fmt != "parquet" else 0.3):
        for _ in range(rng.randint(1, 2)):
            data = _mutate_bytes(rng, data, what)
    if rng.random() < 0.005:
        data = b""
        what.append("empty file")
    path = folder / f"{kind.replace('-', '_')}_{seed}.{file_fmt}"
    path.write_bytes(data)
    return Case(kind, seed, path, what or ["unchanged"])
