"""Combine shard runs sampled in parallel into one run.

DuckDB allows one writer per file, so the sample study samples the test split
in several processes, each into its own shard file (``pathscope sample``
with ``--problems``), and then copies the samples into the shipped run.  Each
shard is sampled with the same config and seed scheme (seeds derive from the
problem id), so the samples are those one process would have drawn.

``python -m pathscope.sample_study.combine RUN SHARD...``
"""

from __future__ import annotations

import argparse

from ..store.run import open_run
from ..store.sample_study import combine_shard


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("shards", nargs="+")
    a = ap.parse_args(argv)
    with open_run(a.run) as run:
        for shard in a.shards:
            added = combine_shard(run, shard)
            print(f"{shard}: " + ", ".join(f"{k}: {v} samples added" for k, v in added.items()))


if __name__ == "__main__":
    main()
