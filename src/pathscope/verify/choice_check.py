"""Multiple-choice grading: option letters, or option text.

The reference (``problems.answer``) is a letter (``B``, ``(B)``) or the text of
the correct option.  ``problems.metadata`` may list the options as
``{"choices": ["3", "4", ...]}`` (A, B, … in order) or
``{"choices": {"A": "3", "B": "4"}}``; then a response that names the option by
its text instead of its letter is matched too.
"""

from __future__ import annotations

import json
import re
import string

from .extract import extract_choice
from .math_check import normalize

LETTERS = string.ascii_uppercase[:10]


def _options(metadata: str | None) -> dict[str, str]:
    if not metadata:
        return {}
    try:
        meta = json.loads(metadata)
    except (TypeError, ValueError):
        return {}
    choices = meta.get("choices") or meta.get("options") if isinstance(meta, dict) else None
    if isinstance(choices, list):
        return {LETTERS[i]: str(c) for i, c in enumerate(choices[: len(LETTERS)])}
    if isinstance(choices, dict):
        return {str(k).strip().upper(): str(v) for k, v in choices.items()}
    return {}


def _letter(s: str) -> str | None:
    m = re.fullmatch(r"\(?\s*([A-Ja-j])\s*\)?[.:]?", s.strip())
    return m.group(1).upper() if m else None


def _as_letter(s: str, options: dict[str, str]) -> str | None:
    letter = _letter(s)
    if letter:
        return letter
    # "(B) 42" or "B. 42"
    m = re.match(r"^\(?([A-J])[).:]\s+", s.strip())
    if m:
        return m.group(1)
    target = normalize(s).lower()
    for k, text in options.items():
        if normalize(text).lower() == target:
            return k
    return None


def grade_choice(text: str | None, reference: str, metadata: str | None = None) -> tuple[str | None, str, str]:
    """(extracted, status, detail) for one response."""
    options = _options(metadata)
    extracted, how = extract_choice(text)
    if extracted is None:
        return None, "no_answer", "no option chosen"
    ref_letter = _as_letter(reference, options)
    got = _as_letter(extracted, options)
    if ref_letter is not None and got is not None:
        ok = got == ref_letter
        return got, ("pass" if ok else "fail"), f"option {got} vs {ref_letter} ({how})"
    # no letters to compare: compare the texts
    ok = normalize(extracted).lower() == normalize(reference).lower()
    return extracted, ("pass" if ok else "fail"), f"text match ({how})"


def grade_choice_batch(batch) -> list[tuple[str | None, str, str]]:
    texts = batch.column("text").to_pylist()
    refs = batch.column("answer").to_pylist()
    metas = batch.column("metadata").to_pylist()
    return [grade_choice(t, r, m) for t, r, m in zip(texts, refs, metas)]
