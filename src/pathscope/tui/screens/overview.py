"""Overview: the compared models, pass@k curves with bands and crossover,
coverage at k = n (each count opens its problem list) and accuracy histograms.

Reads per-(model, problem) counts (n, c) once, in a worker, and computes the
curves from them with numpy: nothing heavy, no CoT text.
"""

from __future__ import annotations

import time
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static
from textual.worker import get_current_worker

from ...safe_text import clean
from ...store import tui_queries
from ..actions import bindings_for
from ..messages import OverviewLoaded, QueryFailed
from ..widgets.agreement import ReviewAgreement
from ..widgets.histogram import AccuracyHistogram
from ..widgets.passk_plot import PassKPlot
from .base import PathscopeScreen

COVERAGE = [
    ("both", "both solve"),
    ("base_only", "base only"),
    ("rl_only", "RL only"),
    ("neither", "neither"),
]


def compute_overview(con, base: dict, rl: dict) -> dict:
    """Everything the overview shows, as plain data (runs in a worker thread)."""
    import numpy as np  # here, not at import: the first screen draws before numpy loads

    from .. import curves

    t0 = time.perf_counter()
    totals = tui_queries.run_totals(con)
    # Same numbers as store.metrics.problem_counts (tested), without ranking every verdict.
    rows = tui_queries.problem_count_rows(con, [base["model_id"], rl["model_id"]])
    counts = {k: [r[i] for r in rows] for i, k in enumerate(("model_id", "problem_id", "n", "c"))}
    per: dict[int, dict[str, int | str]] = {}
    mids = np.asarray(counts["model_id"], dtype=np.int64)
    pids = np.asarray(counts["problem_id"], dtype=object)
    ns = np.asarray(counts["n"], dtype=np.int64)
    cs = np.asarray(counts["c"], dtype=np.int64)
    data: dict = {"totals": totals, "models": {}, "curves": None, "coverage": None, "histogram": None}
    method = con.execute("SELECT value FROM meta WHERE key = 'rl_method'").fetchall()
    data["rl_method"] = method[0][0] if method else None
    for m in (base, rl):
        sel = mids == m["model_id"]
        per[m["model_id"]] = dict(zip(pids[sel], zip(ns[sel], cs[sel])))
        data["models"][m["model_id"]] = {
            "name": m["name"], "role": m["role"],
            "problems": int(sel.sum()),
            "n_median": int(np.median(ns[sel])) if sel.any() else 0,
            "acc": float(cs[sel].sum() / ns[sel].sum()) if sel.any() and ns[sel].sum() else None,
        }
    common = sorted(set(per[base["model_id"]]) & set(per[rl["model_id"]]))
    if common:
        nb = np.array([per[base["model_id"]][p][0] for p in common])
        cb = np.array([per[base["model_id"]][p][1] for p in common])
        nr = np.array([per[rl["model_id"]][p][0] for p in common])
        cr = np.array([per[rl["model_id"]][p][1] for p in common])
        cv = curves.overview_curves(nb, cb, nr, cr)
        cv["series"] = [(base["name"], *cv["series"][0]), (rl["name"], *cv["series"][1])]
        cv["problems"] = len(common)
        data["curves"] = cv
        data["coverage"] = curves.coverage_counts(cb > 0, cr > 0)
        data["histogram"] = {"labels": curves.HIST_LABELS, "base": curves.histogram(nb, cb), "rl": curves.histogram(nr, cr)}
    data["elapsed_s"] = time.perf_counter() - t0
    return data


class CoverageCount(Static):
    """One coverage set's count; a click (or its number key) opens its problem list."""

    def __init__(self, key: str, label: str, number: int) -> None:
        super().__init__(id=f"cov-{key}", classes="coverage")
        self.key, self.label, self.number = key, label, number
        self.count: int | None = None

    def on_mount(self) -> None:
        self.set_count(None)

    def set_count(self, count: int | None) -> None:
        self.count = count
        self.update(
            Content.assemble(
                (f"{'–' if count is None else format(count, ',')}\n", "bold"),
                (f"{self.label}", ""),
            )
        )

    def on_click(self) -> None:
        screen = self.screen
        if isinstance(screen, OverviewScreen):
            screen.action_coverage(self.key)


class OverviewScreen(PathscopeScreen):
    SCOPE = "overview"
    BINDINGS = bindings_for("overview")

    def __init__(self) -> None:
        super().__init__()
        self.data: dict | None = None

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("loading…", id="ov-models")
        yield ReviewAgreement(id="ov-agreement")
        with Horizontal(id="ov-body"):
            with Vertical(id="ov-left"):
                yield Static("pass@k", classes="section-title")
                yield PassKPlot(id="ov-plot")
                yield Static("", id="ov-legend")
            with Vertical(id="ov-right"):
                yield Static("coverage at k = n", classes="section-title")
                with Horizontal(id="ov-coverage"):
                    for i, (key, label) in enumerate(COVERAGE, 1):
                        yield CoverageCount(key, label, i)
                yield Static("per-problem accuracy", classes="section-title")
                yield AccuracyHistogram(id="ov-hist")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        # marks change in review mode: re-read who reviewed what, and the agreement
        self.query_one(ReviewAgreement).reload()

    @work(thread=True, exclusive=True, group="overview")
    def load(self) -> None:
        try:
            with self.cursor() as con:
                data = compute_overview(con, self.papp.base_model, self.papp.rl_model)
        except Exception as exc:  # one line on screen, not a traceback
            self.post_message(QueryFailed("overview", str(exc).splitlines()[0]))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(OverviewLoaded(data))

    def on_overview_loaded(self, message: OverviewLoaded) -> None:
        self.data = d = message.data
        base, rl = self.papp.base_model, self.papp.rl_model
        t = d["totals"]
        lines = [
            Content.assemble(
                ("run ", "$text-muted"), (f"{t['problems']:,} problems · {t['samples']:,} samples · {t['verdicts']:,} verdicts", ""),
                ("  " + ("· analysed" if t["clusters"] else "· not analysed yet"), "$text-muted"),
            )
        ]
        for m, style in ((base, "$primary"), (rl, "$warning")):
            info = d["models"].get(m["model_id"])
            if info is None:
                continue
            acc = "–" if info["acc"] is None else f"{info['acc']:.3f}"
            lines.append(
                Content.assemble(
                    ("━━ ", f"bold {style}"), (m["name"], "bold"), (f"  ({m['role']})", "$text-muted"),
                    (f"   {info['problems']:,} problems verified · n = {info['n_median']} per problem · pass@1 {acc}", ""),
                )
            )
            if m is rl and d.get("rl_method"):
                lines.append(Content.assemble(("   trained by ", "$text-muted"), (clean(d["rl_method"]), "italic")))
        self.query_one("#ov-models", Static).update(Content("\n").join(lines))
        cv = d["curves"]
        if cv is None:
            self.query_one("#ov-legend", Static).update(
                Content.styled("No problem has verdicts for both models yet: run `pathscope verify`.", "$warning")
            )
            return
        self.query_one("#ov-plot", PassKPlot).set_curves(cv["ks"], cv["series"], cv["crossover"])
        b_at = {int(k): float(v) for k, v in zip(cv["ks"], cv["series"][0][1])}
        r_at = {int(k): float(v) for k, v in zip(cv["ks"], cv["series"][1][1])}
        k1, kn = 1, cv["k_max"]
        cross = cv["crossover"]
        if cross is None:
            cross_txt = (f"no crossover up to k = {kn}", "$text-muted")
        elif cross == 1:
            cross_txt = (f"{base['name']} at or above from k = 1", "$text-muted")
        else:
            cross_txt = (f"┊ crossover k = {cross}", "bold $error")
        self.query_one("#ov-legend", Static).update(
            Content.assemble(
                ("━━ base ", "bold $primary"), (f"pass@1 {b_at[k1]:.3f} · pass@{kn} {b_at[kn]:.3f}   ", ""),
                ("━━ RL ", "bold $warning"), (f"pass@1 {r_at[k1]:.3f} · pass@{kn} {r_at[kn]:.3f}   ", ""),
                cross_txt,
                (f"   ({cv['problems']:,} problems, 95% bootstrap bands)", "$text-muted"),
            )
        )
        for key, _ in COVERAGE:
            self.query_one(f"#cov-{key}", CoverageCount).set_count(d["coverage"][key])
        h = d["histogram"]
        self.query_one("#ov-hist", AccuracyHistogram).set_counts(h["labels"], h["base"], h["rl"])

    def action_coverage(self, which: str) -> None:
        self.papp.show_problems(which)
