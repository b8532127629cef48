"""One line for the overview: who has reviewed how much, and how well the
reviewers agree (Cohen's kappa per pair, over the targets both marked).

Reads the current marks in a thread worker when mounted and whenever its
screen calls :meth:`ReviewAgreement.reload` (the overview does on resume, so a
return from review mode shows the new numbers).
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from ...safe_text import clean
from ...store.metrics import current_marks
from ...store.run import Run

_KIND_NAMES = {"sample": "samples", "cluster": "clusters"}


def agreement_summary(con) -> dict:
    """Marks per reviewer and kind, and kappa per pair of reviewers and kind."""
    from ...metrics.agreement import pairwise_kappa  # numpy: loaded in the worker, after the first screen

    marks = current_marks(Run(con, Path("<worker>"), read_only=True))
    per_kind: dict[str, dict[str, dict[tuple[str, str], str]]] = {}
    counts: dict[str, int] = {}
    for reviewer, kind, target, label in marks:
        per_kind.setdefault(kind, {}).setdefault(reviewer, {})[(kind, target)] = label
        counts[reviewer] = counts.get(reviewer, 0) + 1
    pairs = []
    for kind, by_reviewer in sorted(per_kind.items()):
        for row in pairwise_kappa(by_reviewer):
            if row["targets"]:
                pairs.append({"kind": kind, **row})
    return {"counts": counts, "pairs": pairs}


class ReviewAgreement(Static):
    DEFAULT_CSS = """
    ReviewAgreement { height: auto; padding: 0 1; }
    """

    class Loaded(Message):
        def __init__(self, summary: dict) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.summary: dict | None = None

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="review-agreement")
    def _load(self) -> None:
        try:
            with self.app.cursor() as con:
                summary = agreement_summary(con)
        except Exception as exc:  # shown as one line
            summary = {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(summary))

    def on_review_agreement_loaded(self, message: Loaded) -> None:
        message.stop()
        self.summary = s = message.summary
        if "error" in s:
            self.update(Content.styled(f"review marks: {s['error']}", "$error"))
            return
        if not s["counts"]:
            self.update(Content.assemble(("review ", "$text-muted"), ("no marks yet", ""), ("  (r: review mode)", "$text-muted")))
            return
        bits: list[tuple[str, str]] = [("review ", "$text-muted")]
        bits += [(f"{clean(r)} {n:,}  ", "") for r, n in sorted(s["counts"].items())]
        if not s["pairs"]:
            bits.append(("· agreement needs two reviewers marking the same targets", "$text-muted"))
        for p in s["pairs"]:
            a, b = (clean(x) for x in p["reviewers"])
            k = "undefined" if p["kappa"] is None else f"{p['kappa']:.2f}"
            bits += [("· κ ", "$text-muted"), (f"{a}/{b} {k}", "bold $accent"),
                     (f" ({p['targets']} {_KIND_NAMES.get(p['kind'], p['kind'])}, {p['agreement']:.0%} agree)  ", "$text-muted")]
        self.update(Content.assemble(*bits))
