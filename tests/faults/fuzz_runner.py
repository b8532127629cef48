"""Run a shard of fuzz cases against one run file (in this or a worker process).

Every case either imports, and the run grows by exactly what the report says,
or fails with one PathscopeError sentence naming the file and leaves the run
untouched (row counts of every table an import writes, and the table names).
Returns ``(failures, outcomes)``; failures name ``(kind, seed)`` and the
mutations, so each replays exactly.
"""

from __future__ import annotations

from pathlib import Path

from fuzz_inputs import IMPORT_KINDS, make_case, problem_records

TABLES = ("models", "problems", "samples", "verdicts", "stages")
_STATE_SQL = (
    "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)
    + ", (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'main')"
)


def state(run) -> dict:
    """Row counts of every table an import writes, and the run's table names (one query)."""
    row = run.con.execute(_STATE_SQL).fetchall()[0]
    out = dict(zip(TABLES, row[:-1]))
    out["objects"] = row[-1]
    return out


def _import_one(run, case, seed):
    from pathscope.importers import import_file

    fmt = IMPORT_KINDS[case.kind][1]
    # Half the cases name the format, half let auto-detection find it.
    report = import_file(run, case.path, model=f"model-{seed % 7}", fmt=fmt if seed % 2 else "auto")
    return {"samples": report.samples_added, "verdicts": report.verdicts_added, "problems": report.problems_created}


def _problems_one(run, case, seed):
    from pathscope.problems import add_problem_file

    report = add_problem_file(run, case.path, source=f"src{seed % 5}")
    return {"problems": report.inserted}


def run_shard(kind: str, seeds: list[int], folder: str, run_path: str, max_failures: int = 15) -> tuple[list[str], dict]:
    from pathscope.errors import PathscopeError
    from pathscope.store import open_run

    folder_p = Path(folder)
    folder_p.mkdir(parents=True, exist_ok=True)
    do_one = _problems_one if kind == "problems" else _import_one
    records_fn = IMPORT_KINDS[kind][0] if kind in IMPORT_KINDS else problem_records
    run = open_run(run_path)
    failures: list[str] = []
    outcomes = {"imported": 0, "refused": 0}
    try:
        for seed in seeds:
            case = make_case(kind, seed, folder_p, records_fn, file_fmt="jsonl" if kind == "lm-eval" else None)
            before = state(run)
            try:
                delta = do_one(run, case, seed)
            except PathscopeError as exc:
                outcomes["refused"] += 1
                msg = str(exc)
                if "\n" in msg or not msg.strip():
                    failures.append(f"{case.describe()}: error is not one line: {msg!r:.300}")
                elif case.path.name not in msg and "--" not in msg:
                    failures.append(f"{case.describe()}: error does not name the file: {msg!r:.300}")
                after = state(run)
                if after != before:
                    failures.append(f"{case.describe()}: refused but the run changed: {before} -> {after}")
            except Exception as exc:  # what the CLI would show as a traceback
                failures.append(f"{case.describe()}: {type(exc).__name__}: {str(exc)[:300]}")
                run.close()
                run = open_run(run_path)
            else:
                outcomes["imported"] += 1
                after = state(run)
                got = {t: after[t] - before[t] for t in delta}
                if got != delta:
                    failures.append(f"{case.describe()}: report says {delta}, the run grew by {got}")
                if after["objects"] != before["objects"]:
                    failures.append(f"{case.describe()}: tables changed {before['objects']} -> {after['objects']}")
            case.path.unlink()
            if len(failures) >= max_failures:
                break
    finally:
        run.close()
    # The run is still a sound pathscope run.
    with open_run(run_path, read_only=True) as r:
        r.count("samples")
    return failures, outcomes
