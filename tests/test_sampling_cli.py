"""`pathscope sample` as a real process: Ctrl-C, kill -9, resume; data parallel workers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pyarrow as pa
import pytest

from pathscope import open_run
from pathscope.sampling import load_config, sample_run

pytestmark = pytest.mark.slow

N_PROBLEMS, N = 10, 4


def _make_run(path):
    with open_run(path) as run:
        run.add_problems(pa.table({
            "problem_id": [f"q{i:02d}" for i in range(N_PROBLEMS)],
            "prompt": [f"What is {i} + {i}?" for i in range(N_PROBLEMS)],
            "kind": ["math"] * N_PROBLEMS,
        }))


def _config(tmp_path, tiny_model, extra="", max_tokens=16):
    cfg = tmp_path / "pathscope.toml"
    cfg.write_text(
        f"commit_every = {N}\n[sampling]\nn = {N}\nmax_tokens = {max_tokens}\nseed = 11\n"
        f'[[models]]\nname = "tiny"\nrole = "base"\npath = "{tiny_model}"\nbackend = "transformers"\ndevice = "cpu"\n{extra}'
    )
    return cfg


def _count(path) -> int:
    """Samples visible to a reader while the sampler holds the file."""
    for _ in range(20):
        try:
            with open_run(path, snapshot=True) as run:
                return run.count("samples")
        except Exception:  # noqa: BLE001 - a copy taken mid-write; try again
            time.sleep(0.2)
    raise AssertionError("could not read a snapshot of the run")


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored and children inherit that;
    # the sampler here stands for one run in a terminal, where Ctrl-C is delivered.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(run_path, cfg):
    return subprocess.Popen(
        [sys.executable, "-m", "pathscope.cli", "sample", str(run_path), "--config", str(cfg), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint,
    )


def _wait_for(proc, run_path, at_least: int, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"sampler ended early: {proc.communicate()[1][-2000:]}"
        if run_path.exists() and _count(run_path) >= at_least:
            return
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no {at_least} samples within {timeout} s")


def test_interrupt_kill_and_resume(tiny_model, tmp_path):
    run_path = tmp_path / "run.duckdb"
    _make_run(run_path)
    cfg = _config(tmp_path, tiny_model)

    # Ctrl-C: finished requests are committed, the stage says so, exit 130.
    proc = _start(run_path, cfg)
    _wait_for(proc, run_path, 2 * N)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    with open_run(run_path, read_only=True) as run:
        after_int = run.count("samples")
        assert after_int % N == 0 and 2 * N <= after_int < N_PROBLEMS * N
        assert run.stages()[-1]["status"] == "interrupted"

    # kill -9: at most the batch in flight is lost; what is stored is whole requests.
    proc = _start(run_path, cfg)
    _wait_for(proc, run_path, after_int + 2 * N)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    with open_run(run_path) as run:  # the WAL replays on open
        after_kill = run.count("samples")
        assert after_kill % N == 0 and after_kill >= after_int + 2 * N
        per_problem = run.con.execute("SELECT count(*) FROM samples GROUP BY problem_id").fetchall()
        assert {c for (c,) in per_problem} == {N}

    # Same command again: completes, exact counts, no duplicates.
    proc = _start(run_path, cfg)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    if after_kill < N_PROBLEMS * N:
        assert f"{N_PROBLEMS * N - after_kill:,} samples added" in err
    else:  # the kill came after the last commit
        assert "nothing to do" in err
    with open_run(run_path, read_only=True) as run:
        assert run.one("SELECT count(*), count(DISTINCT (problem_id, sample_idx)) FROM samples") == (N_PROBLEMS * N, N_PROBLEMS * N)
        resumed = dict(((p, i), t) for p, i, t in run.con.execute("SELECT problem_id, sample_idx, text FROM samples").fetchall())

    # ... and draws exactly what one uninterrupted run draws.
    fresh = tmp_path / "fresh.duckdb"
    _make_run(fresh)
    with open_run(fresh) as run:
        sample_run(run, load_config(cfg))
        once = dict(((p, i), t) for p, i, t in run.con.execute("SELECT problem_id, sample_idx, text FROM samples").fetchall())
    assert resumed == once


def test_data_parallel_workers_match_one_process(tiny_model, tmp_path):
    """Two worker processes (CPU here; one per GPU group on a GPU node) produce
    exactly the samples one process does: seeds are per request."""
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    for path in (one, two):
        _make_run(path)
    cfg = load_config(_config(tmp_path, tiny_model, max_tokens=6))
    cfg.problems.limit = 4
    with open_run(one) as run:
        sample_run(run, cfg)
        a = run.con.execute("SELECT problem_id, sample_idx, text, cum_logprob FROM samples ORDER BY ALL").fetchall()
    cfg.models[0].data_parallel_size = 2
    with open_run(two) as run:
        summary = sample_run(run, cfg)
        b = run.con.execute("SELECT problem_id, sample_idx, text, cum_logprob FROM samples ORDER BY ALL").fetchall()
        assert run.model("tiny").sampling_params["data_parallel_size"] == 2
    assert summary["tiny"]["added"] == 4 * N
    assert [r[:3] for r in a] == [r[:3] for r in b]
    assert [r[3] for r in a] == pytest.approx([r[3] for r in b], abs=1e-3)
