"""The SQL behind ``pathscope info``."""

from __future__ import annotations

from .run import Run

_TABLES = ("problems", "samples", "verdicts", "scores", "embeddings", "clusters", "tree_nodes", "evidence", "annotations")


def run_summary(run: Run) -> dict:
    con = run.con
    meta = run.meta()
    models = []
    for m in run.models():
        samples, problems = con.execute(
            "SELECT count(*), count(DISTINCT problem_id) FROM samples WHERE model_id = ?", [m.model_id]
        ).fetchall()[0]
        mn, med, mx = con.execute(
            """SELECT min(c), median(c), max(c) FROM (
                   SELECT count(*) AS c FROM samples WHERE model_id = ? GROUP BY problem_id)""",
            [m.model_id],
        ).fetchall()[0]
        verdicts, correct = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE correct) FROM verdict WHERE model_id = ?", [m.model_id]
        ).fetchall()[0]
        models.append(
            {
                "name": m.name, "role": m.role, "backend": m.backend, "path_or_endpoint": m.path_or_endpoint,
                "samples": samples, "problems": problems,
                "samples_per_problem": {"min": mn, "median": None if med is None else float(med), "max": mx},
                "verdicts": verdicts, "correct": correct,
            }
        )
    problems = [
        {"source": r[0], "kind": r[1], "count": r[2]}
        for r in con.execute(
            "SELECT source, kind, count(*) FROM problems GROUP BY ALL ORDER BY source NULLS LAST, kind"
        ).fetchall()
    ]
    stages = [
        {"stage": r[0], "runs": r[1], "status": r[2], "finished_at": r[3]}
        for r in con.execute(
            """SELECT stage, count(*), arg_max(status, stage_run_id), arg_max(finished_at, stage_run_id)
               FROM stages GROUP BY stage ORDER BY min(stage_run_id)"""
        ).fetchall()
    ]
    return {
        "path": str(run.path),
        "schema_version": int(meta.get("schema_version", 0)),
        "pathscope_version": meta.get("pathscope_version"),
        "rl_method": meta.get("rl_method"),  # how the RL model was trained, when the run records it
        "models": models,
        "problems": problems,
        "stages": stages,
        "tables": {t: run.count(t) for t in _TABLES},
    }
