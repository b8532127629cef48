"""kill -9 the TUI mid-review: every mark the screen said was saved is in the run.

The real ``pathscope open`` runs in tmux; the test presses review keys, reads
the pane to learn which marks the status line confirmed ("✓ saved: TARGET →
LABEL (#id …)"), presses a few more keys without waiting, and kills the
process with SIGKILL.  A fresh process then opens the run: every confirmed
mark must be there with its label, and the run must open normally.  Three
rounds, each resuming the review where the last one stopped.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from fault_helpers import wait_for

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

_SAVED = re.compile(r"saved: (\S+) → (.+?)\s+\(#(\d+),")


class Tmux:
    """One private tmux server (its own socket) running one command."""

    def __init__(self, name: str, width: int = 200, height: int = 50):
        self.sock = f"pathscope-fault-{os.getpid()}-{name}"
        self.name = name
        self.size = (width, height)

    def _tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {args}: {proc.stderr}")
        return proc.stdout

    def start(self, command: str, env: dict) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(self.size[0]), "-y", str(self.size[1]),
                   f"exec env {exports} {command}")

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name, check=False)

    def keys(self, *keys: str) -> None:
        for k in keys:
            self._tmux("send-keys", "-t", self.name, k)

    def kill_server(self) -> None:
        self._tmux("kill-server", check=False)


def _saved_id(screen: str):
    m = _SAVED.search(screen)
    return (m.group(1), m.group(2), int(m.group(3))) if m else None


@pytest.fixture
def review_run(tmp_path, tmp_path_factory):
    import review_data

    return review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)


def test_kill_tui_mid_review_keeps_every_saved_mark(review_run, tmp_path):
    from pathscope import open_run
    from pathscope.review import LABEL_TEXT
    from pathscope.store import annotations as ann

    text_to_label = {v: k for k, v in LABEL_TEXT.items()}
    rng = random.Random(20261122)
    confirmed: dict[int, tuple[str, str]] = {}  # annotation id -> (target, label)
    cmd = f"{sys.executable} -m pathscope.cli open {review_run} --reviewer alice"
    env = {"TEXTUAL_ANIMATIONS": "none", "TERM": "xterm-256color", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    for round_no in range(3):
        tmux = Tmux(f"r{round_no}")
        try:
            tmux.start(cmd, env)
            pid = tmux.pid()
            wait_for(lambda: "pass@" in tmux.screen() or "coverage" in tmux.screen(), timeout=120, what="the overview")
            tmux.keys("r")
            wait_for(lambda: "reviewed" in tmux.screen(), timeout=60, what="review mode")
            if round_no:
                tmux.keys("g")  # resume at the first item not yet reviewed
                time.sleep(0.5)
            last = _saved_id(tmux.screen())
            for _ in range(rng.randint(3, 5)):
                key = rng.choice("ynu")
                tmux.keys(key)
                prev = last[2] if last else 0
                last = wait_for(lambda: (s := _saved_id(tmux.screen())) and s[2] > prev and s, timeout=60, what=f"'{key}' saved")
                confirmed[last[2]] = (last[0], text_to_label[last[1]])
            # Keys the app may or may not get to save, then SIGKILL with no warning.
            tmux.keys(*rng.choices("ynu", k=rng.randint(1, 3)))
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not _alive(pid), timeout=30, what="the TUI to die")
        finally:
            tmux.kill_server()
        # The kernel drops the dead process's file lock once its last thread is gone.
        wait_for(lambda: _unlocked(review_run), timeout=60, what="the dead TUI's lock to go")
        with open_run(review_run, read_only=True) as run:
            rows = run.con.execute("SELECT annotation_id, target_id, label FROM annotations WHERE reviewer = 'alice'").fetchall()
            df = ann.current_marks(run, reviewer="alice")
            current = dict(zip(df["target_id"], df["label"]))
        stored = {r[0]: (r[1], r[2]) for r in rows}
        # Every row the screen confirmed is stored exactly as confirmed...
        missing = {i: c for i, c in confirmed.items() if stored.get(i) != c}
        assert not missing, f"round {round_no}: confirmed marks lost after kill -9: {missing}"
        # ...and is the current mark unless a later key (a higher id) replaced it.
        for i, (target, label) in confirmed.items():
            latest = max(j for j, (t, _) in stored.items() if t == target)
            assert latest > i or current[target] == label, (round_no, target, label, current.get(target))
    assert len(confirmed) >= 9


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of tmux counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _unlocked(path) -> bool:
    from pathscope import open_run
    from pathscope.errors import RunLockedError

    try:
        open_run(path, read_only=True).close()
    except RunLockedError:
        return False
    return True
