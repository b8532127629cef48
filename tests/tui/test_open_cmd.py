"""`pathscope open`: bad files end in one sentence; a locked run opens as a
snapshot; the real app runs in a real terminal (tmux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .runs import build_run

HOLD_LOCK = """
import sys, time
from pathscope import open_run
run = open_run(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def _pathscope(*args, cwd=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "pathscope.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )


@pytest.fixture
def lock_holder(tmp_path):
    """Start a process that holds a run open for writing; yields (path, pid)."""
    path = build_run(tmp_path / "locked.duckdb")
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield path, proc.pid
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 10, b""])
def test_foreign_file_is_one_clear_error(tmp_path, content):
    bad = tmp_path / "notes.txt"
    bad.write_bytes(content)
    proc = _pathscope("open", str(bad))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "notes.txt" in lines[0], proc.stderr
    assert bad.read_bytes() == content  # untouched


def test_missing_file_and_bad_config(tmp_path):
    proc = _pathscope("open", str(tmp_path / "nope.duckdb"))
    assert proc.returncode == 1 and "no such run file" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "nope.duckdb").exists()
    run = build_run(tmp_path / "run.duckdb")
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[tui.keys]\n"app.nope" = "x"\n')
    proc = _pathscope("open", str(run), "--config", str(cfg))
    assert proc.returncode == 1 and "'app.nope' is not an action id" in proc.stderr and "Traceback" not in proc.stderr
    cfg.write_text('[tui]\ntheme = "no-such-theme"\n')
    proc = _pathscope("open", str(run), "--config", str(cfg))
    assert proc.returncode == 1 and "'no-such-theme' is not a theme" in proc.stderr and "Traceback" not in proc.stderr


def test_locked_run_opens_as_snapshot(lock_holder):
    from pathscope.commands.open_cmd import open_for_tui

    path, pid = lock_holder
    run, reason = open_for_tui(str(path))
    try:
        assert run.is_snapshot and run.read_only
        assert f"process {pid}" in reason
        assert run.one("SELECT count(*) FROM problems")[0] == 6
    finally:
        run.close()


def _pane(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _wait_for(session: str, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    pane = ""
    while time.monotonic() < deadline:
        pane = _pane(session)
        if text in pane:
            return pane
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; pane:\n{pane}")


def _wait_gone(session: str, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text not in _pane(session):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never went away")


@pytest.mark.tmux
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_tmux_end_to_end(tmp_path, lock_holder):
    """Start `pathscope open` in a real terminal, drive it with keys, read the screen."""
    run = build_run(tmp_path / "run.duckdb")
    session = f"pathscope-test-{os.getpid()}"
    env_cmd = f"cd {tmp_path} && TEXTUAL_ANIMATIONS=none {sys.executable} -m pathscope.cli open {run}; echo EXITED-$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", env_cmd], check=True)
    try:
        _wait_for(session, "coverage at k = n")
        _wait_for(session, "crossover")
        pane = _wait_for(session, "base-model")  # the models line fills in after the first frame
        subprocess.run(["tmux", "send-keys", "-t", session, "3"], check=True)  # RL-only problems
        pane = _wait_for(session, "1 of 6")  # the RL-only list has arrived
        assert "RL-only solved" in pane and "p02" in pane and "p01" not in pane
        subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        _wait_for(session, "reference answer")
        pane = _wait_for(session, "Therefore the answer is")
        assert "rl-model" in pane and "base-model" in pane
        subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
        _wait_for(session, "Help: every key and action")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        # A key right after Esc would read as Alt+key: wait until the help has closed.
        _wait_gone(session, "Help: every key and action")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        _wait_for(session, "EXITED-0")
        # A run that another process writes opens as a snapshot, and says so.
        locked, pid = lock_holder
        subprocess.run(["tmux", "kill-session", "-t", session], check=True)
        cmd = f"{sys.executable} -m pathscope.cli open {locked}; echo EXITED-$?; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40", cmd], check=True)
        pane = _wait_for(session, "READ-ONLY SNAPSHOT")
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        _wait_for(session, "EXITED-0")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
