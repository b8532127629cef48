"""The SQL of the review queue: what to judge, in a stable order, with its evidence.

A queue holds either the correct samples of a compared model (``sample``
targets) or the strategy clusters that hold such samples (``cluster``
targets).  Only keys and each target's current label are loaded for the whole
queue; texts and evidence are read one item at a time.
"""

from __future__ import annotations

from .run import Run

# The reviewer's current marks of one kind, split back into keys.  Keys are
# matched as (problem_id, key) so that no target-id string is built per queue
# row (a whole-run queue holds hundreds of thousands).
_SAMPLE_MARKS = """marks AS (
    SELECT regexp_replace(rest, '/[0-9]+$', '') AS problem_id,
           TRY_CAST(regexp_extract(rest, '/([0-9]+)$', 1) AS INTEGER) AS k, label
    FROM (SELECT substr(a.target_id, length($name) + 2) AS rest, a.label, a.annotation_id, a.target_id
          FROM annotations a
          WHERE a.target_kind = 'sample' AND a.reviewer = $reviewer AND starts_with(a.target_id, $name || '/')
            AND NOT EXISTS (SELECT 1 FROM models m2 WHERE length(m2.name) > length($name)
                            AND starts_with(a.target_id, m2.name || '/'))
          QUALIFY row_number() OVER (PARTITION BY a.target_id ORDER BY a.annotation_id DESC) = 1))"""

_CLUSTER_MARKS = """marks AS (
    SELECT regexp_replace(target_id, '/[0-9]+$', '') AS problem_id,
           TRY_CAST(regexp_extract(target_id, '/([0-9]+)$', 1) AS INTEGER) AS k, label
    FROM annotations
    WHERE target_kind = 'cluster' AND reviewer = $reviewer
    QUALIFY row_number() OVER (PARTITION BY target_id ORDER BY annotation_id DESC) = 1)"""


def sample_queue(run: Run, model_id: int, model_name: str, reviewer: str, problem_id: str | None = None):
    """Arrow table (problem_id, k = sample_idx, label) of the model's correct
    samples, ordered by problem then sample; label is the reviewer's current
    mark or NULL."""
    params: dict = {"reviewer": reviewer, "model": model_id, "name": model_name}
    where = "model_id = $model AND correct"
    if problem_id is not None:
        where += " AND problem_id = $pid"
        params["pid"] = problem_id
    return run.con.sql(
        f"""WITH {_SAMPLE_MARKS},
            q AS (SELECT problem_id, sample_idx AS k FROM verdict WHERE {where})
            SELECT q.problem_id, q.k, marks.label
            FROM q LEFT JOIN marks USING (problem_id, k)
            ORDER BY q.problem_id, q.k""",
        params=params,
    ).to_arrow_table()


def cluster_queue(run: Run, model_id: int, reviewer: str, problem_id: str | None = None):
    """Arrow table (problem_id, k = cluster_id, label) of the clusters that
    hold at least one correct sample of the model."""
    params: dict = {"reviewer": reviewer, "model": model_id}
    where = "cm.model_id = $model AND v.correct"
    vfilter = "model_id = $model"
    if problem_id is not None:
        where += " AND cm.problem_id = $pid"
        vfilter += " AND problem_id = $pid"
        params["pid"] = problem_id
    return run.con.sql(
        f"""WITH {_CLUSTER_MARKS},
            q AS (SELECT DISTINCT c.problem_id, c.cluster_id AS k
                  FROM cluster_members cm
                  JOIN (SELECT model_id, problem_id, sample_idx, correct FROM verdict WHERE {vfilter}) v
                       USING (model_id, problem_id, sample_idx)
                  JOIN clusters c ON c.problem_id = cm.problem_id AND c.cluster_id = cm.cluster_id
                  WHERE {where})
            SELECT q.problem_id, q.k, marks.label
            FROM q LEFT JOIN marks USING (problem_id, k)
            ORDER BY q.problem_id, q.k""",
        params=params,
    ).to_arrow_table()


def sample_text(run: Run, model_id: int, problem_id: str, sample_idx: int) -> tuple[str, str | None, bool | None] | None:
    """(text, extracted answer, correct) of one sample."""
    row = run.one(
        """SELECT s.text, v.extracted, v.correct FROM samples s
           LEFT JOIN (SELECT * FROM verdict WHERE model_id = $m AND problem_id = $p AND sample_idx = $i) v
                USING (model_id, problem_id, sample_idx)
           WHERE s.model_id = $m AND s.problem_id = $p AND s.sample_idx = $i""",
        {"m": model_id, "p": problem_id, "i": sample_idx},
    )
    return (row[0], row[1], row[2]) if row else None


def sample_with_evidence(run: Run, model_id: int, base_model_id: int, problem_id: str, sample_idx: int) -> dict | None:
    """A sample under review: its text, extracted answer, its evidence row
    against the base model and the nearest base CoT's text.  Three point
    lookups: joined in one statement DuckDB scans the evidence and base
    samples tables (tenths of a second at paper scale)."""
    got = sample_text(run, model_id, problem_id, sample_idx)
    if got is None:
        return None
    out = {"text": got[0], "extracted": got[1], "correct": got[2]}
    cur = run.con.execute(
        """SELECT nearest_base_idx, similarity, nearest_base_correct, shares_cluster_with_correct_base,
                  ppl_under_base, answer_in_base, suggested_mark, confidence
           FROM evidence WHERE model_id = ? AND problem_id = ? AND sample_idx = ? AND base_model_id = ?""",
        [model_id, problem_id, sample_idx, base_model_id],
    )
    rows = cur.fetchall()
    names = [d[0] for d in cur.description]
    out.update(dict(zip(names, rows[0])) if rows else dict.fromkeys(names))
    out["nearest_base_text"] = None
    if out["nearest_base_idx"] is not None:
        row = run.one("SELECT text FROM samples WHERE model_id = ? AND problem_id = ? AND sample_idx = ?",
                      [base_model_id, problem_id, int(out["nearest_base_idx"])])
        out["nearest_base_text"] = row[0] if row else None
    return out


def sample_cluster(run: Run, model_id: int, base_model_id: int, problem_id: str, sample_idx: int) -> dict | None:
    """The cluster of a sample with its member counts for the pair of models."""
    if run.one("SELECT 1 FROM cluster_members WHERE model_id = ? AND problem_id = ? AND sample_idx = ?",
               [model_id, problem_id, sample_idx]) is None:
        return None  # not clustered: skip the counting query
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
           LEFT JOIN (SELECT * FROM verdict WHERE problem_id = ?) v
                ON v.model_id = cm.model_id AND v.problem_id = cm.problem_id AND v.sample_idx = cm.sample_idx
           GROUP BY c.cluster_id, c.label, c.size""",
        [model_id, problem_id, sample_idx, base_model_id, base_model_id, model_id, model_id, problem_id, problem_id],
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
           LEFT JOIN (SELECT * FROM verdict WHERE problem_id = ?) v
                ON v.model_id = cm.model_id AND v.problem_id = cm.problem_id AND v.sample_idx = cm.sample_idx
           WHERE c.problem_id = ? AND c.cluster_id = ?
           GROUP BY ALL""",
        [base_model_id, base_model_id, model_id, model_id, problem_id, problem_id, cluster_id],
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
           JOIN (SELECT * FROM verdict WHERE model_id = ? AND problem_id = ?) v USING (model_id, problem_id, sample_idx)
           WHERE cm.model_id = ? AND cm.problem_id = ? AND cm.cluster_id = ? AND v.correct""",
        [model_id, problem_id, model_id, problem_id, cluster_id],
    )
    return None if row is None or row[0] is None else int(row[0])
