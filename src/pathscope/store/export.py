"""The SQL behind ``pathscope export``: one query per kind of export.

Each query reads the selected problems from a registered relation
``_export_sel(problem_id)`` when a selection is given.  ``flat=True`` turns
nested columns (lists, structs, JSON) into JSON text, for CSV.

Reviewers' marks come from the append-only ``annotations``: the current mark
of a (target_kind, target_id, reviewer) is its row with the highest
annotation_id; a current label 'cleared' means no mark.  Target ids: a
sample is ``"<model name>/<problem_id>/<sample_idx>"``, a cluster
``"<problem_id>/<cluster_id>"``.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

from .run import Run

WHATS = ("clusters", "samples", "tree", "annotations")

_CURRENT = """
current_marks AS (
    SELECT annotation_id, target_kind, target_id, reviewer, label, note, created_at
    FROM annotations
    QUALIFY row_number() OVER (PARTITION BY target_kind, target_id, reviewer ORDER BY annotation_id DESC) = 1
)"""


def _sel(column: str, selected: bool) -> str:
    return f"{column} IN (SELECT problem_id FROM _export_sel)" if selected else "TRUE"


def _j(expr: str, flat: bool) -> str:
    return f"CAST(to_json({expr}) AS VARCHAR)" if flat else expr


def clusters_query(selected: bool, flat: bool) -> str:
    return f"""
WITH {_CURRENT},
member_counts AS (
    SELECT cm.problem_id, cm.cluster_id, m.name AS model, min(cm.model_id) AS model_id,
           count(*) AS n,
           count(*) FILTER (WHERE v.correct) AS correct,
           count(*) FILTER (WHERE v.correct = false) AS incorrect,
           count(*) FILTER (WHERE v.correct IS NULL) AS unknown
    FROM cluster_members cm
    JOIN models m USING (model_id)
    LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
    WHERE {_sel('cm.problem_id', selected)}
    GROUP BY cm.problem_id, cm.cluster_id, m.name),
members AS (
    SELECT problem_id, cluster_id,
           list({{'model': model, 'n': n, 'correct': correct, 'incorrect': incorrect, 'unknown': unknown}}
                ORDER BY model_id) AS members
    FROM member_counts GROUP BY problem_id, cluster_id),
ev AS (
    SELECT cm.problem_id, cm.cluster_id,
           count(*) AS n,
           count(*) FILTER (WHERE e.suggested_mark = 'already_in_base') AS already_in_base,
           count(*) FILTER (WHERE e.suggested_mark = 'possibly_novel') AS possibly_novel,
           count(*) FILTER (WHERE e.shares_cluster_with_correct_base) AS shares_cluster_with_correct_base,
           count(*) FILTER (WHERE e.answer_in_base) AS answer_in_base,
           round(avg(e.similarity), 4) AS mean_nearest_base_similarity,
           round(median(e.ppl_under_base), 4) AS median_ppl_under_base
    FROM evidence e
    JOIN cluster_members cm USING (model_id, problem_id, sample_idx)
    WHERE {_sel('cm.problem_id', selected)}
    GROUP BY cm.problem_id, cm.cluster_id),
cluster_marks AS (
    SELECT target_id,
           list({{'reviewer': reviewer, 'label': label, 'note': note, 'at': strftime(created_at, '%Y-%m-%dT%H:%M:%S')}}
                ORDER BY reviewer) AS marks
    FROM current_marks
    WHERE target_kind = 'cluster' AND label IS DISTINCT FROM 'cleared'
    GROUP BY target_id),
sample_marks AS (
    SELECT cm.problem_id, cm.cluster_id, cur.label, count(*) AS n
    FROM current_marks cur
    JOIN models m ON starts_with(cur.target_id, m.name || '/')
    JOIN cluster_members cm ON cm.model_id = m.model_id
         AND cur.target_id = m.name || '/' || cm.problem_id || '/' || cm.sample_idx
    WHERE cur.target_kind = 'sample' AND cur.label IS DISTINCT FROM 'cleared'
    GROUP BY ALL),
member_marks AS (
    SELECT problem_id, cluster_id, list({{'label': label, 'n': n}} ORDER BY label) AS member_marks
    FROM sample_marks GROUP BY problem_id, cluster_id)
SELECT c.problem_id, c.cluster_id, c.label, c.size,
       {_j('mem.members', flat)} AS members,
       mm.name AS medoid_model, c.medoid_sample_idx,
       ms.text AS medoid_text,
       {_j("CASE WHEN ev.n IS NULL THEN NULL ELSE {'n': ev.n, 'already_in_base': ev.already_in_base, 'possibly_novel': ev.possibly_novel, 'shares_cluster_with_correct_base': ev.shares_cluster_with_correct_base, 'answer_in_base': ev.answer_in_base, 'mean_nearest_base_similarity': ev.mean_nearest_base_similarity, 'median_ppl_under_base': ev.median_ppl_under_base} END", flat)} AS evidence,
       {_j('coalesce(cmk.marks, [])', flat)} AS marks,
       {_j('coalesce(mmk.member_marks, [])', flat)} AS member_marks
FROM clusters c
LEFT JOIN members mem USING (problem_id, cluster_id)
LEFT JOIN ev USING (problem_id, cluster_id)
LEFT JOIN models mm ON mm.model_id = c.medoid_model_id
LEFT JOIN samples ms ON ms.model_id = c.medoid_model_id AND ms.problem_id = c.problem_id
                     AND ms.sample_idx = c.medoid_sample_idx
LEFT JOIN cluster_marks cmk ON cmk.target_id = c.problem_id || '/' || c.cluster_id
LEFT JOIN member_marks mmk USING (problem_id, cluster_id)
WHERE {_sel('c.problem_id', selected)}
ORDER BY c.problem_id, c.cluster_id"""


def samples_query(selected: bool, flat: bool) -> str:
    return f"""
WITH {_CURRENT},
ev AS (
    SELECT * FROM evidence
    QUALIFY row_number() OVER (PARTITION BY model_id, problem_id, sample_idx ORDER BY base_model_id) = 1),
marks AS (
    SELECT target_id,
           list({{'reviewer': reviewer, 'label': label, 'note': note, 'at': strftime(created_at, '%Y-%m-%dT%H:%M:%S')}}
                ORDER BY reviewer) AS marks
    FROM current_marks
    WHERE target_kind = 'sample' AND label IS DISTINCT FROM 'cleared'
    GROUP BY target_id)
SELECT m.name AS model, m.role, s.problem_id, s.sample_idx,
       v.correct, v.extracted, v.verifier,
       cm.cluster_id, tp.leaf_id AS tree_leaf,
       bm.name AS evidence_base_model, ev.nearest_base_idx, ev.similarity AS nearest_base_similarity,
       ev.nearest_base_correct, ev.shares_cluster_with_correct_base, ev.ppl_under_base, ev.answer_in_base,
       ev.suggested_mark, ev.confidence,
       {_j('coalesce(mk.marks, [])', flat)} AS marks,
       s.n_tokens, s.finish_reason, s.text
FROM samples s
JOIN models m USING (model_id)
LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
LEFT JOIN cluster_members cm USING (model_id, problem_id, sample_idx)
LEFT JOIN tree_paths tp USING (model_id, problem_id, sample_idx)
LEFT JOIN ev USING (model_id, problem_id, sample_idx)
LEFT JOIN models bm ON bm.model_id = ev.base_model_id
LEFT JOIN marks mk ON mk.target_id = m.name || '/' || s.problem_id || '/' || s.sample_idx
WHERE {_sel('s.problem_id', selected)}
ORDER BY s.problem_id, s.model_id, s.sample_idx"""


def tree_query(selected: bool, flat: bool) -> str:
    counts = "CAST(n.counts AS VARCHAR)" if flat else "n.counts"
    return f"""
SELECT n.problem_id, n.node_id, n.parent_id, n.depth, n.label, n.is_other, n.n_children,
       CAST(json_extract(n.counts, '$.n') AS INTEGER) AS n,
       CAST(json_extract(n.counts, '$.end') AS INTEGER) AS n_end,
       {counts} AS counts, n.rep_text
FROM tree_nodes n
WHERE {_sel('n.problem_id', selected)}
ORDER BY n.problem_id, n.node_id"""


def annotations_query(selected: bool, flat: bool) -> str:
    # A cluster target's problem is all but its last segment; a sample's is
    # what lies between a model name and the sample index.
    where = "TRUE"
    if selected:
        where = """(a.target_kind = 'cluster' AND regexp_replace(a.target_id, '/[^/]*$', '') IN (SELECT problem_id FROM _export_sel))
                 OR (a.target_kind = 'sample' AND EXISTS (
                        SELECT 1 FROM models m, _export_sel x
                        WHERE starts_with(a.target_id, m.name || '/' || x.problem_id || '/')
                          AND regexp_full_match(substr(a.target_id, length(m.name || '/' || x.problem_id || '/') + 1), '[0-9]+')))"""
    return f"""
SELECT a.annotation_id, a.target_kind, a.target_id, a.label, a.note, a.reviewer,
       strftime(a.created_at, '%Y-%m-%dT%H:%M:%S') AS created_at,
       row_number() OVER (PARTITION BY a.target_kind, a.target_id, a.reviewer ORDER BY a.annotation_id DESC) = 1 AS is_current
FROM annotations a
WHERE {where}
ORDER BY a.annotation_id"""


QUERIES = {"clusters": clusters_query, "samples": samples_query, "tree": tree_query, "annotations": annotations_query}


class Selection:
    """Registers the problem selection for the duration of an export."""

    def __init__(self, run: Run, problem_ids: Sequence[str] | None):
        self.run = run
        self.ids = list(problem_ids) if problem_ids is not None else None

    def __enter__(self) -> bool:
        if self.ids is None:
            return False
        self.run.con.register("_export_sel", pa.table({"problem_id": pa.array(self.ids, pa.string())}))
        return True

    def __exit__(self, *exc) -> None:
        if self.ids is not None:
            self.run.con.unregister("_export_sel")


def copy_to(run: Run, query: str, path: str, fmt: str) -> int:
    """``COPY (query) TO path`` in jsonl, csv or parquet; returns the rows written
    (COPY reports them, so the query runs once)."""
    options = {"jsonl": "FORMAT json", "csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet"}[fmt]
    quoted = "'" + str(path).replace("'", "''") + "'"
    got = run.con.execute(f"COPY ({query}) TO {quoted} ({options})").fetchall()
    return int(got[0][0]) if got else 0


def rows(run: Run, query: str) -> list[dict]:
    cur = run.con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def problem_prompts(run: Run, problem_ids: Sequence[str]) -> dict[str, str]:
    if not problem_ids:
        return {}
    qs = ", ".join("?" for _ in problem_ids)
    return {r[0]: r[1] for r in run.con.execute(f"SELECT problem_id, prompt FROM problems WHERE problem_id IN ({qs})", list(problem_ids)).fetchall()}
