"""The review queue: a researcher judges whether each correct RL solution (or
each RL strategy cluster) was already within the base model's reach.

The queue's order is stable (problem, then sample or cluster id), so "37/120
reviewed" and "resume where I left off" mean the same thing on every opening:
the resume position is the first item this reviewer has not marked.  Marks go
through :mod:`pathscope.store.annotations`, one committed row each.  This
module has no idea a screen exists; the TUI and scripts both use it.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, PathscopeError
from .store import annotations as ann
from .store import review_queries as q
from .store.run import ModelInfo, Run

#: The keys a reviewer presses, and what each label means.
LABEL_TEXT = {
    "already_in_base": "already in base",
    "novel": "novel",
    "possibly_novel": "possibly novel",  # a suggestion of `pathscope analyze`, never a mark
    "unsure": "unsure",
    "cleared": "no mark",
}


def config_reviewer(config_path: str | os.PathLike | None = None) -> str | None:
    """``[review] reviewer`` (or ``[tui] reviewer``) from the given config
    file, else from ./pathscope.toml when it exists."""
    import tomllib

    path = Path(config_path) if config_path else Path("pathscope.toml")
    if not path.exists():
        if config_path:
            raise InputError(f"{path}: no such config file.")
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from None
    for section in ("review", "tui"):
        table = data.get(section)
        value = table.get("reviewer") if isinstance(table, dict) else None
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path}: field {section}.reviewer must be a non-empty string.")
        return value.strip()
    return None


def resolve_reviewer(flag: str | None = None, config_path: str | os.PathLike | None = None) -> str:
    """The reviewer's name: the flag, else the config file, else the OS user."""
    if flag is not None:
        if not flag.strip():
            raise InputError("--reviewer: the reviewer name must not be empty.")
        return flag.strip()
    from_config = config_reviewer(config_path)
    if from_config:
        return from_config
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "reviewer"


@dataclass
class ReviewItem:
    """One thing to judge, with everything the review screen shows beside it."""

    position: int
    kind: str  # 'sample' | 'cluster'
    target_id: str
    problem_id: str
    key: int  # sample_idx or cluster_id
    label: str | None
    note: str | None
    prompt: str = ""
    reference: str | None = None
    text: str = ""  # the RL CoT (for a cluster: its best-evidenced correct RL member)
    text_sample_idx: int | None = None
    extracted: str | None = None
    nearest_base_idx: int | None = None
    nearest_base_text: str | None = None
    similarity: float | None = None
    ppl_under_base: float | None = None
    shares_cluster_with_correct_base: bool | None = None
    answer_in_base: bool | None = None
    base_same_answer: tuple[int, int] | None = None
    suggested_mark: str | None = None
    confidence: float | None = None
    cluster: dict | None = None
    extra: dict = field(default_factory=dict)


class ReviewQueue:
    """The queue of one reviewer over one run (optionally one problem)."""

    def __init__(
        self,
        run: Run,
        reviewer: str,
        kind: str = "sample",
        problem_id: str | None = None,
        model: str | int | None = None,
        base: str | int | None = None,
    ):
        if kind not in ann.TARGET_KINDS:
            raise PathscopeError(f"review queue kind must be one of {', '.join(ann.TARGET_KINDS)}, not {kind!r}.")
        self.run = run
        self.reviewer = reviewer
        self.kind = kind
        self.problem_id = problem_id
        self.base, self.model = _pair(run, model, base)
        self._undo: list[tuple[int, ann.Mark]] = []
        self.reload()

    # -- the queue ------------------------------------------------------------

    def reload(self, run: Run | None = None) -> None:
        """(Re)load the queue's keys and this reviewer's current labels.

        A whole-run queue holds every correct RL sample (hundreds of
        thousands at paper scale): keys stay in Arrow/numpy, target ids are
        built per item, and only labelled positions are kept in a dict."""
        import pyarrow.compute as pc

        run = run or self.run
        if self.kind == "sample":
            table = q.sample_queue(run, self.model.model_id, self.model.name, self.reviewer, self.problem_id)
        else:
            table = q.cluster_queue(run, self.model.model_id, self.reviewer, self.problem_id)
        self._problem = table.column("problem_id").combine_chunks()
        self._key = table.column("k").to_numpy().astype(np.int64, copy=False)
        labels = table.column("label").combine_chunks()
        marked = pc.indices_nonzero(pc.is_valid(labels)).to_numpy()
        self._label: dict[int, str] = {int(i): labels[int(i)].as_py() for i in marked}
        self._reviewed = np.zeros(len(table), dtype=bool)
        for i, lab in self._label.items():
            self._reviewed[i] = lab in ann.REVIEWED_LABELS
        self._done = int(self._reviewed.sum())

    def __len__(self) -> int:
        return len(self._key)

    @property
    def read_only(self) -> bool:
        return self.run.read_only

    def key(self, position: int) -> tuple[str, int]:
        """(problem_id, sample_idx or cluster_id) of an item."""
        return self._problem[position].as_py(), int(self._key[position])

    def target_id(self, position: int) -> str:
        problem_id, k = self.key(position)
        if self.kind == "sample":
            return ann.sample_target_id(self.model.name, problem_id, k)
        return ann.cluster_target_id(problem_id, k)

    def label(self, position: int) -> str | None:
        return self._label.get(position)

    def is_reviewed(self, position: int) -> bool:
        return bool(self._reviewed[position])

    def progress(self) -> tuple[int, int]:
        """(items reviewed, items in the queue)."""
        return self._done, len(self._key)

    def progress_text(self) -> str:
        done, total = self.progress()
        return f"{done}/{total} reviewed"

    def resume_position(self) -> int:
        """The first item this reviewer has not marked (the last item if all are)."""
        todo = np.flatnonzero(~self._reviewed) if len(self._key) else []
        return int(todo[0]) if len(todo) else max(len(self._key) - 1, 0)

    def next_unreviewed(self, position: int) -> int | None:
        todo = np.flatnonzero(~self._reviewed[position + 1 :])
        return position + 1 + int(todo[0]) if len(todo) else None

    def position_of(self, target_id: str) -> int | None:
        """The position of a target id in this queue, or None."""
        import pyarrow.compute as pc

        head, _, idx = target_id.rpartition("/")
        if not idx.isdigit():
            return None
        if self.kind == "sample":
            prefix = self.model.name + "/"
            if not head.startswith(prefix):
                return None
            head = head[len(prefix) :]
        hits = pc.indices_nonzero(pc.equal(self._problem, head)).to_numpy()
        for i in hits:
            if int(self._key[i]) == int(idx):
                return int(i)
        return None

    # -- writing --------------------------------------------------------------

    # Every method that touches the database takes an optional ``run``: a
    # handle on the same file over another cursor, for use from another thread.

    def mark(self, position: int, label: str, run: Run | None = None) -> ann.Mark:
        """Give item ``position`` a label; committed when this returns."""
        m = ann.mark(run or self.run, self.kind, self.target_id(position), label, self.reviewer)
        self._set_label(position, m.label)
        self._undo.append((position, m))
        return m

    def note(self, position: int, text: str, run: Run | None = None) -> ann.Mark:
        m = ann.add_note(run or self.run, self.kind, self.target_id(position), text, self.reviewer)
        self._set_label(position, m.label)
        self._undo.append((position, m))
        return m

    def undo(self, run: Run | None = None) -> tuple[int, ann.Mark] | None:
        """Undo this session's most recent mark or note: append the snapshot
        before it.  Returns (position, the restoring row), or None."""
        if not self._undo:
            return None
        pos, undone = self._undo[-1]
        restored = ann.undo(run or self.run, undone)
        self._undo.pop()
        self._set_label(pos, restored.label)
        return pos, restored

    def _set_label(self, position: int, label: str) -> None:
        was = bool(self._reviewed[position])
        now = label in ann.REVIEWED_LABELS
        self._label[position] = label
        self._reviewed[position] = now
        self._done += int(now) - int(was)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    # -- reading one item -----------------------------------------------------

    def item(self, position: int, run: Run | None = None) -> ReviewItem:
        """Everything shown beside item ``position`` (texts read now, one item at a time)."""
        run = run or self.run
        (problem_id, key), target = self.key(position), self.target_id(position)
        cur = ann.current(run, self.kind, target, self.reviewer)
        it = ReviewItem(
            position=position, kind=self.kind, target_id=target, problem_id=problem_id, key=key,
            label=cur.label if cur else None, note=cur.note if cur else None,
        )
        problem = run.problem(problem_id) or {}
        it.prompt = problem.get("prompt") or ""
        it.reference = problem.get("answer")
        if self.kind == "sample":
            self._fill_sample(run, it, key)
        else:
            self._fill_cluster(run, it, key)
        return it

    def _fill_sample(self, run: Run, it: ReviewItem, sample_idx: int) -> None:
        m, b = self.model.model_id, self.base.model_id
        it.text_sample_idx = sample_idx
        row = q.sample_with_evidence(run, m, b, it.problem_id, sample_idx)
        if row:
            it.text, it.extracted = row["text"], row["extracted"]
            it.nearest_base_idx = row["nearest_base_idx"]
            it.nearest_base_text = row["nearest_base_text"]
            it.similarity = row["similarity"]
            it.ppl_under_base = row["ppl_under_base"]
            it.shares_cluster_with_correct_base = row["shares_cluster_with_correct_base"]
            it.answer_in_base = row["answer_in_base"]
            it.suggested_mark = row["suggested_mark"]
            it.confidence = row["confidence"]
        it.cluster = q.sample_cluster(run, m, b, it.problem_id, sample_idx)
        it.base_same_answer = q.base_answer_counts(run, b, it.problem_id, it.extracted)

    def _fill_cluster(self, run: Run, it: ReviewItem, cluster_id: int) -> None:
        m, b = self.model.model_id, self.base.model_id
        it.cluster = q.cluster_detail(run, m, b, it.problem_id, cluster_id)
        best = q.cluster_best_evidence(run, m, b, it.problem_id, cluster_id)
        if best:
            it.text_sample_idx = best["sample_idx"]
            it.nearest_base_idx = best["nearest_base_idx"]
            it.similarity = best["similarity"]
            it.ppl_under_base = best["mean_ppl_under_base"]
            it.answer_in_base = best["n_answer_in_base"] > 0
            it.extra = {k: best[k] for k in ("n_answer_in_base", "n_suggest_base", "n_suggest_novel", "n_evidence")}
        else:
            it.text_sample_idx = q.first_correct_member(run, m, it.problem_id, cluster_id)
        if it.text_sample_idx is not None:
            got = q.sample_text(run, m, it.problem_id, it.text_sample_idx)
            if got:
                it.text, it.extracted, _ = got
        c = it.cluster or {}
        it.shares_cluster_with_correct_base = bool(c.get("base_correct")) if c else None
        it.suggested_mark, it.confidence = suggest_for_cluster(c, it.extra)
        it.base_same_answer = q.base_answer_counts(run, b, it.problem_id, it.extracted)
        self._fill_nearest(run, it)

    def _fill_nearest(self, run: Run, it: ReviewItem) -> None:
        if it.nearest_base_idx is None:
            return
        got = q.sample_text(run, self.base.model_id, it.problem_id, int(it.nearest_base_idx))
        if got:
            it.nearest_base_text = got[0]


def suggest_for_cluster(cluster: dict, extra: dict) -> tuple[str | None, float | None]:
    """A cluster that holds correct base samples was already reachable by the
    base; otherwise follow the majority of its members' suggestions."""
    if not cluster:
        return None, None
    if cluster.get("base_correct"):
        share = cluster["base_correct"] / max(cluster["base_correct"] + cluster.get("rl_correct", 0), 1)
        return "already_in_base", round(0.5 + share / 2, 3)
    n = extra.get("n_evidence") or 0
    if not n:
        return None, None
    base, novel = extra.get("n_suggest_base", 0), extra.get("n_suggest_novel", 0)
    if base >= novel:
        return "already_in_base", round(base / n, 3)
    return "possibly_novel", round(novel / n, 3)


def _pair(run: Run, model: str | int | None, base: str | int | None) -> tuple[ModelInfo, ModelInfo]:
    """(base, compared model): given ones, else the run's default pair."""
    pair = run.default_pair()
    b = run.model(base) if base is not None else (pair[0] if pair else None)
    m = run.model(model) if model is not None else (pair[1] if pair else None)
    if b is None or m is None:
        raise PathscopeError(f"{run.path}: reviewing needs two models (a base and an RL model); this run has {len(run.models())}.")
    if b.model_id == m.model_id:
        raise PathscopeError(f"{run.path}: the reviewed model and the base model are both {m.name!r}.")
    return b, m
