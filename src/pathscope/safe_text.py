"""Model output is untrusted text: make it safe to show in a terminal or a report.

A CoT may contain Rich markup (``[bold]``), ANSI/OSC escape sequences (which
could retitle the terminal, move the cursor or write hyperlinks), NUL bytes and
other control characters.  :func:`clean` removes escape sequences and replaces
control characters with visible placeholders; :func:`for_markup` additionally
escapes Rich markup for places that interpret it.  Newlines and tabs survive.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), DCS/SOS/PM/APC strings,
# two-character escapes, and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]                     # CSI
    | (?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c|$)           # OSC
    | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c|$)  # DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]?                                   # other escapes (or a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
# C0/C1 controls, and the bidi overrides/isolates that can reorder what a reader sees.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    ch = match.group(0)
    if ch == "\x00":
        return "\u2400"  # ␀
    if ch == "\r":
        return ""
    return "\ufffd"


def clean(text: str | None) -> str:
    """Strip escape sequences; show NUL as ␀ and other controls as �."""
    if not text:
        return ""
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub(_visible, text)


def for_markup(text: str | None) -> str:
    """:func:`clean`, then escape Rich markup so ``[tags]`` print literally."""
    from rich.markup import escape

    return escape(clean(text))


def truncate_line(line: str, limit: int = 2000) -> str:
    """Cut a pathological single line for list views (full text stays available)."""
    if len(line) <= limit:
        return line
    return line[:limit] + f"… (+{len(line) - limit:,} chars)"
