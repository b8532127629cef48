"""Hostile CoT texts through every screen of the TUI.

A run whose problem, answers, CoTs, cluster labels and step-tree texts carry
Rich markup, ANSI/OSC/C1 escape sequences, NUL and other controls, a 1 MB
single line, 20,000 lines, bidi overrides and combining marks.  The real app
(under Textual's pilot) visits the overview, problem list, both sides of every
sample in the detail view, the step tree, the clusters and the review queue;
it must not crash, and no rendered frame may contain a control byte or an
escape sequence's payload.
"""

from __future__ import annotations

import os
import time

import pytest
from hostile import HOSTILE_TEXTS, forbidden_in

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(600)]
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
SIZE = (160, 48)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def hostile_run(tmp_path):
    """review_data's run (tree, clusters, evidence) with p1 made hostile."""
    import review_data
    from pathscope import open_run

    path = tmp_path / "hostile.duckdb"
    texts = [t for _, t in HOSTILE_TEXTS]
    with open_run(path) as run:
        ids = review_data.build(run)
        with run.transaction():
            con = run.con
            for i in range(review_data.N):
                for side, mid in (("base", ids["base"]), ("rl", ids["rl"])):
                    text = texts[(i * 2 + (side == "rl")) % len(texts)]
                    con.execute("UPDATE samples SET text = ? WHERE model_id = ? AND problem_id = 'p1' AND sample_idx = ?",
                                [text + "\nSo the answer is \\boxed{4}.", mid, i])
            con.execute("UPDATE verdicts SET extracted = ? WHERE problem_id = 'p1' AND sample_idx = 2", ["[/]\x1b]0;pwned\x07\x00"])
            con.execute("UPDATE problems SET prompt = ?, answer = ?, source = ? WHERE problem_id = 'p1'",
                        [texts[0] + "\n" + texts[2] + "\n" + texts[3], "[/]4\x1b[31m", "[b]src\x1b]0;pwned\x07"])
            con.execute("UPDATE clusters SET label = ? WHERE problem_id = 'p1'", [texts[1] + texts[4]])
            con.execute("UPDATE tree_nodes SET label = ?, rep_text = ? WHERE problem_id = 'p1' AND node_id < 10",
                        [texts[3], texts[0] + texts[5] + texts[6][:50_000]])
    return path


def _frame(app) -> str:
    return app.export_screenshot()


async def _settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_hostile_texts_on_every_screen(hostile_run):
    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp

    visited: list[str] = []
    bad: list[str] = []

    def check(app, where: str) -> None:
        visited.append(where)
        frame = _frame(app)
        found = forbidden_in(frame)
        if found:
            bad.append(f"{where}: {found}")

    run = open_run(hostile_run, create=False)
    try:
        app = PathscopeApp(run, reviewer="fault-suite")
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)
            check(app, "overview")
            await pilot.press("p")
            await _settle(pilot)
            check(app, "problems")
            app.open_problem("p1")
            await _settle(pilot)
            check(app, "detail")
            t0 = time.perf_counter()
            for side in ("rl", "base"):
                for i in range(8):
                    await pilot.press("j")
                    await _settle(pilot, 2)
                    check(app, f"detail {side} step {i + 1}")
                await pilot.press("tab")
                await _settle(pilot, 1)
            steps_s = time.perf_counter() - t0
            for key, mode in (("t", "tree"), ("s", "clusters"), ("r", "review")):
                await pilot.press(key)
                await _settle(pilot)
                assert app.current_mode == mode
                check(app, mode)
            for i in range(6):
                await pilot.press("k")
                await _settle(pilot, 2)
                check(app, f"review item -{i + 1}")
            assert app.is_running  # nothing crashed it
    finally:
        run.close()
    assert not bad, "control bytes or escape payloads reached the screen:\n" + "\n".join(bad)
    assert len(visited) >= 25
    # 16 CoTs including a 1 MB line and 20,000 lines: no step may hang the UI.
    assert steps_s < 120, f"stepping through 16 hostile CoTs took {steps_s:.0f} s"


async def test_hostile_cot_text_is_shown_literally(hostile_run):
    """Markup stays literal text (it is neither applied nor dropped)."""
    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp
    from pathscope.tui.widgets.cot_view import CotView

    run = open_run(hostile_run, create=False)
    try:
        app = PathscopeApp(run, reviewer="fault-suite")
        async with app.run_test(size=SIZE) as pilot:
            app.open_problem("p1")
            await _settle(pilot)
            shown = set()
            for _ in range(8):
                view = app.screen.query_one("#side-rl CotView", CotView)
                shown.add(view.text.split("\n", 1)[0][:300])
                await pilot.press("j")
                await _settle(pilot, 2)
            await pilot.press("tab")
            for _ in range(8):
                view = app.screen.query_one("#side-base CotView", CotView)
                shown.add(view.text.split("\n", 1)[0][:300])
                await pilot.press("j")
                await _settle(pilot, 2)
    finally:
        run.close()
    joined = "\n".join(shown)
    assert "[bold red]not markup[/]" in joined and "[@click=app.quit]quit[/]" in joined
