"""Export a run's analysis: clusters, samples, tree or annotations.

:func:`export` is what ``pathscope export`` and the TUI's export key call.
JSONL, CSV and Parquet are written by DuckDB's ``COPY`` straight from the
query (no rows pass through Python); Markdown is a readable report rendered
here, where every piece of model output is cleaned of terminal escapes
(:func:`pathscope.safe_text.clean`) and fenced so it cannot break the
document.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import IO, Sequence

from .errors import PathscopeError
from .safe_text import clean
from .store import export as q
from .store.run import Run

FORMATS = ("jsonl", "csv", "parquet", "md")
WHATS = q.WHATS
#: Characters of a CoT shown in a Markdown report before it is cut.
MD_TEXT_LIMIT = 6000


def export(
    run: Run,
    what: str,
    fmt: str,
    out: str | os.PathLike | IO[bytes],
    problem_ids: Sequence[str] | None = None,
    md_text_limit: int = MD_TEXT_LIMIT,
) -> int:
    """Write ``what`` of ``run`` to ``out`` in ``fmt``; returns the rows written.

    ``out`` is a path, ``"-"`` for stdout, or a binary file object.
    ``problem_ids`` limits the export to those problems (None = all).
    """
    if what not in WHATS:
        raise PathscopeError(f"--what: unknown export {what!r} (choose from {', '.join(WHATS)}).")
    if fmt not in FORMATS:
        raise PathscopeError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMATS)}).")
    with q.Selection(run, problem_ids) as selected:
        query = q.QUERIES[what](selected, flat=(fmt == "csv"))
        if fmt == "md":
            rows = q.rows(run, query)
            text = render_markdown(run, what, rows, md_text_limit)
            _write_bytes(out, text.encode("utf-8"))
            return len(rows)
        if isinstance(out, (str, os.PathLike)) and str(out) != "-":
            path = Path(out)
            if path.parent and not path.parent.exists():
                raise PathscopeError(f"{path}: its folder does not exist.")
            return _copy_atomic(run, query, path, fmt)
        with tempfile.TemporaryDirectory(prefix="pathscope-export-") as tmp:
            tmp_path = Path(tmp) / f"export.{fmt}"
            n = q.copy_to(run, query, str(tmp_path), fmt)
            _write_bytes(out, tmp_path.read_bytes())
    return n


def _copy_atomic(run: Run, query: str, path: Path, fmt: str) -> int:
    """COPY to a temporary file beside ``path``, then rename: a failed export
    never leaves half a file where a good one was."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent or "."))
    os.close(fd)
    try:
        n = q.copy_to(run, query, tmp, fmt)
        os.replace(tmp, path)
        return n
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_bytes(out, data: bytes) -> None:
    if out == "-" or out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    elif isinstance(out, (str, os.PathLike)):
        path = Path(out)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    else:
        out.write(data)


# -- Markdown ---------------------------------------------------------------------

_CELL_ESCAPE = re.compile(r"([\\`*_\[\]<>|#~])")


def md_cell(value) -> str:
    """One table cell: cleaned, on one line, Markdown and HTML characters escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = " ".join(clean(str(value)).split())
    return _CELL_ESCAPE.sub(r"\\\1", text)


def md_fence(text: str | None, limit: int | None = None, info: str = "text") -> str:
    """A fenced block that the text cannot close: the fence is one backtick
    longer than the longest run of backticks inside it."""
    body = clean(text or "")
    cut = ""
    if limit is not None and len(body) > limit:
        cut = f"\n… ({len(body) - limit:,} more characters in the run)"
        body = body[:limit]
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}{cut}\n{fence}"


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(md_cell(c) for c in r) + " |")
    return lines


def _members_cell(members) -> str:
    parts = []
    for m in members or []:
        parts.append(f"{m['model']} {m['n']} ({m['correct']}✓ {m['incorrect']}✗ {m['unknown']}?)")
    return "; ".join(parts)


def _marks_cell(marks) -> str:
    return "; ".join(f"{m['reviewer']}: {m['label']}" + (f" — {m['note']}" if m.get("note") else "") for m in marks or [])


def _evidence_cell(ev) -> str:
    if not ev:
        return ""
    s = f"{ev['n']} correct compared: {ev['already_in_base']} already in base, {ev['possibly_novel']} possibly novel"
    if ev.get("mean_nearest_base_similarity") is not None:
        s += f"; mean nearest-base cos {ev['mean_nearest_base_similarity']:.3f}"
    return s


def render_markdown(run: Run, what: str, rows: list[dict], text_limit: int = MD_TEXT_LIMIT) -> str:
    title = {"clusters": "Strategy clusters", "samples": "Samples", "tree": "Step trees", "annotations": "Review marks"}[what]
    out = [f"# pathscope: {title}", "", f"Run `{md_cell(Path(str(run.path)).name)}` · {len(rows)} rows", ""]
    if what == "clusters":
        out += _md_clusters(run, rows, text_limit)
    elif what == "samples":
        out += _table(
            ["problem", "model", "sample", "correct", "answer", "cluster", "suggested", "confidence", "marks"],
            [[r["problem_id"], r["model"], r["sample_idx"], r["correct"], r["extracted"], r["cluster_id"],
              r["suggested_mark"], r["confidence"], _marks_cell(r["marks"])] for r in rows],
        )
    elif what == "tree":
        out += _md_tree(rows)
    else:
        out += _table(
            ["id", "kind", "target", "label", "note", "reviewer", "at", "current"],
            [[r["annotation_id"], r["target_kind"], r["target_id"], r["label"], r["note"], r["reviewer"],
              r["created_at"], r["is_current"]] for r in rows],
        )
    return "\n".join(out).rstrip() + "\n"


def _md_clusters(run: Run, rows: list[dict], text_limit: int) -> list[str]:
    out: list[str] = []
    by_problem: dict[str, list[dict]] = {}
    for r in rows:
        by_problem.setdefault(r["problem_id"], []).append(r)
    prompts = q.problem_prompts(run, list(by_problem))
    for pid, clusters in by_problem.items():
        out += [f"## Problem {md_cell(pid)}", "", md_fence(prompts.get(pid), limit=text_limit), ""]
        out += _table(
            ["cluster", "label", "size", "members (model n: ✓ ✗ ?)", "evidence", "marks"],
            [[c["cluster_id"], c["label"], c["size"], _members_cell(c["members"]), _evidence_cell(c["evidence"]),
              _marks_cell(c["marks"])] for c in clusters],
        )
        out.append("")
        for c in clusters:
            out.append(f"### Cluster {c['cluster_id']}: {md_cell(c['label']) or '(no label)'}")
            out.append("")
            if c["member_marks"]:
                out.append("Member marks: " + md_cell(", ".join(f"{m['label']} {m['n']}" for m in c["member_marks"])))
                out.append("")
            for m in c["marks"] or []:
                line = f"- **{md_cell(m['reviewer'])}**: {md_cell(m['label'])}"
                if m.get("note"):
                    line += f" — {md_cell(m['note'])}"
                out.append(line)
            if c["marks"]:
                out.append("")
            if c["medoid_text"] is not None:
                out.append(f"Representative CoT (medoid): {md_cell(c['medoid_model'])} #{c['medoid_sample_idx']}")
                out.append("")
                out.append(md_fence(c["medoid_text"], limit=text_limit))
                out.append("")
    return out


def _md_tree(rows: list[dict]) -> list[str]:
    out: list[str] = []
    by_problem: dict[str, list[dict]] = {}
    for r in rows:
        by_problem.setdefault(r["problem_id"], []).append(r)
    for pid, nodes in by_problem.items():
        out += [f"## Problem {md_cell(pid)}", ""]
        kids: dict = {}
        for n in nodes:
            kids.setdefault(n["parent_id"], []).append(n)
        stack = [(n, 0) for n in reversed(kids.get(None, []))]
        while stack:
            n, level = stack.pop()
            rep = md_cell((n["rep_text"] or "")[:120])
            other = " (other)" if n["is_other"] else ""
            out.append(f"{'  ' * level}- **{md_cell(n['label'])}**{other} · n={n['n']} end={n['n_end']} · {rep}")
            stack.extend((k, level + 1) for k in reversed(kids.get(n["node_id"], [])))
        out.append("")
    return out
