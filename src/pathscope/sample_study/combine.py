"""Combine shard runs sampled in parallel into one run.

DuckDB allows one writer per file, so the sample study samples the test split
in several processes, each into its own shard file (``pathscope sample``
with ``--problems``), and then copies the samples into the shipped run.  Each
shard is sampled with the same config and seed scheme (seeds derive from the
problem id), so the samples are those one process would have drawn.

``python -m pathscope.sample_study.combine RUN SHARD... [--drop-unsampled]``
"""

from __future__ import annotations

import argparse

from ..store.run import open_run
from ..store.sample_study import combine_shard, drop_unsampled_problems


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("shards", nargs="+")
    ap.add_argument("--drop-unsampled", action="store_true", help="then remove problems no model was sampled on")
    a = ap.parse_args(argv)
    with open_run(a.run) as run:
        for shard in a.shards:
            added = combine_shard(run, shard)
            print(f"{shard}: " + ", ".join(f"{k}: {v} samples added" for k, v in added.items()))
        if a.drop_unsampled:
            print(f"{a.run}: {drop_unsampled_problems(run)} unsampled problems removed")


if __name__ == "__main__":
    main()
