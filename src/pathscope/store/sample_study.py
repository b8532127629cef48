"""Reads the sample study's training step needs from a run."""

from __future__ import annotations

from .run import Run


def verified_correct(run: Run, model_id: int) -> list[tuple[str, str, int, str]]:
    """(problem_id, question, sample_idx, text) of every sample the effective verdict marks correct."""
    return run.con.execute(
        """
        SELECT s.problem_id, p.prompt, s.sample_idx, s.text
        FROM samples s
        JOIN verdict v USING (model_id, problem_id, sample_idx)
        JOIN problems p USING (problem_id)
        WHERE s.model_id = ? AND v.correct
        ORDER BY s.problem_id, s.sample_idx
        """,
        [model_id],
    ).fetchall()


def verdict_counts(run: Run, model_id: int) -> tuple[int, int, int]:
    """(samples, verified, correct) of one model."""
    row = run.one(
        """
        SELECT count(*), count(v.correct), count(*) FILTER (WHERE v.correct)
        FROM samples s LEFT JOIN verdict v USING (model_id, problem_id, sample_idx)
        WHERE s.model_id = ?
        """,
        [model_id],
    )
    return int(row[0]), int(row[1]), int(row[2])
