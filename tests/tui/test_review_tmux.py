"""End to end in a real terminal: ``pathscope open`` runs in tmux, keys are
sent to it and the pane is read back.

- kill -9: every mark the pane showed as saved is in the run after the
  process is killed without any chance to clean up.
- a whole short review session: marks, a note, an undo, a cluster, quit,
  reopen and resume where the reviewer left off.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

import review_data
from pathscope import open_run
from pathscope.store import annotations as ann

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

N_ITEMS = len(review_data.PROBLEMS) * (review_data.N - len(review_data.RL_WRONG))
WAIT = 60.0  # seconds; generous for a loaded machine


class Tmux:
    """One private tmux server (its own socket) with one session."""

    def __init__(self, tmp_path):
        self.socket = f"pathscope-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.session = "ps"
        self.tmp_path = tmp_path

    def _tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, run_path, reviewer: str) -> int:
        env = {
            "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none", "XDG_CONFIG_HOME": str(self.tmp_path / "xdg"),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "HF_HUB_OFFLINE": "1",
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        cmd = (f"cd {shlex.quote(str(self.tmp_path))} && exec env {exports} {shlex.quote(sys.executable)} "
               f"-m pathscope.cli open {shlex.quote(str(run_path))} --reviewer {shlex.quote(reviewer)}")
        if self.alive():
            raise RuntimeError("a session is already running")
        self._tmux("new-session", "-d", "-s", self.session, "-x", "160", "-y", "45", cmd)
        # without an attached client tmux may keep its default 80x24: fix the size
        self._tmux("resize-window", "-t", self.session, "-x", "160", "-y", "45", check=False)
        return int(self._tmux("display-message", "-p", "-t", self.session, "#{pane_pid}").strip())

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.session],
                              capture_output=True).returncode == 0

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session, check=False)

    def keys(self, *keys: str) -> None:
        for k in keys:
            self._tmux("send-keys", "-t", self.session, k)
            time.sleep(0.15)

    def text(self, s: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", s)

    def wait_for(self, *needles: str, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if all(n in shown for n in needles):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"pane never showed {needles!r}; last screen:\n{shown}")

    def wait_gone(self, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.2)
        raise AssertionError(f"the app did not exit; last screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.close()


@pytest.fixture
def review_run(tmp_path, tmp_path_factory):
    return review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)


def _current(path, reviewer="alice") -> dict[tuple[str, str], tuple[str, str | None]]:
    with open_run(path, create=False) as run:  # read-write: replays the WAL a killed process left
        df = ann.current_marks(run, reviewer=reviewer)
        return {(k, t): (lab, note if isinstance(note, str) else None)
                for k, t, lab, note in zip(df["target_kind"], df["target_id"], df["label"], df["note"])}


def test_kill_9_loses_no_saved_mark(tmux, review_run):
    pid = tmux.start(review_run, "alice")
    tmux.wait_for("pathscope", "? help")  # drawn, footer keys live
    tmux.keys("r")
    tmux.wait_for(f"0/{N_ITEMS} reviewed")
    expected = {}
    for key, target, label in [("y", "rl/p1/1", "already in base"), ("n", "rl/p1/2", "novel"),
                               ("u", "rl/p1/3", "unsure"), ("n", "rl/p1/4", "novel"), ("y", "rl/p1/5", "already in base")]:
        tmux.keys(key)
        tmux.wait_for(f"saved: {target} → {label}")
        expected[("sample", target)] = label.replace(" ", "_")
    tmux.wait_for(f"{len(expected)}/{N_ITEMS} reviewed")
    os.kill(pid, signal.SIGKILL)  # no cleanup, no checkpoint, no goodbye
    tmux.wait_gone()
    got = _current(review_run)
    assert {k: v[0] for k, v in got.items()} == expected


def test_whole_review_session_then_resume(tmux, review_run):
    tmux.start(review_run, "alice")
    tmux.wait_for("pathscope", "? help")  # drawn, footer keys live
    tmux.keys("r")
    tmux.wait_for(f"0/{N_ITEMS} reviewed", "item 1 of")
    tmux.keys("y")
    tmux.wait_for("saved: rl/p1/1 → already in base")
    tmux.keys("n")
    tmux.wait_for("saved: rl/p1/2 → novel")
    tmux.keys("c")
    tmux.wait_for("Note on rl/p1/3")
    tmux.text("looks like base #2")
    tmux.keys("Enter")
    tmux.wait_for("saved note: rl/p1/3")
    tmux.keys("u")
    tmux.wait_for("saved: rl/p1/3 → unsure", "note: looks like base #2")
    tmux.keys("n")
    tmux.wait_for("saved: rl/p1/4 → novel")
    tmux.keys("z")  # undo the last mark: back to rl/p1/4, unmarked
    tmux.wait_for("undone, saved: rl/p1/4 → not reviewed", f"3/{N_ITEMS} reviewed", "item 4 of")
    tmux.keys("space", "j", "k")
    tmux.wait_for("item 5 of")
    tmux.keys("m")  # the clusters queue
    tmux.wait_for("RL strategy clusters", f"0/{2 * len(review_data.PROBLEMS)} reviewed")
    tmux.keys("j", "n")
    tmux.wait_for("saved: p1/1 → novel")
    tmux.keys("q")
    tmux.wait_gone()

    marks = _current(review_run)
    assert marks == {
        ("sample", "rl/p1/1"): ("already_in_base", None),
        ("sample", "rl/p1/2"): ("novel", None),
        ("sample", "rl/p1/3"): ("unsure", "looks like base #2"),
        ("sample", "rl/p1/4"): ("cleared", None),
        ("cluster", "p1/1"): ("novel", None),
    }

    # reopen: the review resumes at the first item alice has not marked (rl/p1/4)
    tmux.start(review_run, "alice")
    tmux.wait_for("pathscope", "? help")  # drawn, footer keys live
    tmux.keys("r")
    shown = tmux.wait_for(f"3/{N_ITEMS} reviewed", "item 4 of", "RL sample #4")
    assert "not reviewed" in shown
    tmux.keys("k")
    tmux.wait_for("RL sample #3", "unsure", "note: looks like base #2")
    tmux.keys("q")
    tmux.wait_gone()


def test_marks_typed_just_before_quit_are_kept(tmux, review_run):
    """`y n u q` in one burst: the app quits only after the three writes landed."""
    tmux.start(review_run, "alice")
    tmux.wait_for("pathscope", "? help")
    tmux.keys("r")
    tmux.wait_for(f"0/{N_ITEMS} reviewed")
    tmux._tmux("send-keys", "-t", tmux.session, "y", "n", "u", "q")
    tmux.wait_gone()
    assert {k: v[0] for k, v in _current(review_run).items()} == {
        ("sample", "rl/p1/1"): "already_in_base", ("sample", "rl/p1/2"): "novel", ("sample", "rl/p1/3"): "unsure"}
