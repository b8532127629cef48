"""The SQL of the review queue: what to judge, in a stable order, with its evidence.

A queue holds either the correct samples of a compared model (``sample``
targets) or the strategy clusters that hold such samples (``cluster``
targets).  Only keys and each target's current label are loaded for the whole
queue; texts and evidence are read one item at a time.
"""

from __future__ import annotations

from .run import Run

_SAMPLE_TID = "m.name || '/' || v.problem_id || '/' || CAST(v.sample_idx AS VARCHAR)"
_CLUSTER_TID = "c.problem_id || '/' || CAST(c.cluster_id AS VARCHAR)"


def _current_labels_cte(kind: str) -> str:
    return f"""cur AS (
        SELECT target_id, label FROM annotations
        WHERE target_kind = '{kind}' AND reviewer = ?
        QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY annotation_id DESC) = 1)"""


def sample_queue(run: Run, model_id: int, reviewer: str, problem_id: str | None = None):
    """Arrow table (problem_id, sample_idx, target_id, label) of the model's
    correct samples, ordered by problem then sample; label is the reviewer's
    current mark or NULL."""
    where = "v.model_id = ? AND v.correct"
    params: list = [reviewer, model_id]
    if problem_id is not None:
        where += " AND v.problem_id = ?"
        params.append(problem_id)
    return run.sql(
        f"""WITH {_current_labels_cte('sample')},
            q AS (SELECT v.problem_id, v.sample_idx, {_SAMPLE_TID} AS target_id
                  FROM verdict v JOIN models m ON m.model_id = v.model_id WHERE {where})
            SELECT q.problem_id, q.sample_idx, q.target_id, cur.label
            FROM q LEFT JOIN cur USING (target_id)
            ORDER BY q.problem_id, q.sample_idx""",
        params,
    )


def cluster_queue(run: Run, model_id: int, reviewer: str, problem_id: str | None = None):
    """Arrow table (problem_id, cluster_id, target_id, label) of the clusters
    that hold at least one correct sample of the model."""
    where = "cm.model_id = ? AND v.correct"
    params: list = [reviewer, model_id]
    if problem_id is not None:
        where += " AND cm.problem_id = ?"
        params.append(problem_id)
    return run.sql(
        f"""WITH {_current_labels_cte('cluster')},
            q AS (SELECT DISTINCT c.problem_id, c.cluster_id, {_CLUSTER_TID} AS target_id
                  FROM cluster_members cm
                  JOIN verdict v USING (model_id, problem_id, sample_idx)
                  JOIN clusters c ON c.problem_id = cm.problem_id AND c.cluster_id = cm.cluster_id
                  WHERE {where})
            SELECT q.problem_id, q.cluster_id, q.target_id, cur.label
            FROM q LEFT JOIN cur USING (target_id)
            ORDER BY q.problem_id, q.cluster_id""",
        params,
    )


def sample_text(run: Run, model_id: int, problem_id: str, sample_idx: int) -> tuple[str, str | None, bool | None] | None:
    """(text, extracted answer, correct) of one sample."""
    row = run.one(
        """SELECT s.text, v.extracted, v.correct FROM samples s
           LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
           WHERE s.model_id = ? AND s.problem_id = ? AND s.sample_idx = ?""",
        [model_id, problem_id, sample_idx],
    )
    return (row[0], row[1], row[2]) if row else None


def sample_evidence(run: Run, model_id: int, base_model_id: int, problem_id: str, sample_idx: int) -> dict | None:
    """The evidence row of an RL sample against the base model, or None."""
    cur = run.con.execute(
        """SELECT nearest_base_idx, similarity, nearest_base_correct, shares_cluster_with_correct_base,
                  ppl_under_base, answer_in_base, suggested_mark, confidence
           FROM evidence WHERE model_id = ? AND base_model_id = ? AND problem_id = ? AND sample_idx = ?""",
        [model_id, base_model_id, problem_id, sample_idx],
    )
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def sample_cluster(run: Run, model_id: int, base_model_id: int, problem_id: str, sample_idx: int) -> dict | None:
    """The cluster of a sample with its member counts for the pair of models."""
    cur = run.con.execute(
        """WITH me AS (SELECT cluster_id FROM cluster_members
                       WHERE model_id = ? AND problem_id = ? AND sample_idx = ?)
           SELECT c.cluster_id, c.label, c.size,
                  count(*) FILTER (WHERE cm.model_id = ?) AS base_n,
                  count(*) FILTER (WHERE cm.model_id = ? AND v.correct) AS base_correct,
                  count(*) FILTER (WHERE cm.model_id = ?) AS rl_n,
                  count(*) FILTER (WHERE cm.model_id = ? AND v.correct) AS rl_correct
           FROM me JOIN clusters c ON c.problem_id = ? AND c.cluster_id = me.cluster_id
           JOIN cluster_members cm ON cm.problem_id = c.problem_id AND cm.cluster_id = c.cluster_id
           LEFT JOIN verdict v ON v.model_id = cm.model_id AND v.problem_id = cm.problem_id AND v.sample_idx = cm.sample_idx
           GROUP BY c.cluster_id, c.label, c.size""",
        [model_id, problem_id, sample_idx, base_model_id, base_model_id, model_id, model_id, problem_id],
    )
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def base_answer_counts(run: Run, base_model_id: int, problem_id: str, extracted: str | None) -> tuple[int, int]:
    """(base samples with the same extracted answer, base samples verified)."""
    row = run.one(
        """SELECT count(*) FILTER (WHERE extracted IS NOT DISTINCT FROM ? AND ? IS NOT NULL), count(*)
           FROM verdict WHERE model_id = ? AND problem_id = ?""",
        [extracted, extracted, base_model_id, problem_id],
    )
    return int(row[0]), int(row[1])


def cluster_detail(run: Run, model_id: int, base_model_id: int, problem_id: str, cluster_id: int) -> dict | None:
    """A cluster with its member counts for the pair, its medoid and its label."""
    cur = run.con.execute(
        """SELECT c.cluster_id, c.label, c.size, c.medoid_model_id, c.medoid_sample_idx,
                  count(*) FILTER (WHERE cm.model_id = ?) AS base_n,
                  count(*) FILTER (WHERE cm.model_id = ? AND v.correct) AS base_correct,
                  count(*) FILTER (WHERE cm.model_id = ?) AS rl_n,
                  count(*) FILTER (WHERE cm.model_id = ? AND v.correct) AS rl_correct
           FROM clusters c
           LEFT JOIN cluster_members cm ON cm.problem_id = c.problem_id AND cm.cluster_id = c.cluster_id
           LEFT JOIN verdict v ON v.model_id = cm.model_id AND v.problem_id = cm.problem_id AND v.sample_idx = cm.sample_idx
           WHERE c.problem_id = ? AND c.cluster_id = ?
           GROUP BY ALL""",
        [base_model_id, base_model_id, model_id, model_id, problem_id, cluster_id],
    )
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def cluster_best_evidence(run: Run, model_id: int, base_model_id: int, problem_id: str, cluster_id: int) -> dict | None:
    """Over the model's correct members of a cluster: the member whose nearest
    base sample is most similar, and how the members' suggestions split."""
    cur = run.con.execute(
        """WITH ev AS (
               SELECT e.* FROM evidence e
               JOIN cluster_members cm USING (model_id, problem_id, sample_idx)
               WHERE e.model_id = ? AND e.base_model_id = ? AND e.problem_id = ? AND cm.cluster_id = ?)
           SELECT arg_max(sample_idx, similarity) AS sample_idx,
                  arg_max(nearest_base_idx, similarity) AS nearest_base_idx,
                  max(similarity) AS similarity,
                  avg(ppl_under_base) AS mean_ppl_under_base,
                  count(*) FILTER (WHERE answer_in_base) AS n_answer_in_base,
                  count(*) FILTER (WHERE suggested_mark = 'already_in_base') AS n_suggest_base,
                  count(*) FILTER (WHERE suggested_mark IN ('possibly_novel', 'novel')) AS n_suggest_novel,
                  count(*) AS n_evidence
           FROM ev HAVING count(*) > 0""",
        [model_id, base_model_id, problem_id, cluster_id],
    )
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0]))


def first_correct_member(run: Run, model_id: int, problem_id: str, cluster_id: int) -> int | None:
    row = run.one(
        """SELECT min(cm.sample_idx) FROM cluster_members cm
           JOIN verdict v USING (model_id, problem_id, sample_idx)
           WHERE cm.model_id = ? AND cm.problem_id = ? AND cm.cluster_id = ? AND v.correct""",
        [model_id, problem_id, cluster_id],
    )
    return None if row is None or row[0] is None else int(row[0])
