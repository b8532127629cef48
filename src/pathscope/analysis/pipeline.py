"""``pathscope analyze``: embed → cluster → tree → evidence, resumable.

Each stage records itself in the run's stage log (``Run.start_stage`` /
``finish_stage``) with its parameters and library versions, and commits per
batch (embed) or per problem (the others).  A stage skips work already done:
embed skips samples that have a vector from the same embedder; cluster, tree
and evidence skip a problem whose inputs (which samples are embedded, the
verdicts, the perplexities, the parameters) are unchanged since it last ran
— recorded in ``analysis_done`` as a fingerprint.  Ctrl-C keeps everything
committed so far; running the same command again resumes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from ..errors import PathscopeError
from ..store import analysis as q
from ..store.run import Run
from .cluster import DEFAULT_THRESHOLD, cluster_vectors, ctfidf_labels, medoid, terms
from .embed import Embedder, resolve_embedder
from .evidence import problem_evidence
from .step_tree import (
    DEFAULT_MAX_CHILDREN, DEFAULT_MAX_DEPTH, DEFAULT_MIN_SHARE, DEFAULT_STEP_THRESHOLD,
    SampleRef, build_tree, count_by_model,
)
from .text import reasoning_span, split_steps

STAGES = ("embed", "cluster", "tree", "evidence")


@dataclass
class AnalyzeOptions:
    models: list[str] | None = None          # model names; None = every model with samples
    problems: list[str] | None = None        # problem ids; None = all
    embedder: str | None = None              # None = the bundled all-MiniLM-L6-v2
    device: str = "cpu"
    precision: str = "auto"
    stages: tuple[str, ...] = STAGES
    base: str | None = None                  # base model name; None = the model with role 'base'
    threshold: float = DEFAULT_THRESHOLD     # strategy clusters: average-linkage cosine distance
    step_threshold: float = DEFAULT_STEP_THRESHOLD
    max_depth: int = DEFAULT_MAX_DEPTH
    min_share: float = DEFAULT_MIN_SHARE
    max_children: int = DEFAULT_MAX_CHILDREN
    seed: int = 0
    batch_size: int = 64                     # texts per forward pass
    commit_every: int = 256                  # samples per embed transaction


def _digest(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class _Progress:
    """rich progress bars on a stderr console, or nothing when console is None."""

    def __init__(self, console):
        self.console = console
        self._p = None

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator:
        if self.console is None:
            yield lambda n=1: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=self.console, transient=False,
        ) as p:
            t = p.add_task(description, total=total, rate="")

            def advance(n: int = 1) -> None:
                p.advance(t, n)
                task = p.tasks[0]
                if task.elapsed:
                    p.update(t, rate=f"{task.completed / task.elapsed:,.1f}/s")

            yield advance


class Analyzer:
    """Runs the stages over one run; see :func:`analyze`."""

    def __init__(self, run: Run, opts: AnalyzeOptions, console=None):
        self.run = run
        self.opts = opts
        self.progress = _Progress(console)
        self.console = console
        for s in opts.stages:
            if s not in STAGES:
                raise PathscopeError(f"--stages: unknown stage {s!r} (choose from {', '.join(STAGES)}).")
        names = opts.models
        if names:
            self.model_ids = [run.model(n).model_id for n in names]
        else:
            self.model_ids = [m.model_id for m in run.models() if m.role != "scorer"]
        if opts.base:  # the base model takes part in whatever is compared with it
            base_id = run.model(opts.base).model_id
            if base_id not in self.model_ids:
                self.model_ids.append(base_id)
        self.embedder_name, _ = resolve_embedder(opts.embedder) if opts.embedder not in (None, "") else ("all-MiniLM-L6-v2", None)
        self._embedder: Embedder | None = None
        self.problem_ids = q.problem_ids(run, self.model_ids, opts.problems)
        if opts.problems:
            missing = sorted(set(opts.problems) - set(self.problem_ids))
            if missing:
                raise PathscopeError(f"--problems: no samples of the selected models for problem {missing[0]!r}.")

    # -- helpers -------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = Embedder(self.opts.embedder, device=self.opts.device, precision=self.opts.precision,
                                      batch_size=self.opts.batch_size).load()
        return self._embedder

    def _stage(self, name: str, params: dict):
        return self.run.start_stage(f"analyze.{name}", params={**params, "models": self.model_ids,
                                                                "problems": self.opts.problems})

    # -- stages --------------------------------------------------------------------

    def run_all(self) -> dict:
        summary = {}
        for stage in STAGES:
            if stage in self.opts.stages:
                summary[stage] = getattr(self, f"stage_{stage}")()
        return summary

    def _run_stage(self, name: str, params: dict, body) -> dict:
        sid = self._stage(name, params)
        try:
            result = body()
        except KeyboardInterrupt:
            self.run.finish_stage(sid, status="interrupted")
            raise
        except BaseException as exc:
            self.run.finish_stage(sid, status="failed", summary={"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__})
            raise
        self.run.finish_stage(sid, status="done", summary=result)
        return result

    def stage_embed(self) -> dict:
        opts = self.opts

        def body():
            todo = q.count_unembedded(self.run, self.embedder_name, self.model_ids, opts.problems)
            done = 0
            if todo == 0:
                return {"embedded": 0, "embedder": self.embedder_name}
            emb = self.embedder
            with self.progress.task("embed CoTs", todo) as advance:
                while True:
                    batch = q.unembedded_batch(self.run, self.embedder_name, self.model_ids, opts.problems, opts.commit_every)
                    if not batch:
                        break
                    texts, step_rows = [], []
                    for model_id, problem_id, sample_idx, text, prompt in batch:
                        span = reasoning_span(text, prompt)
                        texts.append(text[span[0]:span[1]])
                        for j, (a, b) in enumerate(split_steps(text, span)):
                            step_rows.append((model_id, problem_id, sample_idx, j, a, b))
                    vecs = emb.encode(texts, on_progress=advance)
                    with self.run.transaction():
                        q.write_embeddings(self.run, [(b[0], b[1], b[2]) for b in batch], [-1] * len(batch), self.embedder_name, vecs)
                        q.write_steps(self.run, step_rows)
                    done += len(batch)
            return {"embedded": done, **emb.info}

        return self._run_stage("embed", {"embedder": self.embedder_name, "device": opts.device, "precision": opts.precision}, body)

    def _todo(self, stage: str, fingerprints: dict[str, str]) -> list[str]:
        done = q.done_fingerprints(self.run, stage)
        return [p for p in self.problem_ids if p in fingerprints and done.get(p) != fingerprints[p]]

    def _cluster_fps(self) -> dict[str, str]:
        emb = q.embedding_fingerprints(self.run, self.embedder_name, self.model_ids, self.opts.problems)
        params = (self.embedder_name, self.opts.threshold, self.opts.seed, sorted(self.model_ids))
        return {p: _digest(fp, params) for p, fp in emb.items()}

    def stage_cluster(self) -> dict:
        opts = self.opts

        def body():
            fps = self._cluster_fps()
            todo = self._todo("cluster", fps)
            n_clusters = 0
            with self.progress.task("cluster strategies", len(todo)) as advance:
                for pid in todo:
                    n_clusters += self._cluster_problem(pid, fps[pid])
                    advance()
            return {"problems": len(todo), "clusters": n_clusters, "skipped": len(fps) - len(todo),
                    "method": "agglomerative-average-cosine", "threshold": opts.threshold}

        return self._run_stage("cluster", {"embedder": self.embedder_name, "threshold": opts.threshold, "seed": opts.seed}, body)

    def _cluster_problem(self, pid: str, fingerprint: str) -> int:
        keys, X = q.cot_vectors(self.run, pid, self.model_ids, self.embedder_name)
        info = {(s["model_id"], s["sample_idx"]): s for s in q.problem_samples(self.run, pid, self.model_ids)}
        labels = cluster_vectors(X, self.opts.threshold, seed=self.opts.seed)
        k = int(labels.max()) + 1 if len(labels) else 0
        clusters, docs = [], []
        for c in range(k):
            members = np.flatnonzero(labels == c)
            m = medoid(X, members)
            refs = [_ref(info[keys[i]]) for i in members]
            clusters.append({
                "cluster_id": c, "size": len(members), "medoid_model_id": keys[m][0], "medoid_sample_idx": keys[m][1],
                "counts": count_by_model(refs),
            })
            docs.append([terms(_reasoning(info[keys[i]])) for i in members])
        for c, label in zip(clusters, ctfidf_labels(docs)):
            c["label"] = label
        members = [(keys[i][0], keys[i][1], int(labels[i])) for i in range(len(keys))]
        with self.run.transaction():
            q.replace_clusters(self.run, pid, clusters, members)
            q.mark_done(self.run, pid, "cluster", fingerprint)
        return k

    def stage_tree(self) -> dict:
        opts = self.opts
        params = {"embedder": self.embedder_name, "step_threshold": opts.step_threshold, "max_depth": opts.max_depth,
                  "min_share": opts.min_share, "max_children": opts.max_children, "seed": opts.seed}

        def body():
            emb = q.embedding_fingerprints(self.run, self.embedder_name, self.model_ids, opts.problems)
            ver = q.verdict_fingerprints(self.run, self.model_ids, opts.problems)
            fps = {p: _digest(fp, ver.get(p), params, sorted(self.model_ids)) for p, fp in emb.items()}
            todo = self._todo("tree", fps)
            nodes = 0
            with self.progress.task("step trees", len(todo)) as advance:
                for pid in todo:
                    nodes += self._tree_problem(pid, fps[pid])
                    advance()
            return {"problems": len(todo), "nodes": nodes, "skipped": len(fps) - len(todo)}

        return self._run_stage("tree", params, body)

    def _tree_problem(self, pid: str, fingerprint: str) -> int:
        opts = self.opts
        keys, _ = q.cot_vectors(self.run, pid, self.model_ids, self.embedder_name)
        info = {(s["model_id"], s["sample_idx"]): s for s in q.problem_samples(self.run, pid, self.model_ids)}
        spans = q.sample_steps(self.run, pid, self.model_ids)
        refs, texts = [], []
        for k in keys:
            s = info[k]
            steps = spans.get(k)
            if steps is None:
                steps = split_steps(s["text"], reasoning_span(s["text"], s["prompt"]))
            steps = steps[: opts.max_depth]
            refs.append(_ref(s))
            texts.append([s["text"][a:b] for a, b in steps])
        flat = [t for ts in texts for t in ts]
        V = self.embedder.encode(flat) if flat else np.zeros((0, 1), dtype=np.float32)
        vecs, pos = [], 0
        for ts in texts:
            vecs.append(V[pos:pos + len(ts)])
            pos += len(ts)
        tree = build_tree(refs, vecs, texts, threshold=opts.step_threshold, max_depth=opts.max_depth,
                          min_share=opts.min_share, max_children=opts.max_children, seed=opts.seed)
        with self.run.transaction():
            q.replace_tree(self.run, pid, tree.nodes, tree.paths)
            q.mark_done(self.run, pid, "tree", fingerprint)
        return len(tree.nodes)

    def _base(self):
        opts = self.opts
        if opts.base:
            return self.run.model(opts.base)
        bases = [m for m in self.run.models() if m.role == "base" and m.model_id in self.model_ids]
        return bases[0] if bases else None

    def stage_evidence(self) -> dict:
        opts = self.opts
        base = self._base()
        compared = [m for m in self.model_ids if base is None or m != base.model_id]

        def body():
            if base is None:
                return {"problems": 0, "note": "no model with role 'base' among the analysed models (name one with --base)"}
            emb = q.embedding_fingerprints(self.run, self.embedder_name, self.model_ids, opts.problems)
            ver = q.verdict_fingerprints(self.run, self.model_ids, opts.problems)
            sco = q.score_fingerprints(self.run, base.model_id, opts.problems)
            clu = q.done_fingerprints(self.run, "cluster")
            params = (base.model_id, sorted(compared), self.embedder_name, opts.threshold)
            fps = {p: _digest(fp, ver.get(p), sco.get(p), clu.get(p), params) for p, fp in emb.items()}
            todo = self._todo("evidence", fps)
            rows = 0
            marks = {"already_in_base": 0, "possibly_novel": 0}
            with self.progress.task("base evidence", len(todo)) as advance:
                for pid in todo:
                    out = self._evidence_problem(pid, base.model_id, compared, fps[pid])
                    rows += len(out)
                    for r in out:
                        if r["suggested_mark"] in marks:
                            marks[r["suggested_mark"]] += 1
                    advance()
            return {"problems": len(todo), "rows": rows, "skipped": len(fps) - len(todo), "base": base.name, **marks}

        return self._run_stage("evidence", {"base": base.name if base else None, "compared": compared}, body)

    def _evidence_problem(self, pid: str, base_id: int, compared: Sequence[int], fingerprint: str) -> list[dict]:
        keys, X = q.cot_vectors(self.run, pid, self.model_ids, self.embedder_name)
        samples = q.problem_samples(self.run, pid, self.model_ids)
        clusters = q.cluster_assignment(self.run, pid)
        ppl = q.ppl_under(self.run, pid, base_id, self.model_ids)
        rows = problem_evidence(samples, keys, X, clusters, ppl, base_id, compared, 1.0 - self.opts.threshold)
        with self.run.transaction():
            q.replace_evidence(self.run, pid, base_id, rows)
            q.mark_done(self.run, pid, "evidence", fingerprint)
        return rows


def _ref(s: dict) -> SampleRef:
    return SampleRef(int(s["model_id"]), s["model"], int(s["sample_idx"]), s["correct"])


def _reasoning(s: dict) -> str:
    a, b = reasoning_span(s["text"], s.get("prompt"))
    return s["text"][a:b]


def analyze(run: Run, opts: AnalyzeOptions | None = None, console=None) -> dict:
    """Run the selected stages; returns a summary per stage.  ``console``: a
    rich Console (stderr) for progress bars, or None for silence."""
    return Analyzer(run, opts or AnalyzeOptions(), console).run_all()
