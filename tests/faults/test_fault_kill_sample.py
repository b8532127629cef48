"""kill -9 ``pathscope sample`` at 20 random points, resume, and get exact counts.

A tiny random Llama model (built locally, tests/tiny_model.py) samples 40
problems x n=2 into a run with the transformers backend, committing every
sample.  Twenty times, the real CLI process is killed with SIGKILL: a few
times at a random moment of its start-up, otherwise as soon as a snapshot shows
new committed samples (watched through read-only snapshots).  After
every kill the run must open normally and hold at least every sample a
snapshot had already seen.  A last, uninterrupted run then completes the work:
exactly 40 x 2 samples, indices 0..1 for every problem, no duplicates.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest
from fault_helpers import pathscope_cmd, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

N_PROBLEMS, N_SAMPLES, KILLS = 40, 2, 20


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("kill-sample") / "tiny-llama")


def _committed(path) -> int | None:
    """Samples committed so far, seen through a snapshot (None if the copy
    caught a write half-way; the next poll will do)."""
    from pathscope import open_run
    from pathscope.errors import PathscopeError

    try:
        with open_run(path, snapshot=True) as snap:
            return snap.count("samples")
    except (PathscopeError, Exception):
        return None


def test_kill_sample_twenty_times_then_resume(tiny_llama, tmp_path):
    import pyarrow as pa

    from pathscope import open_run

    path = tmp_path / "run.duckdb"
    with open_run(path) as run:
        run.add_problems(pa.table({
            "problem_id": [f"q{i}" for i in range(N_PROBLEMS)],
            "prompt": [f"What is {i} + 2?" for i in range(N_PROBLEMS)],
            "kind": ["math"] * N_PROBLEMS, "source": ["toy"] * N_PROBLEMS,
        }))
    cmd = [*pathscope_cmd(), "sample", str(path), "--model", str(tiny_llama), "--name", "tiny", "--backend", "transformers",
           "--device", "cpu", "-n", str(N_SAMPLES), "--max-tokens", "48", "--commit-every", "1", "--no-progress"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    rng = random.Random(9)
    total = N_PROBLEMS * N_SAMPLES
    seen = 0  # the most samples any snapshot or reopen has shown
    kills = 0
    log = []
    while kills < KILLS:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        start_seen = seen
        if rng.random() < 0.25:
            how = "start-up"
            time.sleep(rng.uniform(0.05, 2.5))
        else:
            more = 1
            how = "new commits"

            def enough():
                if proc.poll() is not None:
                    return True
                n = _committed(path)
                return n is not None and n >= min(total, start_seen + more) and n

            wait_for(enough, timeout=300, interval=0.05, what=f"{more} more samples")
            time.sleep(rng.uniform(0.0, 0.1))  # a random point between commits
        if proc.poll() is not None:
            out, err = proc.communicate()
            assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
            break  # it finished before this kill point: nothing left to interrupt
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        kills += 1
        wait_for(lambda: _count_after_kill(path) is not None, timeout=60, what="the run to open after kill -9")
        after = _count_after_kill(path)
        log.append(f"kill {kills} at {how}: {after} samples")
        assert after >= seen, f"committed samples lost: had {seen}, now {after} ({log})"
        seen = after
        if seen >= total:
            break
    assert kills >= KILLS or seen >= total, log
    # Work was left for most kill points, so the suite really interrupted sampling.
    assert kills >= KILLS // 2, log
    final = subprocess.run(cmd, capture_output=True, env=env, timeout=600)
    assert final.returncode == 0, final.stderr.decode(errors="replace")[-2000:]
    with open_run(path, read_only=True) as run:
        assert run.count("samples") == total, log
        rows = run.con.execute(
            "SELECT problem_id, list(sample_idx ORDER BY sample_idx), count(*) FROM samples GROUP BY problem_id"
        ).fetchall()
        assert len(rows) == N_PROBLEMS
        for pid, idxs, n in rows:
            assert idxs == list(range(N_SAMPLES)) and n == N_SAMPLES, (pid, idxs)
        assert [m.name for m in run.models()] == ["tiny"]
        assert run.one("SELECT count(*) FROM samples WHERE text IS NULL")[0] == 0


def _count_after_kill(path) -> int | None:
    from pathscope import open_run
    from pathscope.errors import RunLockedError

    try:
        with open_run(path, read_only=True) as run:
            return run.count("samples")
    except RunLockedError:
        return None  # the kernel has not yet dropped the dead process's lock
