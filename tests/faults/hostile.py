"""Hostile model output: what a CoT may contain and no screen or report may obey.

Each entry is (name, text).  Texts that must not survive rendering are listed
in :data:`FORBIDDEN` (raw control bytes and the payloads of escape sequences).
"""

from __future__ import annotations

import re

MB_LINE = "A" * 1_000_000

HOSTILE_TEXTS: list[tuple[str, str]] = [
    ("rich markup", "[bold red]not markup[/] [link=https://evil.example]click[/link] [/] [@click=app.quit]quit[/] \\[x]"),
    ("unbalanced markup", "[/bold] [/] [[[ ]]] [b][i] open tags never closed"),
    ("ansi csi", "clear \x1b[2J\x1b[H home, \x1b[31mred\x1b[0m, \x1b[?1049h alt screen, \x1b[6n query"),
    ("osc", "title \x1b]0;pwned-title\x07 link \x1b]8;;https://evil.example\x1b\\visible-link-text\x1b]8;;\x1b\\ clip \x1b]52;c;cHduZWQ=\x07 end"),
    ("c1 controls", "csi8 \x9b31m osc8 \x9d0;pwned-c1\x9c dcs \x90pwned-dcs\x9c end"),
    ("nul and controls", "nul \x00 bell \x07 bs \x08 vt \x0b ff \x0c cr \r del \x7f end"),
    ("one megabyte line", MB_LINE),
    ("many lines", "\n".join(f"line {i}" for i in range(20_000))),
    ("bidi and combining", "\u202eesrever\u202c " + "e\u0301" * 2000 + " \u200b\u200d zero-width " + "漢字" * 500 + " 🙂" * 200),
    ("tabs", "\tindented\t\tcolumns\t|\n" * 50),
    ("replacement char", "invalid bytes were here: \ufffd\ufffd and a literal \\ud800 escape"),
    ("boxed markup", "So the answer is \\boxed{[/]\x1b[31m7\x1b[0m}."),
]

#: Must not appear in any rendered screen or written report.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|pwned")


def forbidden_in(text: str) -> list[str]:
    """Offending snippets (with context) found in rendered output."""
    return [repr(text[max(0, m.start() - 20): m.end() + 20]) for m in FORBIDDEN.finditer(text)][:5]
