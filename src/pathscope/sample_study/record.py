"""Write into a run how its RL model was trained (``meta`` keys ``rl_method`` and ``rl_training``).

``python -m pathscope.sample_study.record RUN TRAIN_SUMMARY.json`` reads the
summary :mod:`pathscope.sample_study.train` saved beside the weights, so the
run names the exact method and reward its RL model was trained with.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InputError
from ..store.run import open_run


def record(run_path: str, summary_path: str) -> dict:
    try:
        summary = json.loads(Path(summary_path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{summary_path}: cannot read the training summary ({exc}).") from None
    if "rl_method" not in summary:
        raise InputError(f"{summary_path}: field 'rl_method' is missing.")
    with open_run(run_path) as run:
        run.set_meta("rl_method", summary["rl_method"])
        run.set_meta("rl_training", json.dumps(summary, sort_keys=True))
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("summary")
    a = ap.parse_args(argv)
    s = record(a.run, a.summary)
    print(f"{a.run}: rl_method = {s['rl_method']}")


if __name__ == "__main__":
    main()
