"""Two processes opening one run at once.

DuckDB lets one process write a file.  A second process (CLI or API) must get
one sentence naming the holder's PID, a non-zero exit and no traceback, and a
read-only snapshot must still show everything the writer committed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from fault_helpers import assert_clean_error, run_cli, wait_for

pytestmark = pytest.mark.timeout(300)

# A writer that commits rows (left in the WAL, not checkpointed), then holds the file.
_HOLDER = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from pathscope.store import open_run
    run = open_run(sys.argv[1])
    with run.transaction():
        mid = run.ensure_model("base-model", role="base")
        run.add_problems(pa.table({"problem_id": ["p1", "p2"], "prompt": ["1+1?", "2+2?"], "answer": ["2", "4"], "kind": ["math", "math"]}))
        run.add_samples(pa.table({"model_id": [mid] * 3, "problem_id": ["p1", "p1", "p2"],
                                  "sample_idx": [0, 1, 0], "text": ["\\\\boxed{2}", "\\\\boxed{3}", "\\\\boxed{4}"]}))
    print("ready", flush=True)
    sys.stdin.read()
    run.close()
    """
)


def _start_holder(path):
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise AssertionError(f"holder did not start: {line!r} {proc.stderr.read()}")
    return proc


def _stop(proc):
    proc.stdin.close()
    proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()


def test_cli_against_a_held_run_says_one_sentence(tmp_path):
    path = tmp_path / "run.duckdb"
    holder = _start_holder(path)
    try:
        samples = tmp_path / "more.jsonl"
        samples.write_text('{"problem_id": "p1", "text": "\\\\boxed{2}", "sample_idx": 5}\n')
        # A second writer through the CLI: one sentence naming the holder.
        proc = run_cli("import", path, samples, "--model", "other")
        line = assert_clean_error(proc, str(path), f"process {holder.pid}")
        assert "snapshot" in line  # says what to do instead
        assert proc.stdout == ""
        # A reader through the CLI reads a snapshot taken now, and says so.
        proc = run_cli("info", path, "--json")
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"open for writing by process {holder.pid}; reading a snapshot" in proc.stderr
        assert json.loads(proc.stdout)["tables"]["samples"] == 3  # what the writer committed, still in its WAL
        # The API says the same, with the holder's PID as data.
        from pathscope.errors import RunLockedError
        from pathscope.store import open_run

        with pytest.raises(RunLockedError) as info:
            open_run(path)
        assert info.value.pid == holder.pid
        # A snapshot shows everything the writer committed (still only in its WAL).
        with open_run(path, snapshot=True) as snap:
            assert snap.read_only
            assert snap.count("samples") == 3 and snap.count("problems") == 2
            assert [m.name for m in snap.models()] == ["base-model"]
    finally:
        _stop(holder)
    # Once the writer is gone, the run opens normally and nothing was lost.
    proc = run_cli("info", path, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["tables"]["samples"] == 3
    assert [m["name"] for m in summary["models"]] == ["base-model"]  # the refused import left nothing


_RACER = textwrap.dedent(
    """
    import os, sys, time
    from pathscope.errors import RunLockedError
    from pathscope.store import open_run
    path, go, release = sys.argv[1:4]
    while not os.path.exists(go):
        time.sleep(0.005)
    try:
        run = open_run(path)
    except RunLockedError as exc:
        print("locked", exc.pid, flush=True)
        sys.exit(3)
    run.ensure_model(f"m{os.getpid()}", role="base")
    print("writer", os.getpid(), flush=True)
    while not os.path.exists(release):
        time.sleep(0.01)
    run.close()
    """
)


def test_two_writers_at_once_one_wins_cleanly(tmp_path):
    path, go, release = tmp_path / "run.duckdb", tmp_path / "go", tmp_path / "release"
    from pathscope.store import open_run

    with open_run(path):
        pass  # created, so neither racer has to create it
    racers = [
        subprocess.Popen([sys.executable, "-c", _RACER, str(path), str(go), str(release)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    go.touch()
    try:
        # Both have decided once one says 'writer' and the other has exited.
        wait_for(lambda: sum(r.poll() is not None for r in racers) >= 1, timeout=120, what="the losing racer to exit")
    finally:
        release.touch()
    outs = [r.communicate(timeout=120) for r in racers]
    codes = sorted(r.returncode for r in racers)
    assert codes == [0, 3], outs
    winner = next(r for r in racers if r.returncode == 0)
    loser_out = next(o for r, o in zip(racers, outs) if r.returncode == 3)
    assert loser_out[0].split() == ["locked", str(winner.pid)]
    assert "Traceback" not in loser_out[1]
    with open_run(path, read_only=True) as run:
        assert [m.name for m in run.models()] == [f"m{winner.pid}"]


def test_reader_holding_the_run_blocks_a_writer_cleanly(tmp_path):
    """A read-only process also holds DuckDB's lock; a writer then fails cleanly."""
    path = tmp_path / "run.duckdb"
    holder = _start_holder(path)
    _stop(holder)
    reader = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom pathscope.store import open_run\nr = open_run(sys.argv[1], read_only=True)\nprint('ready', flush=True)\nsys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        from pathscope.errors import RunError
        from pathscope.store import open_run

        with pytest.raises(RunError) as info:
            open_run(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    finally:
        _stop(reader)
