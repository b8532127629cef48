"""The SQL behind ``pathscope merge``: combine run shards into one run.

Shards are runs sampled on different machines: the same problems, disjoint
(model, sample) ranges.  Models are matched by name and get new ids in the
output; problems must agree wherever shards share an id; a sample key
(model, problem, sample_idx) present in two shards is refused, naming both.
Samples, verdicts, scores, annotations and the stage log are copied.
Analysis tables (steps, embeddings, clusters, tree, evidence) are derived
per run and are not merged: run ``pathscope analyze`` on the result.

The output is written to a temporary file beside it and renamed into place
only when everything succeeded, so a refused or interrupted merge leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ..errors import InputError, RunError
from .run import Run, open_run

#: A model's samples must agree on these to be one model.
_PROTOCOL = ("temperature", "top_p", "max_tokens", "stop")
_DERIVED = ("steps", "embeddings", "clusters", "cluster_members", "tree_nodes", "tree_paths", "evidence")


def _protocol(params: dict | None) -> dict:
    if not params:
        return {}
    out = {k: params[k] for k in _PROTOCOL if k in params}
    prompt = params.get("prompt") or {}
    for k in ("template", "system"):
        if k in prompt:
            out[f"prompt.{k}"] = prompt[k]
    return out


def merge_runs(out: str | os.PathLike, shards: list[str | os.PathLike]) -> dict:
    """Merge ``shards`` into a new run at ``out``; returns counts per shard."""
    out = Path(out)
    if out.exists():
        raise InputError(f"{out}: already exists; merge writes a new run file.")
    if not shards:
        raise InputError("merge needs at least one shard.")
    resolved = [Path(s) for s in shards]
    seen = set()
    for s in resolved:
        key = s.resolve()
        if key in seen:
            raise InputError(f"{s}: given twice.")
        seen.add(key)
        if key == out.resolve():
            raise InputError(f"{s}: is the output file.")
        # Validates each shard (a pathscope run of a schema we read) before any work.
        open_run(s, read_only=True).close()
    tmp = out.with_name(f".{out.name}.merging-{os.getpid()}")
    for p in (tmp, tmp.with_name(tmp.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    report: dict = {"shards": [], "skipped_derived": {}}
    try:
        with open_run(tmp) as run:
            aliases = []
            try:
                for i, shard in enumerate(resolved):
                    run.con.execute(f"ATTACH '{_quote(shard)}' AS shard{i} (READ_ONLY)")
                    aliases.append(f"shard{i}")
                with run.transaction():
                    for shard, alias in zip(resolved, aliases):
                        report["shards"].append(_merge_one(run, shard, alias, report))
            finally:
                for alias in aliases:
                    with contextlib.suppress(Exception):
                        run.con.execute(f"DETACH {alias}")
            run.con.execute("CHECKPOINT")
        tmp.rename(out)
    finally:
        for p in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    return report


def _merge_one(run: Run, shard: Path, alias: str, report: dict) -> dict:
    con = run.con
    # Problems: union, but a shared id must mean the same problem.
    bad = run.one(
        f"""SELECT s.problem_id FROM {alias}.problems s JOIN problems o USING (problem_id)
            WHERE s.prompt IS DISTINCT FROM o.prompt OR s.answer IS DISTINCT FROM o.answer
               OR s.kind IS DISTINCT FROM o.kind OR s.source IS DISTINCT FROM o.source
               OR CAST(s.tests AS VARCHAR) IS DISTINCT FROM CAST(o.tests AS VARCHAR) LIMIT 1"""
    )
    if bad:
        raise RunError(f"{shard}: problem {bad[0]!r} differs from the same id in an earlier shard; shards must share their problems.")
    before = run.count("problems")
    con.execute(
        f"""INSERT INTO problems SELECT * FROM {alias}.problems
            WHERE problem_id NOT IN (SELECT problem_id FROM problems) ORDER BY rowid"""
    )
    problems = run.count("problems") - before
    # Models: matched by name.
    mapping: dict[int, int] = {}
    rows = con.execute(
        f"SELECT model_id, name, role, path_or_endpoint, backend, sampling_params FROM {alias}.models ORDER BY model_id"
    ).fetchall()
    for old_id, name, role, path, backend, params in rows:
        params = json.loads(params) if params else None
        existing = run.one("SELECT model_id, role, sampling_params FROM models WHERE name = ?", [name])
        if existing:
            if existing[1] != role:
                raise RunError(f"{shard}: model {name!r} has role {role!r}, an earlier shard says {existing[1]!r}.")
            a, b = _protocol(json.loads(existing[2]) if existing[2] else None), _protocol(params)
            diff = next((k for k in a if k in b and a[k] != b[k]), None)
            if diff:
                raise RunError(
                    f"{shard}: model {name!r} was sampled with {diff} = {b[diff]!r}, an earlier shard with {a[diff]!r}; "
                    f"samples of one model must share a protocol."
                )
            mapping[old_id] = existing[0]
        else:
            mapping[old_id] = run.ensure_model(name, role, path, backend, params)
    con.execute("CREATE OR REPLACE TEMP TABLE _model_map (old_id INTEGER, new_id INTEGER)")
    if mapping:
        con.executemany("INSERT INTO _model_map VALUES (?, ?)", list(mapping.items()))
    clash = run.one(
        f"""SELECT m.name, s.problem_id, s.sample_idx FROM {alias}.samples s
            JOIN _model_map k ON s.model_id = k.old_id
            JOIN samples o ON o.model_id = k.new_id AND o.problem_id = s.problem_id AND o.sample_idx = s.sample_idx
            JOIN models m ON m.model_id = k.new_id LIMIT 1"""
    )
    if clash:
        raise RunError(
            f"{shard}: sample (model {clash[0]!r}, problem {clash[1]!r}, sample_idx {clash[2]}) is also in an earlier shard; "
            f"shards must hold disjoint samples (sample with different models or index ranges)."
        )
    before = run.count("samples")
    con.execute(
        f"""INSERT INTO samples (model_id, problem_id, sample_idx, text, n_tokens, finish_reason, cum_logprob, seed, created_at)
            SELECT k.new_id, s.problem_id, s.sample_idx, s.text, s.n_tokens, s.finish_reason, s.cum_logprob, s.seed, s.created_at
            FROM {alias}.samples s JOIN _model_map k ON s.model_id = k.old_id"""
    )
    samples = run.count("samples") - before
    before = run.count("verdicts")
    con.execute(
        f"""INSERT OR IGNORE INTO verdicts (model_id, problem_id, sample_idx, verifier, extracted, correct, status, detail, created_at)
            SELECT k.new_id, v.problem_id, v.sample_idx, v.verifier, v.extracted, v.correct, v.status, v.detail, v.created_at
            FROM {alias}.verdicts v JOIN _model_map k ON v.model_id = k.old_id"""
    )
    verdicts = run.count("verdicts") - before
    before = run.count("scores")
    con.execute(
        f"""INSERT OR IGNORE INTO scores (model_id, problem_id, sample_idx, scorer_model_id, ppl, mean_logprob, n_tokens, created_at)
            SELECT k.new_id, c.problem_id, c.sample_idx, j.new_id, c.ppl, c.mean_logprob, c.n_tokens, c.created_at
            FROM {alias}.scores c JOIN _model_map k ON c.model_id = k.old_id JOIN _model_map j ON c.scorer_model_id = j.old_id"""
    )
    scores = run.count("scores") - before
    con.execute(
        f"""INSERT INTO annotations (target_kind, target_id, label, note, reviewer, created_at)
            SELECT target_kind, target_id, label, note, reviewer, created_at FROM {alias}.annotations ORDER BY annotation_id"""
    )
    con.execute(
        f"""INSERT INTO stages (stage, params, versions, started_at, finished_at, status, summary)
            SELECT stage, json_merge_patch(coalesce(params, '{{}}'), json_object('merged_from', ?)), versions,
                   started_at, finished_at, status, summary
            FROM {alias}.stages ORDER BY stage_run_id""",
        [str(shard)],
    )
    for table in _DERIVED:
        n = int(run.one(f"SELECT count(*) FROM {alias}.{table}")[0])
        if n:
            report["skipped_derived"][table] = report["skipped_derived"].get(table, 0) + n
    con.execute("DROP TABLE _model_map")
    return {"shard": str(shard), "problems_added": problems, "samples": samples,
            "verdicts": verdicts, "scores": scores, "models": len(rows)}


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
