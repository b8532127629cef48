"""Is an extracted math answer equal to the reference?

Two tiers.  :func:`fast_compare` settles most pairs in microseconds: equal
after normalisation (spaces, ``$``, ``\\left``/``\\right``, ``\\dfrac``, thin
spaces, ``{,}`` thousands separators, degree and percent signs, a trailing
``\\text{unit}``), or both plain numbers (integers, decimals, ``a/b``,
``\\frac{a}{b}``, mixed numbers ``1\\frac{1}{4}``, thousands separators)
compared exactly; a decimal must be the rounding of the other value at its
own precision and within the paper's relative tolerance 1e-4; or both
closed-form constants (roots, powers, pi; :mod:`pathscope.verify.latex_number`)
whose values agree to 1e-9; or intervals, tuples and sets of such numbers,
compared element by element; or expressions in the same single-letter
variables, compared at three fixed points.  Everything else goes to
``math-verify`` (:func:`math_verify_compare`), which understands LaTeX,
intervals, sets, matrices and symbolic equality, and which the caller runs in
worker processes (:mod:`pathscope.verify.pool`): its ``signal.alarm`` timeouts
work only on a process's main thread.
"""

from __future__ import annotations

import re
from fractions import Fraction

from .latex_number import function_values, latex_value, structure, structures_equal, values_equal

REL_TOL = Fraction(1, 10**4)

_TEXT_UNIT = re.compile(r"\\(?:text|mbox|mathrm)\{\s*[A-Za-z][A-Za-z .]*\}\s*$")
_TEXT_WRAP = re.compile(r"^\\(?:text|textbf|mathrm|mbox)\{(.*)\}$")
_SIMPLE = [
    ("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\:", ""), ("\\ ", ""),
    ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("{,}", ""), ("^\\circ", ""), ("^{\\circ}", ""),
    ("\\%", ""), ("%", ""), ("\\$", ""), ("$", ""), ("\\displaystyle", ""),
]


def normalize(ans: str) -> str:
    """A canonical string for exact comparison (not a parser)."""
    s = ans.strip()
    m = _TEXT_WRAP.match(s)
    if m:
        s = m.group(1)
    for a, b in _SIMPLE:
        s = s.replace(a, b)
    s = _TEXT_UNIT.sub("", s) if not _TEXT_WRAP.match(s) else s
    s = re.sub(r"\s+", "", s)
    s = s.rstrip(".")
    return s


_INT = r"[+-]?\d+"
_NUM_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# \frac{12}{5} or the brace-less \frac35 (one digit per argument, as in LaTeX)
_ARG = r"(?:\{(\d+)\}|(\d))"
_FRAC_RE = re.compile(r"^([+-]?)\\frac" + _ARG + _ARG + "$")
_MIXED_RE = re.compile(r"^([+-]?)(\d+)\\frac" + _ARG + _ARG + "$")
_SLASH_RE = re.compile(r"^([+-]?\d+)/(\d+)$")


def as_number(s: str) -> Fraction | None:
    """The value of a normalised plain number, exactly; None if it is not one."""
    if _NUM_RE.match(s):
        return Fraction(s)
    if _THOUSANDS_RE.match(s):
        return Fraction(s.replace(",", ""))
    m = _FRAC_RE.match(s)
    if m:
        num, den = int(m.group(2) or m.group(3)), int(m.group(4) or m.group(5))
        if den:
            v = Fraction(num, den)
            return -v if m.group(1) == "-" else v
    m = _MIXED_RE.match(s)
    if m:
        num, den = int(m.group(3) or m.group(4)), int(m.group(5) or m.group(6))
        if den:
            v = int(m.group(2)) + Fraction(num, den)
            return -v if m.group(1) == "-" else v
    m = _SLASH_RE.match(s)
    if m and int(m.group(2)) != 0:
        return Fraction(int(m.group(1)), int(m.group(2)))
    return None


def _decimals(s: str) -> int | None:
    """Digits after the point of a written decimal; None for an exact value."""
    if "." not in s:
        return None
    return len(s.split(".", 1)[1].rstrip())


def numbers_close(a: Fraction, b: Fraction, decimals: int | None = None) -> bool:
    """Equal; or, when a side was written as a decimal with ``decimals``
    digits, that decimal is the rounding of the other value at its own
    precision *and* within the paper's relative tolerance 1e-4.  So 0.3333
    matches 1/3, while 0.33 and 9999.857142857143 (for 10000) do not."""
    if a == b:
        return True
    if decimals is None:
        return False
    diff = abs(a - b)
    return diff <= Fraction(1, 2 * 10**decimals) * (1 + Fraction(1, 10**9)) and diff <= REL_TOL * max(abs(a), abs(b))


def fast_compare(pred: str, ref: str) -> tuple[bool, str] | None:
    """(correct, how) when the pair can be settled without math-verify, else None."""
    p, r = normalize(pred), normalize(ref)
    if p == r and p:
        return True, "string"
    pn, rn = as_number(p), as_number(r)
    if pn is not None and rn is not None:
        # Integers and fractions are exact: 9999 6/7 is not 10000.  A decimal
        # may be a rounding: the coarser precision of the two sides applies.
        digits = [d for d in (_decimals(p), _decimals(r)) if d is not None]
        return numbers_close(pn, rn, min(digits) if digits else None), "number"
    pv, rv = latex_value(p), latex_value(r)
    if pv is not None and rv is not None:
        digits = [d for d in (_decimals(p), _decimals(r)) if d is not None and _NUM_RE.match(p if d == _decimals(p) else r)]
        if digits:
            # a decimal against a closed form (3.1416 vs \pi): the rounding rule
            diff = abs(pv - rv)
            ok = diff <= 0.5 * 10 ** -min(digits) * (1 + 1e-9) and diff <= float(REL_TOL) * max(abs(pv), abs(rv))
            return ok, "value"
        return values_equal(pv, rv), "value"
    ps, rs = structure(p), structure(r)
    if ps is not None and rs is not None:
        return structures_equal(ps, rs), "structure"
    pf, rf = function_values(p), function_values(r)
    if pf is not None and rf is not None and pf[0] == rf[0] and pf[0]:
        return all(values_equal(x, y) for x, y in zip(pf[1], rf[1])), "function"
    return None


def _boxed(s: str) -> str:
    return "\\boxed{" + s + "}"


def math_verify_compare(pred: str, ref: str, timeout_s: int = 5) -> tuple[str, str]:
    """(status, detail) from math-verify; call in a process's main thread."""
    from math_verify import parse, verify

    gold = parse(_boxed(ref), parsing_timeout=timeout_s)
    if not gold:
        gold = parse("$" + ref + "$", parsing_timeout=timeout_s)
    if not gold:
        return "error", "math-verify could not parse the reference answer"
    target = parse(_boxed(pred), parsing_timeout=timeout_s)
    if not target:
        return "fail", "math-verify could not parse the answer"
    ok = verify(gold, target, timeout_seconds=timeout_s)
    return ("pass" if ok else "fail"), "math-verify"


def grade_pair(pred: str, ref: str, timeout_s: int = 5) -> tuple[str, str]:
    """Both tiers in one call (the naive path; used by workers and tests)."""
    fast = fast_compare(pred, ref)
    if fast is not None:
        return ("pass" if fast[0] else "fail"), f"fast:{fast[1]}"
    return math_verify_compare(pred, ref, timeout_s)
