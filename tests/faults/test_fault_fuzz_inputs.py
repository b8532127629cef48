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
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

_TABLES = ("models", "problems", "samples", "verdicts", "stages")


def _state(run) -> dict:
    out = {t: run.count(t) for t in _TABLES}
    out["objects"] = tuple(sorted(r[0] for r in run.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()))
    return out


def _check_error(exc, case, failures) -> None:
    msg = str(exc)
    if "\n" in msg or not msg.strip():
        failures.append(f"{case.describe()}: error is not one line: {msg!r:.300}")
    elif case.path.name not in msg and "--" not in msg:
        failures.append(f"{case.describe()}: error does not name the file: {msg!r:.300}")


def _fuzz(tmp_path, kind: str, do_one) -> None:
    from pathscope.errors import PathscopeError
    from pathscope.store import open_run

    folder = tmp_path / "inputs"
    folder.mkdir()
    run = open_run(tmp_path / f"{kind}.duckdb")
    failures: list[str] = []
    outcomes = {"imported": 0, "refused": 0}
    try:
        for seed in range(N_CASES):
            records_fn, _fmt = IMPORT_KINDS.get(kind, (problem_records, None))
            case = make_case(kind, seed, folder, records_fn, file_fmt="jsonl" if kind == "lm-eval" else None)
            before = _state(run)
            try:
                delta = do_one(run, case, seed)
            except PathscopeError as exc:
                outcomes["refused"] += 1
                _check_error(exc, case, failures)
                after = _state(run)
                if after != before:
                    failures.append(f"{case.describe()}: refused but the run changed: {before} -> {after}")
            except Exception as exc:  # a traceback in the CLI
                failures.append(f"{case.describe()}: {type(exc).__name__}: {str(exc)[:300]}")
                run.close()
                run = open_run(tmp_path / f"{kind}.duckdb")
            else:
                outcomes["imported"] += 1
                after = _state(run)
                got = {t: after[t] - before[t] for t in delta}
                if got != delta:
                    failures.append(f"{case.describe()}: report says {delta}, the run grew by {got}")
                if after["objects"] != before["objects"]:
                    failures.append(f"{case.describe()}: tables changed {before['objects']} -> {after['objects']}")
            case.path.unlink()
            if len(failures) >= 15:
                break
    finally:
        run.close()
    # The run is still a sound pathscope run.
    with open_run(tmp_path / f"{kind}.duckdb", read_only=True) as r:
        r.count("samples")
    assert not failures, f"{len(failures)} bad outcomes ({outcomes}):\n" + "\n".join(failures)
    # The mutator must exercise both paths, or the suite proves little.
    assert outcomes["imported"] >= N_CASES // 20 and outcomes["refused"] >= N_CASES // 20, outcomes


@pytest.mark.parametrize("kind", list(IMPORT_KINDS))
def test_fuzzed_generation_files(tmp_path, kind):
    from pathscope.importers import import_file

    fmt = IMPORT_KINDS[kind][1]

    def one(run, case, seed):
        # Half the cases name the format, half let auto-detection find it.
        report = import_file(run, case.path, model=f"model-{seed % 7}", fmt=fmt if seed % 2 else "auto")
        return {"samples": report.samples_added, "verdicts": report.verdicts_added, "problems": report.problems_created}

    _fuzz(tmp_path, kind, one)


def test_fuzzed_problem_files(tmp_path):
    from pathscope.problems import add_problem_file

    def one(run, case, seed):
        report = add_problem_file(run, case.path, source=f"src{seed % 5}")
        return {"problems": report.inserted}

    _fuzz(tmp_path, "problems", one)


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
