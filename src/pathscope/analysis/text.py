"""Find the reasoning inside a stored response and split it into steps.

Everything here works on character spans into the stored text, so the run can
keep steps as ``(start, end)`` offsets instead of a second copy of every CoT.
The splitting is deterministic (pure regular expressions, no model): two
identical CoTs always give identical steps, which the step tree relies on.
"""

from __future__ import annotations

import re

# Chat-template debris a response may start or end with.  (Patterns used with
# ``match(text, pos)`` carry no ``^``: it would anchor at 0, not at ``pos``.)
_LEAD_MARKERS = re.compile(
    r"(?:\s*(?:<\|im_start\|>\s*assistant|<\|start_header_id\|>\s*assistant\s*<\|end_header_id\|>|"
    r"<\|assistant\|>|\[/INST\]|assistant:|assistant\n))+",
    re.IGNORECASE,
)
_TRAIL_MARKERS = re.compile(r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|</s>|<\|end\|>))+\s*$")
# The qwen-boxed instruction and its common variants, when echoed.
_INSTRUCTION = re.compile(
    r"\s*Please reason step by step,? and put your final answer within \\boxed\{\}\.?\s*", re.IGNORECASE
)

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A line that starts a new step inside a paragraph: "1.", "2)", "Step 3:", "**Step 4", "### ...".
_STEP_START = re.compile(r"^[ \t]*(?:\d{1,2}[.)][ \t]|\*\*\s*Step\b|Step[ \t]+\d+|#{1,6}[ \t])", re.MULTILINE | re.IGNORECASE)
# A paragraph that is only display math belongs to the sentence that introduced it.
_DISPLAY_MATH = re.compile(r"\s*(?:\\\[|\$\$|\\begin\{)")
# Inline and display math, which a sentence split must not cut through.
_MATH = re.compile(r"\\\[.*?\\\]|\$\$.*?\$\$|\\\(.*?\\\)|\$[^$\n]+\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\\(\[])")


def reasoning_span(text: str, prompt: str | None = None) -> tuple[int, int]:
    """The span of ``text`` that is the model's reasoning: without an echoed
    prompt, chat-template markers or end-of-text tokens around it."""
    start, end = 0, len(text)
    m = _TRAIL_MARKERS.search(text)
    if m:
        end = m.start()
    # Echoed prompt (some importers keep prompt + response in one field).
    if prompt:
        p = prompt.strip()
        lead = len(text) - len(text.lstrip())
        if p and text.startswith(p, lead):
            start = lead + len(p)
    rest = text[start:end]
    m = _LEAD_MARKERS.match(rest)
    if m:
        start += m.end()
    m = _INSTRUCTION.match(text, start, end) if start < end else None
    if m:
        start = m.end()
    m = _LEAD_MARKERS.match(text, start, end) if start < end else None
    if m:
        start = m.end()
    # Trim whitespace at both ends.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def reasoning_text(text: str, prompt: str | None = None) -> str:
    s, e = reasoning_span(text, prompt)
    return text[s:e]


def _trimmed(text: str, s: int, e: int) -> tuple[int, int] | None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if e > s else None


def _split_at(text: str, s: int, e: int, cuts: list[int]) -> list[tuple[int, int]]:
    out = []
    bounds = [s] + [c for c in cuts if s < c < e] + [e]
    for a, b in zip(bounds, bounds[1:]):
        t = _trimmed(text, a, b)
        if t:
            out.append(t)
    return out


def _sentences(text: str, s: int, e: int, max_chars: int) -> list[tuple[int, int]]:
    """Split a long paragraph at sentence ends outside math, then pack the
    sentences greedily into pieces of about ``max_chars / 2`` or more."""
    protected = [(m.start(), m.end()) for m in _MATH.finditer(text, s, e)]

    def inside(pos: int) -> bool:
        return any(a < pos < b for a, b in protected)

    cuts = [m.end() for m in _SENTENCE_END.finditer(text, s, e) if not inside(m.start())]
    sentences = _split_at(text, s, e, cuts)
    packed: list[tuple[int, int]] = []
    for a, b in sentences:
        if packed and packed[-1][1] - packed[-1][0] < max_chars // 2:
            packed[-1] = (packed[-1][0], b)
        else:
            packed.append((a, b))
    return packed


def split_steps(
    text: str,
    span: tuple[int, int] | None = None,
    *,
    max_chars: int = 600,
    min_chars: int = 24,
) -> list[tuple[int, int]]:
    """Split the reasoning into steps, as ``(start, end)`` offsets into ``text``.

    Steps are paragraphs; a paragraph with numbered lines ("1.", "Step 2:")
    splits at each; a paragraph that is only display math, or shorter than
    ``min_chars``, joins the step before it (an equation belongs to the
    sentence that introduced it); a paragraph longer than ``max_chars`` splits
    at sentence ends outside math.
    """
    s0, e0 = span if span is not None else (0, len(text))
    blocks: list[tuple[int, int]] = []
    pos = s0
    for m in _PARAGRAPH_BREAK.finditer(text, s0, e0):
        blocks.extend(_split_at(text, pos, m.start(), []))
        pos = m.end()
    blocks.extend(_split_at(text, pos, e0, []))

    pieces: list[tuple[int, int]] = []
    for a, b in blocks:
        starts = [m.start() for m in _STEP_START.finditer(text, a, b)]
        pieces.extend(_split_at(text, a, b, starts))

    steps: list[tuple[int, int]] = []
    for a, b in pieces:
        joins = steps and (_DISPLAY_MATH.match(text, a, b) or b - a < min_chars)
        if joins:
            steps[-1] = (steps[-1][0], b)
        else:
            steps.append((a, b))
    # A too-short first step joins the one after it.
    if len(steps) > 1 and steps[0][1] - steps[0][0] < min_chars:
        steps[1] = (steps[0][0], steps[1][1])
        del steps[0]

    out: list[tuple[int, int]] = []
    for a, b in steps:
        if b - a > max_chars and not _DISPLAY_MATH.match(text, a, b):
            out.extend(_sentences(text, a, b, max_chars))
        else:
            out.append((a, b))
    return out


def step_texts(text: str, prompt: str | None = None, **kwargs) -> list[str]:
    """Convenience: the step strings of one response."""
    span = reasoning_span(text, prompt)
    return [text[a:b] for a, b in split_steps(text, span, **kwargs)]
