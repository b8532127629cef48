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


def combine_shard(run: Run, shard_path: str) -> dict[str, int]:
    """Copy every sampled model's samples, their perplexity scores and the
    shard's sample/score stages from a shard run (sampled in parallel) into
    ``run``.  Models match by name and must have the same role and sampling
    parameters; a scorer must already be a model of ``run`` (by name);
    problems must already be in ``run``; keys already stored are skipped.
    Returns samples added per model."""
    import json

    from ..errors import RunError

    run._require_write()
    con = run.con
    con.execute("ATTACH ? AS shard (READ_ONLY)", [str(shard_path)])
    try:
        models = con.execute(
            "SELECT model_id, name, role, path_or_endpoint, backend, sampling_params FROM shard.models "
            "WHERE model_id IN (SELECT DISTINCT model_id FROM shard.samples)"
        ).fetchall()

        missing = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT problem_id FROM shard.samples) "
            "WHERE problem_id NOT IN (SELECT problem_id FROM problems)"
        ).fetchall()[0][0]
        if missing:
            raise RunError(f"{shard_path}: {missing} sampled problems are not in {run.path}; add them first.")
        added: dict[str, int] = {}
        id_map: dict[int, int] = {}
        with run.transaction():
            for old_id, name, role, path, backend, params in models:
                params_dict = json.loads(params) if params else None
                existing = run.one("SELECT sampling_params FROM models WHERE name = ?", [name])
                if existing is not None and existing[0] and params and json.loads(existing[0]) != params_dict:
                    raise RunError(f"{shard_path}: model {name!r} was sampled with other parameters than in {run.path}.")
                new_id = run.ensure_model(name, role=role, path_or_endpoint=path, backend=backend, sampling_params=params_dict)
                before = run.count("samples")
                con.execute(
                    """INSERT OR IGNORE INTO samples
                       (model_id, problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed, created_at)
                       SELECT ?, problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed, created_at
                       FROM shard.samples WHERE model_id = ?""",
                    [new_id, old_id],
                )
                added[name] = run.count("samples") - before
                id_map[old_id] = new_id
            scorers = con.execute(
                "SELECT DISTINCT m.model_id, m.name, main.model_id FROM shard.scores s "
                "JOIN shard.models m ON m.model_id = s.scorer_model_id LEFT JOIN models main ON main.name = m.name"
            ).fetchall()
            unknown = [name for _, name, mapped in scorers if mapped is None]
            if unknown:
                raise RunError(f"{shard_path}: scorer {unknown[0]!r} is not a model of {run.path}.")
            for old_id, new_id in id_map.items():
                for old_scorer, _name, new_scorer in scorers:
                    con.execute(
                        """INSERT OR IGNORE INTO scores
                           (model_id, problem_id, sample_idx, scorer_model_id, ppl, mean_logprob, n_tokens, created_at)
                           SELECT ?, problem_id, sample_idx, ?, ppl, mean_logprob, n_tokens, created_at
                           FROM shard.scores WHERE model_id = ? AND scorer_model_id = ?""",
                        [new_id, new_scorer, old_id, old_scorer],
                    )
            con.execute(
                """INSERT INTO stages (stage, params, versions, started_at, finished_at, status, summary)
                   SELECT stage, params, versions, started_at, finished_at, status,
                          json_object('shard', ?, 'summary', summary)
                   FROM shard.stages WHERE stage IN ('sample', 'score')""",
                [str(shard_path)],
            )
    finally:
        con.execute("DETACH shard")
    return added


def drop_unsampled_problems(run: Run) -> int:
    """Remove problems no model has samples for (a run sampled on part of a split); returns how many."""
    run._require_write()
    with run.transaction():
        before = run.count("problems")
        run.con.execute("DELETE FROM problems WHERE problem_id NOT IN (SELECT DISTINCT problem_id FROM samples)")
        return before - run.count("problems")
