"""Code grading: run the extracted program against the problem's tests.

A code problem's ``tests`` (JSON) is one of:

- a list of stdin/stdout cases: ``[{"input": "1 2\\n", "output": "3\\n"}, ...]``;
- an object with any of
  ``"cases"`` (that list), ``"inputs"``/``"outputs"`` (parallel lists, the
  APPS/TACO layout), ``"code"`` (assert-style Python run after the program,
  e.g. ``"assert add(1, 2) == 3"``), and ``"limits"`` (overrides of
  :class:`~pathscope.verify.sandbox.Limits`, e.g. ``{"cpu_s": 2}``).

A case passes when stdout equals the expected output after trailing
whitespace is removed from every line and trailing blank lines are dropped.
The ``code`` test passes when the program followed by the test code exits 0.
Grading stops at the first case that does not pass.  Verdict statuses: pass,
fail (wrong output or a failed assert), timeout, error (runtime error, memory,
output or process limit: the detail says which), no_answer (no code block).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from ..errors import PathscopeError
from .extract import extract_code
from .sandbox import Limits, run_python


def parse_tests(raw: str | None, problem_id: str = "?") -> tuple[list[tuple[str, str]], str | None, dict]:
    """(cases, test_code, limit overrides) from a problem's ``tests`` JSON."""
    if raw is None or raw == "":
        raise PathscopeError(f"problem {problem_id}: field 'tests' is empty; a code problem needs tests.")
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise PathscopeError(f"problem {problem_id}: field 'tests' is not JSON ({exc}).") from None
    if isinstance(data, str):
        return [], data, {}
    if isinstance(data, list):
        data = {"cases": data}
    if not isinstance(data, dict):
        raise PathscopeError(f"problem {problem_id}: field 'tests' must be a list of cases or an object.")
    cases = []
    for i, case in enumerate(data.get("cases") or []):
        if not isinstance(case, dict) or "output" not in case:
            raise PathscopeError(f"problem {problem_id}: tests case {i} needs 'input' and 'output'.")
        cases.append((str(case.get("input", "")), str(case["output"])))
    ins, outs = data.get("inputs"), data.get("outputs")
    if ins is not None or outs is not None:
        if not isinstance(ins, list) or not isinstance(outs, list) or len(ins) != len(outs):
            raise PathscopeError(f"problem {problem_id}: tests 'inputs' and 'outputs' must be lists of equal length.")
        cases += [(str(a), str(b)) for a, b in zip(ins, outs)]
    code = data.get("code")
    if not cases and not code:
        raise PathscopeError(f"problem {problem_id}: field 'tests' holds no cases and no test code.")
    return cases, code, data.get("limits") or {}


def _norm_output(s: str) -> str:
    lines = [ln.rstrip() for ln in s.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _short(s: str, n: int = 60) -> str:
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + "…"


def _failure_status(status: str) -> str:
    return "timeout" if status == "timeout" else "error"


def grade_program(code: str, cases, test_code: str | None, limits: Limits) -> tuple[str, str]:
    """(status, detail) of one program against its tests."""
    for i, (stdin, expected) in enumerate(cases, 1):
        res = run_python(code, stdin, limits)
        if res.status != "ok":
            return _failure_status(res.status), f"case {i}/{len(cases)}: {res.detail}"
        if _norm_output(res.stdout) != _norm_output(expected):
            return "fail", f"case {i}/{len(cases)}: expected {_short(_norm_output(expected))!r}, got {_short(_norm_output(res.stdout))!r}"
    if test_code:
        res = run_python(code + "\n\n" + test_code + "\n", "", limits)
        if res.status != "ok":
            if res.status == "error" and "AssertionError" in res.stderr:
                return "fail", f"test code: {res.detail}"
            return _failure_status(res.status), f"test code: {res.detail}"
    parts = []
    if cases:
        parts.append(f"{len(cases)}/{len(cases)} cases passed")
    if test_code:
        parts.append("test code passed")
    return "pass", "; ".join(parts)


class CodeGrader:
    """Grades a batch of samples with ``workers`` sandboxes at a time (threads:
    the work happens in the sandboxed subprocesses).  Identical programs for
    the same problem run once."""

    def __init__(self, workers: int = 2, limits: dict | None = None):
        self.workers = max(1, int(workers))
        self.base = Limits.from_dict(limits)
        self.pool = ThreadPoolExecutor(self.workers)
        self.tests_cache: dict[str, tuple] = {}

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _tests(self, problem_id: str, raw: str | None):
        if problem_id not in self.tests_cache:
            cases, code, lim = parse_tests(raw, problem_id)
            self.tests_cache[problem_id] = (cases, code, Limits.from_dict(lim, self.base))
        return self.tests_cache[problem_id]

    def grade_batch(self, batch) -> list[tuple[str | None, str, str]]:
        texts = batch.column("text").to_pylist()
        pids = batch.column("problem_id").to_pylist()
        tests = batch.column("tests").to_pylist()
        programs = [extract_code(t)[0] for t in texts]
        jobs = {}
        for pid, raw, prog in zip(pids, tests, programs):
            if prog is None or (pid, prog) in jobs:
                continue
            cases, code, limits = self._tests(pid, raw)
            jobs[(pid, prog)] = self.pool.submit(grade_program, prog, cases, code, limits)
        out = []
        for pid, prog in zip(pids, programs):
            if prog is None:
                out.append((None, "no_answer", "no fenced code block in the response"))
                continue
            status, detail = jobs[(pid, prog)].result()
            out.append((prog, status, detail))
        return out
