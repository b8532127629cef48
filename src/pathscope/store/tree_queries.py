"""The SQL behind the step-tree and strategy-cluster views: small per-view queries.

Each function takes a DuckDB connection (a thread worker passes its own
cursor).  Node and cluster counts are computed from ``tree_paths`` /
``cluster_members`` joined with the effective ``verdict`` rather than read
from the stored ``counts`` JSON, so they always agree with the verdicts the
other views show.  The ``verdict`` view is always filtered by problem inside a
subquery: joined bare, DuckDB evaluates its window over every verdict of the
run (seconds at paper scale).  Texts are read as short previews, never in bulk.
"""

from __future__ import annotations

import duckdb

#: Characters of a CoT shown in a one-line list entry.
PREVIEW = 160

# Per node of one problem: samples of the base / compared model through it, and the correct ones.
_NODE_COUNTS = """
node_counts AS (
    SELECT p.node_id,
           count(*) FILTER (WHERE p.model_id = $base) AS base_n,
           count(*) FILTER (WHERE p.model_id = $base AND v.correct) AS base_correct,
           count(*) FILTER (WHERE p.model_id = $rl) AS rl_n,
           count(*) FILTER (WHERE p.model_id = $rl AND v.correct) AS rl_correct
    FROM (SELECT model_id, problem_id, sample_idx, unnest(node_ids) AS node_id
          FROM tree_paths WHERE problem_id = $pid AND model_id IN ($base, $rl)) p
    LEFT JOIN (SELECT model_id, sample_idx, correct FROM verdict WHERE problem_id = $pid) v USING (model_id, sample_idx)
    GROUP BY p.node_id)"""

_NODE_COLS = ("node_id", "parent_id", "depth", "label", "rep_text", "is_other", "n_children",
              "base_n", "base_correct", "rl_n", "rl_correct")


def _dicts(cur: duckdb.DuckDBPyConnection, rows) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in rows]


def has_tree(con: duckdb.DuckDBPyConnection, problem_id: str) -> tuple[int, int]:
    """(nodes, sample paths) stored for a problem."""
    n = con.execute("SELECT count(*) FROM tree_nodes WHERE problem_id = ?", [problem_id]).fetchall()[0][0]
    p = con.execute("SELECT count(*) FROM tree_paths WHERE problem_id = ?", [problem_id]).fetchall()[0][0]
    return int(n), int(p)


def children(
    con: duckdb.DuckDBPyConnection, problem_id: str, parent_id: int | None, base_id: int, rl_id: int,
    offset: int = 0, limit: int = 50,
) -> tuple[list[dict], int]:
    """One slice of a node's children (roots when ``parent_id`` is None),
    most-travelled first with "other" nodes last; and how many there are."""
    parent_clause = "n.parent_id IS NULL" if parent_id is None else "n.parent_id = $parent"
    params = {"pid": problem_id, "base": base_id, "rl": rl_id, "off": offset, "lim": limit}
    if parent_id is not None:
        params["parent"] = parent_id
    cur = con.execute(
        f"""WITH {_NODE_COUNTS},
            kids AS (SELECT parent_id, count(*) AS k FROM tree_nodes WHERE problem_id = $pid GROUP BY parent_id)
            SELECT n.node_id, n.parent_id, n.depth, n.label, left(n.rep_text, 400) AS rep_text, n.is_other,
                   coalesce(kids.k, 0) AS n_children,
                   coalesce(c.base_n, 0) AS base_n, coalesce(c.base_correct, 0) AS base_correct,
                   coalesce(c.rl_n, 0) AS rl_n, coalesce(c.rl_correct, 0) AS rl_correct,
                   count(*) OVER () AS total
            FROM tree_nodes n
            LEFT JOIN node_counts c USING (node_id)
            LEFT JOIN kids ON kids.parent_id = n.node_id
            WHERE n.problem_id = $pid AND {parent_clause}
            ORDER BY n.is_other, coalesce(c.base_n, 0) + coalesce(c.rl_n, 0) DESC, n.node_id
            LIMIT $lim OFFSET $off""",
        params,
    )
    rows = _dicts(cur, cur.fetchall())
    total = rows[0].pop("total") if rows else _count_children(con, problem_id, parent_id)
    for r in rows[1:]:
        r.pop("total")
    return rows, int(total)


def _count_children(con, problem_id: str, parent_id: int | None) -> int:
    if parent_id is None:
        return int(con.execute("SELECT count(*) FROM tree_nodes WHERE problem_id = ? AND parent_id IS NULL", [problem_id]).fetchall()[0][0])
    return int(con.execute("SELECT count(*) FROM tree_nodes WHERE problem_id = ? AND parent_id = ?", [problem_id, parent_id]).fetchall()[0][0])


def child_rank(con: duckdb.DuckDBPyConnection, problem_id: str, node_id: int, base_id: int, rl_id: int) -> int:
    """The position of a node among its siblings in :func:`children` order."""
    rows = con.execute(
        f"""WITH {_NODE_COUNTS},
            sib AS (SELECT n.node_id, row_number() OVER (
                        ORDER BY n.is_other, coalesce(c.base_n, 0) + coalesce(c.rl_n, 0) DESC, n.node_id) - 1 AS rank
                    FROM tree_nodes n LEFT JOIN node_counts c USING (node_id)
                    WHERE n.problem_id = $pid AND n.parent_id IS NOT DISTINCT FROM
                          (SELECT parent_id FROM tree_nodes WHERE problem_id = $pid AND node_id = $node))
            SELECT rank FROM sib WHERE node_id = $node""",
        {"pid": problem_id, "base": base_id, "rl": rl_id, "node": node_id},
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def path_to(con: duckdb.DuckDBPyConnection, problem_id: str, node_id: int) -> list[int]:
    """Node ids from a root down to ``node_id`` (inclusive)."""
    rows = con.execute(
        """WITH RECURSIVE up(node_id, parent_id, depth) AS (
               SELECT node_id, parent_id, depth FROM tree_nodes WHERE problem_id = ? AND node_id = ?
               UNION ALL
               SELECT n.node_id, n.parent_id, n.depth FROM tree_nodes n JOIN up ON n.node_id = up.parent_id
               WHERE n.problem_id = ?)
           SELECT node_id FROM up ORDER BY depth""",
        [problem_id, node_id, problem_id],
    ).fetchall()
    return [int(r[0]) for r in rows]


def divergence(con: duckdb.DuckDBPyConnection, problem_id: str, base_id: int, rl_id: int) -> dict | None:
    """Where base and RL part ways: the deepest node both models' samples pass
    through (ties: the busier node).  None when they share no node."""
    cur = con.execute(
        f"""WITH {_NODE_COUNTS}
            SELECT n.node_id, n.depth, n.label, c.base_n, c.rl_n
            FROM node_counts c JOIN tree_nodes n ON n.problem_id = $pid AND n.node_id = c.node_id
            WHERE c.base_n > 0 AND c.rl_n > 0
            ORDER BY n.depth DESC, c.base_n + c.rl_n DESC, n.node_id LIMIT 1""",
        {"pid": problem_id, "base": base_id, "rl": rl_id},
    )
    rows = _dicts(cur, cur.fetchall())
    return rows[0] if rows else None


def rl_only_count(con: duckdb.DuckDBPyConnection, problem_id: str, base_id: int, rl_id: int) -> int:
    """Nodes only the compared model's samples reach."""
    return int(con.execute(
        f"""WITH {_NODE_COUNTS} SELECT count(*) FROM node_counts WHERE base_n = 0 AND rl_n > 0""",
        {"pid": problem_id, "base": base_id, "rl": rl_id},
    ).fetchall()[0][0])


def node_samples(
    con: duckdb.DuckDBPyConnection, problem_id: str, node_id: int, model_ids: list[int],
    offset: int = 0, limit: int = 200,
) -> tuple[list[dict], int]:
    """The samples whose path passes through a node (a slice, and the total)."""
    ids = ", ".join(str(int(m)) for m in model_ids) or "NULL"
    cur = con.execute(
        f"""SELECT tp.model_id, m.name AS model, tp.sample_idx, v.correct, v.extracted,
                   left(s.text, {PREVIEW}) AS preview, count(*) OVER () AS total
            FROM tree_paths tp
            JOIN models m USING (model_id)
            LEFT JOIN samples s USING (model_id, problem_id, sample_idx)
            LEFT JOIN (SELECT * FROM verdict WHERE problem_id = ?) v USING (model_id, problem_id, sample_idx)
            WHERE tp.problem_id = ? AND list_contains(tp.node_ids, ?) AND tp.model_id IN ({ids})
            ORDER BY tp.model_id, tp.sample_idx LIMIT ? OFFSET ?""",
        [problem_id, problem_id, node_id, limit, offset],
    )
    return _page(cur)


# -- strategy clusters ------------------------------------------------------------


def clusters(
    con: duckdb.DuckDBPyConnection, problem_id: str, base_id: int, rl_id: int, rl_without_base: bool = False,
) -> list[dict]:
    """A problem's strategy clusters with members per model and verdict, label
    and a medoid preview.  ``rl_without_base``: only clusters with a correct
    member of the compared model and no member of the base model."""
    having = "HAVING rl_correct > 0 AND base_n = 0" if rl_without_base else ""
    cur = con.execute(
        f"""SELECT c.cluster_id, c.label, c.size,
                   count(cm.sample_idx) FILTER (WHERE cm.model_id = $base) AS base_n,
                   count(cm.sample_idx) FILTER (WHERE cm.model_id = $base AND v.correct) AS base_correct,
                   count(cm.sample_idx) FILTER (WHERE cm.model_id = $rl) AS rl_n,
                   count(cm.sample_idx) FILTER (WHERE cm.model_id = $rl AND v.correct) AS rl_correct,
                   count(cm.sample_idx) FILTER (WHERE cm.model_id NOT IN ($base, $rl)) AS other_n,
                   any_value(mm.name) AS medoid_model, any_value(c.medoid_sample_idx) AS medoid_sample_idx,
                   any_value(left(ms.text, {PREVIEW})) AS medoid_preview
            FROM clusters c
            LEFT JOIN cluster_members cm ON cm.problem_id = c.problem_id AND cm.cluster_id = c.cluster_id
            LEFT JOIN (SELECT * FROM verdict WHERE problem_id = $pid) v
                 ON v.model_id = cm.model_id AND v.problem_id = cm.problem_id AND v.sample_idx = cm.sample_idx
            LEFT JOIN models mm ON mm.model_id = c.medoid_model_id
            LEFT JOIN samples ms ON ms.model_id = c.medoid_model_id AND ms.problem_id = c.problem_id
                                 AND ms.sample_idx = c.medoid_sample_idx
            WHERE c.problem_id = $pid
            GROUP BY c.cluster_id, c.label, c.size
            {having}
            ORDER BY rl_n + base_n DESC, c.cluster_id""",
        {"pid": problem_id, "base": base_id, "rl": rl_id},
    )
    return _dicts(cur, cur.fetchall())


def cluster_members(
    con: duckdb.DuckDBPyConnection, problem_id: str, cluster_id: int, offset: int = 0, limit: int = 200,
) -> tuple[list[dict], int]:
    """The members of one cluster (a slice, and the total), model by model."""
    cur = con.execute(
        f"""SELECT cm.model_id, m.name AS model, cm.sample_idx, v.correct, v.extracted,
                   left(s.text, {PREVIEW}) AS preview, count(*) OVER () AS total
            FROM cluster_members cm
            JOIN models m USING (model_id)
            LEFT JOIN samples s USING (model_id, problem_id, sample_idx)
            LEFT JOIN (SELECT * FROM verdict WHERE problem_id = ?) v USING (model_id, problem_id, sample_idx)
            WHERE cm.problem_id = ? AND cm.cluster_id = ?
            ORDER BY cm.model_id, cm.sample_idx LIMIT ? OFFSET ?""",
        [problem_id, problem_id, cluster_id, limit, offset],
    )
    return _page(cur)


def _page(cur) -> tuple[list[dict], int]:
    """Rows of a paged query that carries a window ``total`` column, and that total."""
    rows = _dicts(cur, cur.fetchall())
    total = rows[0]["total"] if rows else 0
    for r in rows:
        r.pop("total")
    return rows, int(total)


def sample_text(con: duckdb.DuckDBPyConnection, model_id: int, problem_id: str, sample_idx: int) -> str | None:
    rows = con.execute(
        "SELECT text FROM samples WHERE model_id = ? AND problem_id = ? AND sample_idx = ?",
        [model_id, problem_id, sample_idx],
    ).fetchall()
    return rows[0][0] if rows else None
