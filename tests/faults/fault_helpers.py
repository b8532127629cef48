"""Shared helpers of the fault suites: real subprocesses, generous timeouts.

The suites run on small shared machines, so every wait is bounded but long,
and polls the condition instead of sleeping a fixed time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def pathscope_cmd() -> list[str]:
    """The CLI as a subprocess, from this interpreter's environment."""
    return [sys.executable, "-m", "pathscope.cli"]


def run_cli(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, **(env or {}))
    full_env.setdefault("HF_HUB_OFFLINE", "1")
    full_env["NO_COLOR"] = "1"
    full_env["COLUMNS"] = "200"
    return subprocess.run([*pathscope_cmd(), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full_env)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """A user error: non-zero exit, one `error: ...` line on stderr, no traceback."""
    assert proc.returncode != 0, f"expected failure, got rc=0\nstdout={proc.stdout}\nstderr={proc.stderr}"
    err = proc.stderr
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    error_lines = [ln for ln in lines if ln.startswith("error:")]
    assert len(error_lines) == 1, f"expected one 'error:' line, got:\n{err}"
    for needle in needles:
        assert needle in error_lines[0], f"{needle!r} not in {error_lines[0]!r}"
    return error_lines[0]


def wait_for(predicate, timeout: float = 60, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
