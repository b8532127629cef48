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
    def __init__(self, s: str):
        self.s = s
        self.i = 0

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
            elif c and (c.isdigit() or c in "({." or cmd in ("\\frac", "\\dfrac", "\\tfrac", "\\sqrt", "\\pi", "\\left")):
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
        raise _GiveUp


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
