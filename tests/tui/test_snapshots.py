"""SVG snapshots of each screen at a fixed size, animations off.

Regenerate after an intended change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from .conftest import settle

SIZE = (120, 36)


def _app(make_app):
    return make_app()


def test_overview_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)


def test_problems_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)


def test_problems_search_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("slash", *"step 5", "enter")
        await settle(pilot)

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)


def test_detail_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)
        pilot.app.open_problem("p00")
        await settle(pilot)
        await pilot.press("k", "k")  # RL sample 7: scored, with base evidence
        await settle(pilot)

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)


def test_detail_hostile_text_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)
        pilot.app.open_problem("p05")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)


def test_help_snapshot(make_app, snap_compare):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_app(make_app), terminal_size=SIZE, run_before=ready)
