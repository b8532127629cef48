"""Hostile CoT texts through the exports.

Markdown is a report a person opens in a viewer or a terminal: it must carry
no control byte or escape payload, and a CoT must not escape its fence to
inject HTML, links or headings (checked by parsing the export with
markdown-it, the CommonMark parser Rich uses).  Data formats (JSONL, CSV,
Parquet) must instead keep every text exactly as stored.
"""

from __future__ import annotations

import json

import pytest
from hostile import HOSTILE_TEXTS, forbidden_in

pytestmark = pytest.mark.timeout(600)

#: Texts that try to break out of a Markdown fence or table cell.
MARKDOWN_ATTACKS = [
    "```\n# INJECTED heading\n<script>alert('INJECTED')</script>\n```",
    "````\n[INJECTED](javascript:alert(1)) <img src=x onerror=alert(1)>\n````",
    "| INJECTED | cell |\n|---|---|\n| a | b |",
    "<!-- INJECTED comment --> <div>INJECTED html</div>",
    "~~~\n# INJECTED after tilde fence\n~~~",
    "    indented code\n\n# INJECTED heading after blank line",
]


@pytest.fixture
def hostile_run(tmp_path):
    import review_data
    from pathscope import open_run

    path = tmp_path / "hostile.duckdb"
    texts = [t for _, t in HOSTILE_TEXTS] + MARKDOWN_ATTACKS
    with open_run(path) as run:
        ids = review_data.build(run)
        with run.transaction():
            con = run.con
            k = 0
            for p in review_data.PROBLEMS:
                for i in range(review_data.N):
                    for mid in (ids["base"], ids["rl"]):
                        con.execute("UPDATE samples SET text = ? WHERE model_id = ? AND problem_id = ? AND sample_idx = ?",
                                    [texts[k % len(texts)], mid, p, i])
                        k += 1
            con.execute("UPDATE problems SET prompt = ? WHERE problem_id = 'p1'", [MARKDOWN_ATTACKS[0] + HOSTILE_TEXTS[3][1]])
            con.execute("UPDATE problems SET prompt = ? WHERE problem_id = 'p2'", [MARKDOWN_ATTACKS[2]])
            con.execute("UPDATE clusters SET label = ?", ["| INJECTED | [x](javascript:1) \x1b]0;pwned\x07 <b>INJECTED</b>"])
            con.execute("UPDATE tree_nodes SET label = ?, rep_text = ? WHERE node_id < 10", [MARKDOWN_ATTACKS[1], MARKDOWN_ATTACKS[0]])
            for target, label, note in (("rl/p1/1", "novel", MARKDOWN_ATTACKS[3]), ("rl/p1/2", "already_in_base", HOSTILE_TEXTS[2][1])):
                con.execute("INSERT INTO annotations (target_kind, target_id, label, note, reviewer) VALUES ('sample', ?, ?, ?, ?)",
                            [target, label, note, "rev [b]x[/b]\x1b[31m"])
    return path


def _tokens(tokens):
    for t in tokens:
        yield t
        if t.children:
            yield from _tokens(t.children)


@pytest.mark.parametrize("what", ["clusters", "samples", "tree", "annotations"])
def test_markdown_export_keeps_hostile_text_inert(hostile_run, tmp_path, what):
    from markdown_it import MarkdownIt

    from pathscope import open_run
    from pathscope.export import export

    out = tmp_path / f"{what}.md"
    with open_run(hostile_run, read_only=True) as run:
        n = export(run, what, "md", out)
    assert n > 0
    text = out.read_text(encoding="utf-8")
    assert not forbidden_in(text), forbidden_in(text)
    assert "INJECTED" in text  # the attacks are in the report (as inert text)
    md = MarkdownIt("commonmark").enable("table")
    problems = []
    for tok in _tokens(md.parse(text)):
        if tok.type in ("html_block", "html_inline"):
            problems.append(f"raw HTML reached the document: {tok.content[:80]!r}")
        if tok.type == "link_open":
            problems.append(f"a link from model output: {tok.attrs}")
        if tok.type == "image":
            problems.append(f"an image from model output: {tok.attrs}")
    # Model text may sit (escaped) inside a heading the report writes, such as
    # "Cluster 0: <label>", but must never become a heading of its own.
    tokens = md.parse(text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and "INJECTED heading" in tokens[i + 1].content:
            problems.append(f"a heading injected by model output: {tokens[i + 1].content[:80]!r}")
    assert not problems, "\n".join(problems[:10])


def test_data_exports_keep_text_exactly(hostile_run, tmp_path):
    import pyarrow.parquet as pq

    from pathscope import open_run
    from pathscope.export import export

    with open_run(hostile_run, read_only=True) as run:
        stored = {(r[0], r[1], r[2]): r[3] for r in run.con.execute(
            "SELECT m.name, s.problem_id, s.sample_idx, s.text FROM samples s JOIN models m USING (model_id)").fetchall()}
        export(run, "samples", "jsonl", tmp_path / "s.jsonl")
        export(run, "samples", "parquet", tmp_path / "s.parquet")
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(stored)
    text_key = "text" if "text" in rows[0] else next(k for k in rows[0] if "text" in k)
    texts = sorted(r[text_key] for r in rows)
    assert texts == sorted(stored.values())
    table = pq.read_table(tmp_path / "s.parquet")
    assert sorted(table.column(text_key).to_pylist()) == sorted(stored.values())


def test_markdown_export_through_the_cli(hostile_run, tmp_path):
    from fault_helpers import run_cli

    proc = run_cli("export", hostile_run, "--what", "clusters", "-o", "-", "--format", "md")
    assert proc.returncode == 0, proc.stderr
    assert not forbidden_in(proc.stdout) and not forbidden_in(proc.stderr)
    assert "Traceback" not in proc.stderr
