"""The SQL of ``pathscope analyze``: steps, embeddings, clusters, tree, evidence.

Reads come back as numpy / plain Python for the analysis core; writes take
whole problems inside one transaction (the caller's), so a stage interrupted
mid-way leaves each problem either done or untouched.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa

from .run import Run

# -- selection --------------------------------------------------------------------


def _in_list(name: str, values: Sequence | None) -> tuple[str, list]:
    """A ``name IN (?, ?, …)`` clause (or TRUE when no filter)."""
    if values is None:
        return "TRUE", []
    if not values:
        return "FALSE", []
    return f"{name} IN ({', '.join('?' for _ in values)})", list(values)


def problem_ids(run: Run, model_ids: Sequence[int], problems: Sequence[str] | None) -> list[str]:
    """Problems with samples of the selected models, in id order."""
    m_clause, m_params = _in_list("model_id", model_ids)
    p_clause, p_params = _in_list("problem_id", problems)
    rows = run.con.execute(
        f"SELECT DISTINCT problem_id FROM samples WHERE {m_clause} AND {p_clause} ORDER BY problem_id",
        m_params + p_params,
    ).fetchall()
    return [r[0] for r in rows]


def sample_keys(run: Run, problem_id: str, model_ids: Sequence[int]) -> list[tuple[int, int]]:
    m_clause, m_params = _in_list("model_id", model_ids)
    rows = run.con.execute(
        f"SELECT model_id, sample_idx FROM samples WHERE problem_id = ? AND {m_clause} ORDER BY model_id, sample_idx",
        [problem_id] + m_params,
    ).fetchall()
    return [(int(a), int(b)) for a, b in rows]


# -- embed stage ------------------------------------------------------------------


def count_unembedded(run: Run, embedder: str, model_ids: Sequence[int], problems: Sequence[str] | None) -> int:
    m_clause, m_params = _in_list("s.model_id", model_ids)
    p_clause, p_params = _in_list("s.problem_id", problems)
    return int(
        run.con.execute(
            f"""SELECT count(*) FROM samples s
                ANTI JOIN (SELECT model_id, problem_id, sample_idx FROM embeddings
                           WHERE step_idx = -1 AND embedder = ?) e
                USING (model_id, problem_id, sample_idx)
                WHERE {m_clause} AND {p_clause}""",
            [embedder] + m_params + p_params,
        ).fetchall()[0][0]
    )


def unembedded_batch(
    run: Run, embedder: str, model_ids: Sequence[int], problems: Sequence[str] | None, limit: int
) -> list[tuple[int, str, int, str, str | None]]:
    """Up to ``limit`` samples without a whole-CoT vector from ``embedder``:
    (model_id, problem_id, sample_idx, text, prompt), in key order."""
    m_clause, m_params = _in_list("s.model_id", model_ids)
    p_clause, p_params = _in_list("s.problem_id", problems)
    return run.con.execute(
        f"""SELECT s.model_id, s.problem_id, s.sample_idx, s.text, p.prompt
            FROM samples s
            LEFT JOIN problems p USING (problem_id)
            ANTI JOIN (SELECT model_id, problem_id, sample_idx FROM embeddings
                       WHERE step_idx = -1 AND embedder = ?) e
            USING (model_id, problem_id, sample_idx)
            WHERE {m_clause} AND {p_clause}
            ORDER BY s.problem_id, s.model_id, s.sample_idx
            LIMIT ?""",
        [embedder] + m_params + p_params + [limit],
    ).fetchall()


def _vec_array(vecs: np.ndarray) -> pa.Array:
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    n, d = vecs.shape
    offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(vecs.reshape(-1)))


def write_embeddings(run: Run, keys: Sequence[tuple[int, str, int]], step_idx: Sequence[int], embedder: str, vecs: np.ndarray) -> None:
    table = pa.table(
        {
            "model_id": pa.array([k[0] for k in keys], pa.int32()),
            "problem_id": pa.array([k[1] for k in keys], pa.string()),
            "sample_idx": pa.array([k[2] for k in keys], pa.int32()),
            "step_idx": pa.array(list(step_idx), pa.int32()),
            "vec": _vec_array(vecs),
        }
    )
    run.con.register("_incoming_vecs", table)
    try:
        run.con.execute(
            """INSERT OR REPLACE INTO embeddings (model_id, problem_id, sample_idx, step_idx, embedder, vec)
               SELECT model_id, problem_id, sample_idx, step_idx, ?, vec FROM _incoming_vecs""",
            [embedder],
        )
    finally:
        run.con.unregister("_incoming_vecs")


def write_steps(run: Run, rows: Iterable[tuple[int, str, int, int, int, int]]) -> None:
    """Replace the steps of the samples in ``rows`` (model, problem, sample, step, start, end)."""
    rows = list(rows)
    if not rows:
        return
    cols = list(zip(*rows))
    table = pa.table(
        {
            "model_id": pa.array(cols[0], pa.int32()),
            "problem_id": pa.array(cols[1], pa.string()),
            "sample_idx": pa.array(cols[2], pa.int32()),
            "step_idx": pa.array(cols[3], pa.int32()),
            "start_char": pa.array(cols[4], pa.int32()),
            "end_char": pa.array(cols[5], pa.int32()),
        }
    )
    run.con.register("_incoming_steps", table)
    try:
        run.con.execute(
            """DELETE FROM steps WHERE (model_id, problem_id, sample_idx) IN
               (SELECT DISTINCT model_id, problem_id, sample_idx FROM _incoming_steps)"""
        )
        run.con.execute("INSERT INTO steps SELECT * FROM _incoming_steps")
    finally:
        run.con.unregister("_incoming_steps")


def cot_vectors(run: Run, problem_id: str, model_ids: Sequence[int], embedder: str) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Whole-CoT vectors of a problem: ([(model_id, sample_idx)], (n, d) float32)."""
    m_clause, m_params = _in_list("model_id", model_ids)
    t = run.con.sql(
        f"""SELECT model_id, sample_idx, vec FROM embeddings
            WHERE problem_id = ? AND step_idx = -1 AND embedder = ? AND {m_clause}
            ORDER BY model_id, sample_idx""",
        params=[problem_id, embedder] + m_params,
    ).to_arrow_table()
    keys = list(zip(t.column("model_id").to_pylist(), t.column("sample_idx").to_pylist()))
    if not keys:
        return [], np.zeros((0, 0), dtype=np.float32)
    vec = t.column("vec").combine_chunks()
    flat = vec.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return keys, flat.reshape(len(keys), -1)


def problem_samples(run: Run, problem_id: str, model_ids: Sequence[int]) -> list[dict]:
    """Every selected sample of a problem with its text, verdict and model name, in key order."""
    m_clause, m_params = _in_list("s.model_id", model_ids)
    cur = run.con.execute(
        f"""SELECT s.model_id, m.name AS model, s.sample_idx, s.text, p.prompt, v.correct, v.extracted
            FROM samples s JOIN models m USING (model_id)
            LEFT JOIN problems p USING (problem_id)
            LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
            WHERE s.problem_id = ? AND {m_clause}
            ORDER BY s.model_id, s.sample_idx""",
        [problem_id] + m_params,
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def sample_steps(run: Run, problem_id: str, model_ids: Sequence[int]) -> dict[tuple[int, int], list[tuple[int, int]]]:
    m_clause, m_params = _in_list("model_id", model_ids)
    rows = run.con.execute(
        f"""SELECT model_id, sample_idx, start_char, end_char FROM steps
            WHERE problem_id = ? AND {m_clause} ORDER BY model_id, sample_idx, step_idx""",
        [problem_id] + m_params,
    ).fetchall()
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for m, s, a, b in rows:
        out.setdefault((int(m), int(s)), []).append((int(a), int(b)))
    return out


# -- per-problem bookkeeping --------------------------------------------------------


def done_fingerprints(run: Run, stage: str) -> dict[str, str]:
    rows = run.con.execute("SELECT problem_id, fingerprint FROM analysis_done WHERE stage = ?", [stage]).fetchall()
    return {r[0]: r[1] for r in rows}


def mark_done(run: Run, problem_id: str, stage: str, fingerprint: str) -> None:
    run.con.execute(
        "INSERT OR REPLACE INTO analysis_done (problem_id, stage, fingerprint) VALUES (?, ?, ?)",
        [problem_id, stage, fingerprint],
    )


# -- clusters -----------------------------------------------------------------------


def replace_clusters(run: Run, problem_id: str, clusters: list[dict], members: list[tuple[int, int, int]]) -> None:
    """Replace a problem's clusters; ``members`` = (model_id, sample_idx, cluster_id)."""
    con = run.con
    con.execute("DELETE FROM cluster_members WHERE problem_id = ?", [problem_id])
    con.execute("DELETE FROM clusters WHERE problem_id = ?", [problem_id])
    if clusters:
        con.executemany(
            """INSERT INTO clusters (problem_id, cluster_id, label, size, medoid_model_id, medoid_sample_idx, counts)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                [problem_id, c["cluster_id"], c["label"], c["size"], c["medoid_model_id"], c["medoid_sample_idx"],
                 json.dumps(c["counts"], sort_keys=True)]
                for c in clusters
            ],
        )
    if members:
        cols = list(zip(*members))
        table = pa.table(
            {
                "model_id": pa.array(cols[0], pa.int32()),
                "sample_idx": pa.array(cols[1], pa.int32()),
                "cluster_id": pa.array(cols[2], pa.int32()),
            }
        )
        con.register("_incoming_members", table)
        try:
            con.execute(
                """INSERT INTO cluster_members (model_id, problem_id, sample_idx, cluster_id)
                   SELECT model_id, ?, sample_idx, cluster_id FROM _incoming_members""",
                [problem_id],
            )
        finally:
            con.unregister("_incoming_members")


def cluster_assignment(run: Run, problem_id: str) -> dict[tuple[int, int], int]:
    rows = run.con.execute(
        "SELECT model_id, sample_idx, cluster_id FROM cluster_members WHERE problem_id = ?", [problem_id]
    ).fetchall()
    return {(int(m), int(s)): int(c) for m, s, c in rows}


# -- tree ---------------------------------------------------------------------------


def replace_tree(run: Run, problem_id: str, nodes: list[dict], paths: list[tuple[int, int, int, list[int]]]) -> None:
    """Replace a problem's tree; ``paths`` = (model_id, sample_idx, leaf_id, node_ids)."""
    con = run.con
    con.execute("DELETE FROM tree_paths WHERE problem_id = ?", [problem_id])
    con.execute("DELETE FROM tree_nodes WHERE problem_id = ?", [problem_id])
    if nodes:
        table = pa.table(
            {
                "node_id": pa.array([n["node_id"] for n in nodes], pa.int32()),
                "parent_id": pa.array([n["parent_id"] for n in nodes], pa.int32()),
                "depth": pa.array([n["depth"] for n in nodes], pa.int32()),
                "label": pa.array([n["label"] for n in nodes], pa.string()),
                "rep_text": pa.array([n["rep_text"] for n in nodes], pa.string()),
                "is_other": pa.array([n["is_other"] for n in nodes], pa.bool_()),
                "n_children": pa.array([n["n_children"] for n in nodes], pa.int32()),
                "counts": pa.array([json.dumps(n["counts"], sort_keys=True) for n in nodes], pa.string()),
            }
        )
        con.register("_incoming_nodes", table)
        try:
            con.execute(
                """INSERT INTO tree_nodes (problem_id, node_id, parent_id, depth, label, rep_text, is_other, n_children, counts)
                   SELECT ?, node_id, parent_id, depth, label, rep_text, is_other, n_children, counts::JSON
                   FROM _incoming_nodes""",
                [problem_id],
            )
        finally:
            con.unregister("_incoming_nodes")
    if paths:
        table = pa.table(
            {
                "model_id": pa.array([p[0] for p in paths], pa.int32()),
                "sample_idx": pa.array([p[1] for p in paths], pa.int32()),
                "leaf_id": pa.array([p[2] for p in paths], pa.int32()),
                "node_ids": pa.array([list(p[3]) for p in paths], pa.list_(pa.int32())),
            }
        )
        con.register("_incoming_paths", table)
        try:
            con.execute(
                """INSERT INTO tree_paths (model_id, problem_id, sample_idx, leaf_id, node_ids)
                   SELECT model_id, ?, sample_idx, leaf_id, node_ids FROM _incoming_paths""",
                [problem_id],
            )
        finally:
            con.unregister("_incoming_paths")


def tree_rows(run: Run, problem_id: str) -> tuple[list[dict], list[tuple[int, int, int, list[int]]]]:
    """A problem's stored tree: (nodes, paths) as written by :func:`replace_tree`."""
    cur = run.con.execute(
        """SELECT node_id, parent_id, depth, label, rep_text, is_other, n_children, counts
           FROM tree_nodes WHERE problem_id = ? ORDER BY node_id""",
        [problem_id],
    )
    names = [d[0] for d in cur.description]
    nodes = []
    for r in cur.fetchall():
        d = dict(zip(names, r))
        d["counts"] = json.loads(d["counts"]) if d["counts"] else {}
        nodes.append(d)
    paths = [
        (int(m), int(s), int(leaf), [int(x) for x in ids])
        for m, s, leaf, ids in run.con.execute(
            "SELECT model_id, sample_idx, leaf_id, node_ids FROM tree_paths WHERE problem_id = ? ORDER BY model_id, sample_idx",
            [problem_id],
        ).fetchall()
    ]
    return nodes, paths


# -- evidence -----------------------------------------------------------------------


def ppl_under(run: Run, problem_id: str, scorer_model_id: int, model_ids: Sequence[int]) -> dict[tuple[int, int], float]:
    """Perplexities of a problem's samples under one scorer model, where scored."""
    m_clause, m_params = _in_list("model_id", model_ids)
    rows = run.con.execute(
        f"""SELECT model_id, sample_idx, ppl FROM scores
            WHERE problem_id = ? AND scorer_model_id = ? AND ppl IS NOT NULL AND {m_clause}""",
        [problem_id, scorer_model_id] + m_params,
    ).fetchall()
    return {(int(m), int(s)): float(p) for m, s, p in rows}


_EVIDENCE_COLS = (
    "model_id", "sample_idx", "base_model_id", "nearest_base_idx", "similarity", "nearest_base_correct",
    "shares_cluster_with_correct_base", "ppl_under_base", "answer_in_base", "suggested_mark", "confidence",
)
_DETAIL_COLS = (
    "model_id", "sample_idx", "base_model_id", "nearest_correct_base_idx", "correct_similarity",
    "ppl_base_quantile", "n_base_samples", "signals",
)


def replace_evidence(run: Run, problem_id: str, base_model_id: int, rows: list[dict]) -> None:
    """Replace a problem's evidence against one base model."""
    con = run.con
    for table in ("evidence", "evidence_detail"):
        con.execute(f"DELETE FROM {table} WHERE problem_id = ? AND base_model_id = ?", [problem_id, base_model_id])
    if not rows:
        return
    con.executemany(
        f"""INSERT INTO evidence (problem_id, {', '.join(_EVIDENCE_COLS)})
            VALUES (?, {', '.join('?' for _ in _EVIDENCE_COLS)})""",
        [[problem_id] + [r[c] for c in _EVIDENCE_COLS] for r in rows],
    )
    con.executemany(
        f"""INSERT INTO evidence_detail (problem_id, {', '.join(_DETAIL_COLS)})
            VALUES (?, {', '.join('?' for _ in _DETAIL_COLS)})""",
        [[problem_id] + [json.dumps(r[c], sort_keys=True) if c == "signals" else r[c] for c in _DETAIL_COLS] for r in rows],
    )


# -- fingerprints (what a stage's result of a problem depended on) --------------------


def _grouped(run: Run, query: str, params: list) -> dict[str, str]:
    return {r[0]: f"{r[1]}:{r[2]}" for r in run.con.execute(query, params).fetchall()}


def embedding_fingerprints(run: Run, embedder: str, model_ids: Sequence[int], problems: Sequence[str] | None) -> dict[str, str]:
    """problem -> a digest of which samples have whole-CoT vectors."""
    m_clause, m_params = _in_list("model_id", model_ids)
    p_clause, p_params = _in_list("problem_id", problems)
    return _grouped(
        run,
        f"""SELECT problem_id, count(*), sum(hash(model_id, sample_idx)::HUGEINT) FROM embeddings
            WHERE step_idx = -1 AND embedder = ? AND {m_clause} AND {p_clause} GROUP BY problem_id""",
        [embedder] + m_params + p_params,
    )


def verdict_fingerprints(run: Run, model_ids: Sequence[int], problems: Sequence[str] | None) -> dict[str, str]:
    m_clause, m_params = _in_list("model_id", model_ids)
    p_clause, p_params = _in_list("problem_id", problems)
    return _grouped(
        run,
        f"""SELECT problem_id, count(*), sum(hash(model_id, sample_idx, correct, extracted)::HUGEINT) FROM verdict
            WHERE {m_clause} AND {p_clause} GROUP BY problem_id""",
        m_params + p_params,
    )


def score_fingerprints(run: Run, scorer_model_id: int, problems: Sequence[str] | None) -> dict[str, str]:
    p_clause, p_params = _in_list("problem_id", problems)
    return _grouped(
        run,
        f"""SELECT problem_id, count(*), sum(hash(model_id, sample_idx, ppl)::HUGEINT) FROM scores
            WHERE scorer_model_id = ? AND {p_clause} GROUP BY problem_id""",
        [scorer_model_id] + p_params,
    )
