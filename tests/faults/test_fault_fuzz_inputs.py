"""1,000 fuzzed inputs for each importer format and for the problem loader.

Every input either imports (and the run grows by exactly what the report says)
or fails with one :class:`PathscopeError` sentence naming the file, leaving
the run exactly as it was: no models, problems, samples, verdicts, stages or
staging tables left behind.  A handful go through the real CLI as well, which
must never print a traceback.  Cases are seeded: a failure names its
``(kind, seed)`` and the mutations, so it replays exactly.

``PATHSCOPE_FUZZ_CASES`` changes the number of cases per kind (default 1000).
"""

from __future__ import annotations

import os
import random

import pytest
from fault_helpers import assert_clean_error, run_cli
from fuzz_inputs import IMPORT_KINDS, make_case, problem_records

N_CASES = int(os.environ.get("PATHSCOPE_FUZZ_CASES", "1000"))
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _fuzz(tmp_path, kind: str) -> None:
    """N_CASES cases of ``kind``, split over up to two worker processes (one
    run file each), so a two-core machine runs them in half the time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from fuzz_runner import run_shard

    workers = max(1, min(2, os.cpu_count() or 1))
    shards = [list(range(i, N_CASES, workers)) for i in range(workers)]
    args = [(kind, seeds, str(tmp_path / f"inputs{i}"), str(tmp_path / f"{kind}-{i}.duckdb")) for i, seeds in enumerate(shards)]
    if workers == 1:
        results = [run_shard(*args[0])]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(run_shard, *zip(*args)))
    failures = [f for fs, _ in results for f in fs]
    outcomes = {k: sum(o[k] for _, o in results) for k in ("imported", "refused")}
    assert not failures, f"{len(failures)} bad outcomes ({outcomes}):\n" + "\n".join(failures)
    # The mutator must exercise both paths, or the suite proves little.
    assert outcomes["imported"] >= N_CASES // 20 and outcomes["refused"] >= N_CASES // 20, outcomes


@pytest.mark.parametrize("kind", list(IMPORT_KINDS))
def test_fuzzed_generation_files(tmp_path, kind):
    _fuzz(tmp_path, kind)


def test_fuzzed_problem_files(tmp_path):
    _fuzz(tmp_path, "problems")


def test_fuzzed_inputs_through_the_cli(tmp_path):
    """A handful of damaged files through `pathscope import` / `pathscope problems`."""
    from pathscope.store import open_run

    run_path = tmp_path / "cli.duckdb"
    with open_run(run_path):
        pass
    rng = random.Random(11)
    checked = 0
    for kind in [*IMPORT_KINDS, "problems"]:
        records_fn = IMPORT_KINDS.get(kind, (problem_records,))[0]
        for seed in rng.sample(range(N_CASES, 10 * N_CASES), 3):
            case = make_case(kind, seed, tmp_path, records_fn, file_fmt="jsonl")
            if kind == "problems":
                args = ["problems", "add", run_path, case.path]
            else:
                args = ["import", run_path, case.path, "--model", "cli-model"]
            proc = run_cli(*args, timeout=180)
            assert "Traceback" not in proc.stderr + proc.stdout, case.describe() + "\n" + proc.stderr
            if proc.returncode != 0:
                assert_clean_error(proc)
            checked += 1
    assert checked == 15
