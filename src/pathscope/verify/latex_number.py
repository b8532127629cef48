"""Evaluate a closed-form LaTeX number (``\\frac{\\sqrt{2}}{2}``, ``3\\sqrt{5}``,
``2\\pi``, ``2^{10}``) to a float, or give up.

The middle tier of math grading: most answers that are not plain numbers are
still constants built from integers, fractions, roots, powers and pi.  Two
such answers whose values agree to 1e-9 (relative) are the same number for
any grading purpose, and deciding that here costs microseconds instead of a
sympy call.  Anything else (a variable, a set, an interval, text, a huge
power) returns None and goes to math-verify.

A small recursive-descent parser; it never calls ``eval``.
"""

from __future__ import annotations

import math
import re

_MAX_EXP = 4096.0
_COMMANDS = {"\\frac", "\\dfrac", "\\tfrac", "\\sqrt", "\\pi", "\\cdot", "\\times", "\\div", "\\left", "\\right"}


class _GiveUp(Exception):
    pass


class _Parser:
    def __init__(self, s: str, env: dict[str, float] | None = None):
        self.s = s
        self.i = 0
        self.env = env  # single-letter variables -> values; None: no variables
        self.seen: set[str] = set()

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def command(self) -> str | None:
        """The LaTeX command at the cursor (e.g. ``\\frac``) without consuming it."""
        if self.peek() != "\\":
            return None
        j = self.i + 1
        while j < len(self.s) and self.s[j].isalpha():
            j += 1
        return self.s[self.i : j]

    def eat(self, text: str) -> bool:
        if self.s.startswith(text, self.i):
            self.i += len(text)
            return True
        return False

    def skip_sizing(self) -> None:
        while True:
            cmd = self.command()
            if cmd in ("\\left", "\\right"):
                self.i += len(cmd)
            else:
                return

    def expr(self) -> float:
        val = self.term()
        while True:
            self.skip_sizing()
            if self.eat("+"):
                val += self.term()
            elif self.eat("-"):
                val -= self.term()
            else:
                return val

    def term(self) -> float:
        val = self.factor()
        while True:
            self.skip_sizing()
            c = self.peek()
            cmd = self.command()
            if c == "*" or cmd in ("\\cdot", "\\times"):
                self.i += 1 if c == "*" else len(cmd)
                val *= self.factor()
            elif c == "/" or cmd == "\\div":
                self.i += 1 if c == "/" else len(cmd)
                d = self.factor()
                if d == 0:
                    raise _GiveUp
                val /= d
            elif c and (c.isdigit() or c in "({." or (self.env is not None and _is_var(c))
                        or cmd in ("\\frac", "\\dfrac", "\\tfrac", "\\sqrt", "\\pi", "\\left")):
                val *= self.factor()  # implicit product: 3\sqrt{5}, 2\pi, (1)(2)
            else:
                return val

    def factor(self) -> float:
        self.skip_sizing()
        if self.eat("-"):
            return -self.factor()
        if self.eat("+"):
            return self.factor()
        base = self.atom()
        if self.eat("^"):
            exp = self.group_or_char()
            if abs(exp) > _MAX_EXP or (base == 0 and exp < 0) or (base < 0 and exp != int(exp)):
                raise _GiveUp
            try:
                base = math.pow(base, exp)
            except (OverflowError, ValueError):
                raise _GiveUp from None
            if math.isinf(base):
                raise _GiveUp
        return base

    def group(self) -> float:
        if not self.eat("{"):
            raise _GiveUp
        val = self.expr()
        if not self.eat("}"):
            raise _GiveUp
        return val

    def group_or_char(self) -> float:
        """``{expr}`` or a single digit (``\\frac12``, ``x^2``)."""
        if self.peek() == "{":
            return self.group()
        c = self.peek()
        if c.isdigit():
            self.i += 1
            return float(c)
        if self.command() == "\\pi":
            self.i += 3
            return math.pi
        raise _GiveUp

    def number(self) -> float:
        j = self.i
        while j < len(self.s) and (self.s[j].isdigit() or self.s[j] == "."):
            j += 1
        text = self.s[self.i : j]
        if text.count(".") > 1 or text == ".":
            raise _GiveUp
        self.i = j
        return float(text)

    def atom(self) -> float:
        self.skip_sizing()
        c = self.peek()
        if c.isdigit() or c == ".":
            return self.number()
        if c == "(":
            self.i += 1
            val = self.expr()
            self.skip_sizing()
            if not self.eat(")"):
                raise _GiveUp
            return val
        if c == "{":
            return self.group()
        cmd = self.command()
        if cmd in ("\\frac", "\\dfrac", "\\tfrac"):
            self.i += len(cmd)
            num = self.group_or_char()
            den = self.group_or_char()
            if den == 0:
                raise _GiveUp
            return num / den
        if cmd == "\\sqrt":
            self.i += len(cmd)
            index = 2.0
            if self.eat("["):
                index = self.expr()
                if not self.eat("]") or index <= 0:
                    raise _GiveUp
            val = self.group_or_char()
            if val < 0:
                raise _GiveUp
            return val ** (1.0 / index)
        if cmd == "\\pi":
            self.i += len(cmd)
            return math.pi
        if self.env is not None and _is_var(c):
            self.i += 1
            self.seen.add(c)
            return self.env[c]
        raise _GiveUp


def _is_var(c: str) -> bool:
    # e and i are constants in answers, not variables: left to math-verify.
    return len(c) == 1 and c.isascii() and c.isalpha() and c not in "ei"


_MIXED = re.compile(r"\d\s*\\[dt]?frac")


def latex_value(s: str) -> float | None:
    """The value of a normalised closed-form LaTeX constant, or None.

    A number written right before a fraction (``12\\frac{3}{5}``) is a mixed
    number in competition answers, not a product: left to the other tiers."""
    if not s or len(s) > 200 or _MIXED.search(s):
        return None
    p = _Parser(s)
    try:
        val = p.expr()
    except (_GiveUp, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    if p.i != len(s) or math.isnan(val) or math.isinf(val):
        return None
    return val


def values_equal(a: float, b: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Equal up to float rounding of the evaluation."""
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_tol)


# -- expressions in variables: compare as functions at random points ---------------

_POINTS = [{c: 0.5 + ((k * 7919 + ord(c) * 104729) % 1000) / 613.0 for c in "abcdfghjklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"} for k in range(1, 4)]


def function_values(s: str) -> tuple[frozenset, list[float]] | None:
    """(variables, values at three fixed pseudo-random points) of an
    expression in single-letter variables, or None.  Two expressions in the
    same variables that agree at all three points are the same polynomial /
    rational function for any practical purpose (Schwartz-Zippel); one point
    of disagreement proves them different."""
    if not s or len(s) > 200 or _MIXED.search(s):
        return None
    values, seen = [], None
    for env in _POINTS:
        p = _Parser(s, env)
        try:
            val = p.expr()
        except (_GiveUp, ValueError, ZeroDivisionError, OverflowError, RecursionError):
            return None
        if p.i != len(s) or math.isnan(val) or math.isinf(val):
            return None
        values.append(val)
        seen = frozenset(p.seen)
    return seen, values


# -- intervals, tuples and sets of numbers ------------------------------------------

_INF = {"\\infty": math.inf, "+\\infty": math.inf, "-\\infty": -math.inf, "\\inf": math.inf, "-\\inf": -math.inf}


def _split_top(s: str) -> list[str] | None:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
            if depth < 0:
                return None
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def structure(s: str) -> tuple[str, list[float]] | None:
    """("(]", values) for an interval or tuple, ("set", sorted values) for a
    set, of closed-form numbers (and +-infinity); None otherwise."""
    if s.startswith("\\{") and s.endswith("\\}"):
        kind, inner = "set", s[2:-2]
    elif len(s) >= 2 and s[0] in "([" and s[-1] in ")]":
        kind, inner = s[0] + s[-1], s[1:-1]
    else:
        return None
    parts = _split_top(inner)
    if not parts or (kind != "set" and len(parts) < 2):
        return None
    vals = []
    for part in parts:
        part = part.strip()
        if part in _INF:
            vals.append(_INF[part])
            continue
        v = latex_value(part)
        if v is None:
            return None
        vals.append(v)
    return kind, (sorted(vals) if kind == "set" else vals)


def structures_equal(a: tuple[str, list[float]], b: tuple[str, list[float]]) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    return all(x == y or (math.isfinite(x) and math.isfinite(y) and values_equal(x, y)) for x, y in zip(a[1], b[1]))
