"""Finding the final answer in a response (math, multiple choice, code).

Math follows the paper's grader: the last ``\\boxed{...}`` (nested braces kept,
``\\fbox`` too; :func:`pathscope.answers.last_boxed`), then the GSM8K marker
``#### 42``, then "The (final) answer is …", then an "Answer: …" line.  The
explicit markers are preferred over any guess: a response with none of them
has no answer (status ``no_answer``) rather than whatever number came last.
"""

from __future__ import annotations

import re

from ..answers import last_boxed

_HASHES = re.compile(r"####\s*([^\n]+)")
_ANSWER_IS = re.compile(r"(?i)\bthe\s+(?:final\s+)?answer\s+is\s*:?\s*([^\n]+)")
_ANSWER_LINE = re.compile(r"(?im)^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*:\s*(?:\*\*)?\s*([^\n]+)")
_CODE_BLOCK = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)```", re.DOTALL)


def _tidy(ans: str) -> str | None:
    """Trim a free-text answer: math delimiters, trailing sentence punctuation."""
    s = ans.strip()
    boxed = last_boxed(s)
    if boxed is not None:
        return boxed or None
    # "$\frac{1}{2}$." -> "\frac{1}{2}"; "\(x\)" -> "x"
    m = re.match(r"^\$+(.+?)\$+", s) or re.match(r"^\\\((.+?)\\\)", s) or re.match(r"^\\\[(.+?)\\\]", s)
    if m:
        s = m.group(1)
    s = s.strip().rstrip(".。").strip()
    s = s.strip("*").strip()
    return s or None


def _quick_last_boxed(text: str) -> str | None:
    """The common case fast: the last box command is complete and braced.
    Anything unusual (``\\boxed 5``, an unclosed last box, an escaped brace)
    defers to :func:`pathscope.answers.last_boxed`, which defines the rule."""
    pos = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if pos < 0:
        return None
    name_end = pos + (6 if text.startswith("\\boxed", pos) else 5)
    start = text.find("{", name_end)
    if start < 0 or text[name_end:start].strip(" \t") != "":
        return last_boxed(text)
    depth = 0
    n = len(text)
    j = start
    while j < n:
        ch = text[j]
        if ch == "\\" and j + 1 < n and text[j + 1] in "{}":
            return last_boxed(text)
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : j].strip()
        j += 1
    return last_boxed(text)


def extract_math(text: str | None) -> tuple[str | None, str]:
    """(answer, how) where ``how`` is boxed | hashes | answer_is | answer_line | none."""
    if not text:
        return None, "none"
    boxed = _quick_last_boxed(text)
    if boxed is not None and boxed != "":
        return boxed, "boxed"
    for how, pattern in (("hashes", _HASHES), ("answer_is", _ANSWER_IS), ("answer_line", _ANSWER_LINE)):
        matches = pattern.findall(text)
        if matches:
            ans = _tidy(matches[-1])
            if ans:
                return ans, how
    return None, "none"


_LETTER_PATTERNS = [
    re.compile(r"(?i)\banswer\s+is\s*:?\s*\(?\**\s*\(?([A-J])\)?(?![A-Za-z])"),
    re.compile(r"(?im)^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*:\s*(?:\*\*)?\s*\(?([A-J])\)?(?![A-Za-z])"),
    re.compile(r"(?i)(?:^|\s)\(([A-J])\)(?:\s|\.|$)"),
]


def extract_choice(text: str | None) -> tuple[str | None, str]:
    """The chosen option: a boxed letter or text, "the answer is (B)",
    "Answer: B", else the last parenthesised option letter.  Returns
    (letter or free text, how)."""
    if not text:
        return None, "none"
    boxed = last_boxed(text)
    if boxed:
        inner = re.sub(r"\\text\{(.*)\}", r"\1", boxed).strip().strip("()").strip()
        return inner, "boxed"
    for how, pattern in zip(("answer_is", "answer_line", "last_option"), _LETTER_PATTERNS):
        matches = pattern.findall(text)
        if matches:
            return matches[-1].upper(), how
    return None, "none"


def extract_code(text: str | None, language: str = "python") -> tuple[str | None, str]:
    """The program: the last fenced block tagged ``language`` (or ``py``),
    else the last untagged fenced block.  None when the response has no block."""
    if not text:
        return None, "none"
    blocks = _CODE_BLOCK.findall(text)
    wanted = {language.lower(), "py"} if language == "python" else {language.lower()}
    tagged = [body for tag, body in blocks if tag.lower() in wanted]
    if tagged:
        return tagged[-1], "fenced"
    untagged = [body for tag, body in blocks if not tag]
    if untagged:
        return untagged[-1], "fenced_untagged"
    return None, "none"
