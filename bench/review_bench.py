"""Review workflow and step-tree queries at paper scale.

On the synthetic run of ``make_synthetic_run`` (2 models x 2,000 problems x
256 samples by default), with synthetic evidence for every correct RL sample
and one large step tree (512 samples, ~12 levels), this measures what the
review and tree screens do per key press, each beside a baseline measured in
the same process on the same file:

- building the whole-run review queue  vs  a bare DuckDB read of the same keys
  (target: under 1 s, like the TUI's first screen);
- loading one review item with its evidence and both CoTs (p50/p95; target
  p95 < 100 ms, like a problem switch);
- one mark: append + commit  vs  a bare auto-committed INSERT (target p95 < 50 ms);
- step-tree queries on the large tree: a slice of children, the samples
  through a node, the divergence node (target p95 < 100 ms each).

Usage::

    python bench/review_bench.py [--run PATH] [--problems 2000] [--samples 256] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def add_evidence(run, base_id: int, rl_id: int) -> int:
    """Evidence rows for every correct RL sample (as `analyze` would store them)."""
    run.con.execute("DELETE FROM evidence")
    run.con.execute(
        """INSERT INTO evidence
           SELECT v.model_id, v.problem_id, v.sample_idx, ?, (v.sample_idx * 7) % 256, 0.5 + (hash(v.sample_idx) % 50) / 100.0,
                  true, v.sample_idx % 3 <> 0, 1.2 + (v.sample_idx % 10) / 10.0, v.sample_idx % 5 <> 0,
                  CASE WHEN v.sample_idx % 3 <> 0 THEN 'already_in_base' ELSE 'possibly_novel' END, 0.7
           FROM verdict v WHERE v.model_id = ? AND v.correct""",
        [base_id, rl_id],
    )
    return run.count("evidence")


def add_big_tree(run, problem_id: str, base_id: int, rl_id: int, depth: int = 12, branch: int = 3, seed: int = 0) -> int:
    """A prefix tree over the problem's samples: at each level a sample picks
    one of ``branch`` children (biased per model), so paths share prefixes."""
    rng = np.random.default_rng(seed)
    run.con.execute("DELETE FROM tree_nodes WHERE problem_id = ?", [problem_id])
    run.con.execute("DELETE FROM tree_paths WHERE problem_id = ?", [problem_id])
    samples = run.con.execute(
        "SELECT model_id, sample_idx FROM samples WHERE problem_id = ? AND model_id IN (?, ?) ORDER BY ALL",
        [problem_id, base_id, rl_id]).fetchall()
    children: dict[tuple, int] = {}
    nodes: list[tuple] = []
    paths = []
    for model_id, idx in samples:
        parent, ids = None, []
        bias = 0.7 if model_id == rl_id else 0.4
        for d in range(depth):
            pick = 0 if rng.random() < bias else int(rng.integers(1, branch))
            key = (parent, pick)
            if key not in children:
                nid = len(nodes)
                children[key] = nid
                nodes.append((problem_id, nid, parent, d, f"step {d}.{pick}", f"Step {d}: option {pick}.", False, 0, None))
            nid = children[key]
            ids.append(nid)
            parent = nid
        paths.append((model_id, problem_id, idx, ids[-1], ids))
    kids: dict[int, int] = {}
    for n in nodes:
        if n[2] is not None:
            kids[n[2]] = kids.get(n[2], 0) + 1
    nodes = [n[:7] + (kids.get(n[1], 0), None) for n in nodes]
    with run.transaction():
        run.con.executemany("INSERT INTO tree_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", nodes)
        run.con.executemany("INSERT INTO tree_paths VALUES (?, ?, ?, ?, ?)", paths)
    return len(nodes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "pathscope-bench" / "review_synthetic.duckdb"))
    ap.add_argument("--problems", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--items", type=int, default=200, help="review items / marks timed")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from make_synthetic_run import ensure_synthetic_run

    from pathscope import open_run
    from pathscope.review import ReviewQueue
    from pathscope.store import tree_queries

    Path(args.run).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    info = ensure_synthetic_run(args.run, n_problems=args.problems, n_samples=args.samples)
    print(f"synthetic run ready in {time.perf_counter() - t0:.1f} s: {info}", file=sys.stderr)

    # Work on a copy: the bench writes evidence, a tree and marks.
    tmp = Path(tempfile.mkdtemp(prefix="pathscope-review-bench-"))
    path = tmp / "run.duckdb"
    shutil.copy2(args.run, path)
    results: dict = {}
    try:
        with open_run(path) as run:
            base, rl = run.default_pair()
            n_ev = add_evidence(run, base.model_id, rl.model_id)
            pid = run.one("SELECT min(problem_id) FROM problems")[0]
            n_nodes = add_big_tree(run, pid, base.model_id, rl.model_id)
            run.con.execute("CHECKPOINT")

            # 1. the whole-run queue vs a bare read of the same keys
            base_ms = _timed(lambda: run.con.execute(
                "SELECT problem_id, sample_idx FROM verdict WHERE model_id = ? AND correct ORDER BY 1, 2",
                [rl.model_id]).fetchall(), 3)
            queue_ms = _timed(lambda: ReviewQueue(run, "bench"), 3)
            q = ReviewQueue(run, "bench")
            results["queue"] = {"items": len(q), "build_ms": min(queue_ms), "baseline_ms": min(base_ms),
                                "ratio": min(queue_ms) / min(base_ms), "target_ms": 1000}
            progress_ms = _timed(q.progress, 20)
            results["progress_ms"] = {"p50": statistics.median(progress_ms), "p95": _pct(progress_ms, 95)}

            # 2. one item with its evidence, both CoTs, cluster and same-answer count
            rng = np.random.default_rng(1)
            positions = rng.integers(0, len(q), size=args.items)
            item_ms = [t for p in positions for t in _timed(lambda p=int(p): q.item(p), 1)]
            results["item_ms"] = {"p50": statistics.median(item_ms), "p95": _pct(item_ms, 95), "target_p95": 100}

            # 3. marks vs bare inserts
            run.con.execute("CREATE TABLE _bench_insert (i BIGINT, t VARCHAR)")
            raw_ms = [t for i in range(args.items) for t in _timed(
                lambda i=i: run.con.execute("INSERT INTO _bench_insert VALUES (?, ?)", [i, "x"]), 1)]
            mark_ms = [t for p in positions for t in _timed(lambda p=int(p): q.mark(p, "novel"), 1)]
            results["mark_ms"] = {"p50": statistics.median(mark_ms), "p95": _pct(mark_ms, 95),
                                  "baseline_p50": statistics.median(raw_ms), "baseline_p95": _pct(raw_ms, 95),
                                  "ratio_p50": statistics.median(mark_ms) / statistics.median(raw_ms), "target_p95": 50}

            # 4. tree queries on the large tree
            con = run.con.cursor()
            widest = con.execute(
                "SELECT parent_id FROM tree_nodes WHERE problem_id = ? AND parent_id IS NOT NULL "
                "GROUP BY parent_id ORDER BY count(*) DESC LIMIT 1", [pid]).fetchall()[0][0]
            deep = con.execute("SELECT max(node_id) FROM tree_nodes WHERE problem_id = ?", [pid]).fetchall()[0][0]
            tree = {}
            for name, fn in {
                "roots": lambda: tree_queries.children(con, pid, None, base.model_id, rl.model_id),
                "children_slice": lambda: tree_queries.children(con, pid, widest, base.model_id, rl.model_id),
                "node_samples": lambda: tree_queries.node_samples(con, pid, 0, [base.model_id, rl.model_id]),
                "divergence": lambda: tree_queries.divergence(con, pid, base.model_id, rl.model_id),
                "path_to": lambda: tree_queries.path_to(con, pid, deep),
                "clusters": lambda: tree_queries.clusters(con, pid, base.model_id, rl.model_id),
            }.items():
                ms = _timed(fn, 30)
                tree[name] = {"p50": statistics.median(ms), "p95": _pct(ms, 95)}
            con.close()
            results["tree"] = {"problem": pid, "nodes": n_nodes, "queries": tree, "target_p95": 100}
            results["scale"] = {"problems": args.problems, "samples_per_model": args.samples, "evidence_rows": n_ev}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    qd, it, mk = results["queue"], results["item_ms"], results["mark_ms"]
    print(f"scale: {args.problems} problems x {args.samples} samples x 2 models; {qd['items']:,} RL solutions to review")
    print(f"{'measure':34} {'value':>12} {'baseline':>12} {'ratio':>7} {'target':>10}")
    print(f"{'queue build (whole run)':34} {qd['build_ms']:>10.0f}ms {qd['baseline_ms']:>10.0f}ms {qd['ratio']:>6.2f}x {'<1000ms':>10}")
    print(f"{'progress count (per key)':34} {results['progress_ms']['p50']:>10.2f}ms {'':>12} {'':>7} {'':>10}")
    print(f"{'review item p50 / p95':34} {it['p50']:>6.1f}/{it['p95']:<5.1f}ms {'':>12} {'':>7} {'p95<100ms':>10}")
    print(f"{'mark (append+commit) p50 / p95':34} {mk['p50']:>6.1f}/{mk['p95']:<5.1f}ms "
          f"{mk['baseline_p50']:>5.1f}/{mk['baseline_p95']:<5.1f}ms {mk['ratio_p50']:>6.2f}x {'p95<50ms':>10}")
    t = results["tree"]
    print(f"step tree of {t['problem']}: {t['nodes']:,} nodes, 512 sample paths")
    for name, v in t["queries"].items():
        print(f"{'  tree ' + name + ' p50 / p95':34} {v['p50']:>6.1f}/{v['p95']:<5.1f}ms {'':>12} {'':>7} {'p95<100ms':>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
