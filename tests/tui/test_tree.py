"""Pilot tests of the step tree (lazy slices, divergence, node samples) and
the strategy clusters panel."""

from __future__ import annotations

import pytest

import review_data
from pathscope import open_run
from pathscope.tui.widgets.step_tree import SLICE, StepTree

from .conftest import settle_review as settle

SIZE = (150, 45)
pytestmark = pytest.mark.anyio


@pytest.fixture
def app(tmp_path, tmp_path_factory):
    from pathscope.tui.app import PathscopeApp

    path = review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)
    run = open_run(path, create=False)
    app = PathscopeApp(run, reviewer="alice")
    app.current_problem = "p1"
    yield app
    run.close()


async def _open(pilot, key: str):
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot, rounds=4)
    return pilot.app.screen


def _kinds(node) -> list[str]:
    return [c.data.kind for c in node.children]


async def test_tree_loads_lazily_in_slices(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, "t")
        assert app.current_mode == "tree"
        tree = screen.query_one(StepTree)
        assert set(tree.by_id) == {0}  # only the root level is read at first
        status = str(screen.query_one("#tr-status").render())
        assert "125 nodes" in status and "1 RL-only" in status
        root = tree.by_id[0]
        root.expand()
        await settle(pilot)
        assert set(tree.by_id) == {0, 1, 2}
        wide = tree.by_id[2]
        wide.expand()
        await settle(pilot)
        assert _kinds(wide).count("node") == SLICE and _kinds(wide)[-1] == "more"
        assert f"{review_data.WIDE - SLICE:,} more children" in str(wide.children[-1].label)
        # "more…" loads the next slice, until none is left
        for shown in (2 * SLICE, review_data.WIDE):
            tree.move_cursor(wide.children[-1])
            await pilot.press("enter")
            await settle(pilot)
            assert _kinds(wide).count("node") == shown
        assert "more" not in _kinds(wide)
        last = wide.children[-1].data
        assert last.row["is_other"] and last.row["node_id"] == 10 + review_data.WIDE - 1
        assert "(other)" in str(wide.children[-1].label)


async def test_divergence_key_opens_the_path_and_marks_rl_only(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, "t")
        tree = screen.query_one(StepTree)
        await pilot.press("v")
        await settle(pilot, rounds=6)
        assert tree.cursor_node.data.node_id == 3  # deepest node base and RL both pass through
        assert tree.divergence_id == 3
        assert "diverge" in str(tree.cursor_node.label)
        assert tree.by_id[0].is_expanded and tree.by_id[1].is_expanded
        rl_only = tree.by_id[4]
        assert rl_only.data.rl_only and "RL-only" in str(rl_only.label)
        assert "[b]x[/b]" in str(rl_only.label)  # a step's markup is shown literally
        # the highlighted node lists the samples through it, and one CoT
        assert screen.selected_node == 3
        title = str(screen.query_one("#tr-samples-title").render())
        assert "7 of 7 samples" in title
        assert {(r["model"], r["sample_idx"]) for r in screen.node_rows} == {
            ("base", 0), ("base", 1), ("base", 2), ("rl", 0), ("rl", 1), ("rl", 2), ("rl", 3)}
        assert screen.shown_sample is not None and screen.shown_sample[1] == "p1"
        # moving to the RL-only node lists only RL samples
        tree.move_cursor(rl_only)
        await settle(pilot)
        assert screen.selected_node == 4 and {r["model"] for r in screen.node_rows} == {"rl"}
        assert "only RL reaches this step" in str(screen.query_one("#tr-node").render())


@pytest.mark.parametrize("pre_expand", [False, True])
async def test_divergence_deep_in_a_later_slice(tmp_path, tmp_path_factory, pre_expand):
    """The divergence node hangs under the last ("other") child of a wide
    level, past the first slice: jumping there loads what it needs (also when
    the first slice is already open) and selects it."""
    from pathscope.tui.app import PathscopeApp

    path = review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)
    last = 10 + review_data.WIDE - 1
    with open_run(path) as run:
        run.con.execute("INSERT INTO tree_nodes VALUES ('p1', 500, ?, 3, 'deep', 'A shared deep step.', false, 0, NULL)", [last])
        run.con.execute("UPDATE tree_nodes SET n_children = 1 WHERE problem_id = 'p1' AND node_id = ?", [last])
        run.con.execute("UPDATE tree_paths SET node_ids = [0, 2, ?, 500], leaf_id = 500 WHERE problem_id = 'p1'"
                        " AND ((model_id = 1 AND sample_idx = 3) OR (model_id = 2 AND sample_idx = 7))", [last])
    run = open_run(path, create=False)
    app = PathscopeApp(run, reviewer="alice")
    app.current_problem = "p1"
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _open(pilot, "t")
            tree = screen.query_one(StepTree)
            if pre_expand:
                tree.by_id[0].expand()
                await settle(pilot)
                tree.by_id[2].expand()
                await settle(pilot)
                assert _kinds(tree.by_id[2])[-1] == "more" and last not in tree.by_id
            await pilot.press("v")
            await settle(pilot, rounds=8)
            assert tree.divergence_id == 500
            assert tree.cursor_node is not None and tree.cursor_node.data.node_id == 500
            assert tree.by_id[last].is_expanded and tree.by_id[last].data.row["is_other"]
            assert {(r["model"], r["sample_idx"]) for r in screen.node_rows} == {("base", 3), ("rl", 7)}
    finally:
        run.close()


async def test_problem_without_tree_says_so(app):
    app.current_problem = "p2"
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, "t")
        assert "no step tree stored" in str(screen.query_one("#tr-status").render())
        await pilot.press("v")
        await settle(pilot)
        assert screen.query_one(StepTree).cursor_node is None or screen.query_one(StepTree).cursor_node.data.kind != "node"


async def test_clusters_panel_toggle_members_and_marks(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, "s")
        assert app.current_mode == "clusters"
        rows = {r["cluster_id"]: r for r in screen.rows}
        assert set(rows) == {0, 1, 2}
        assert (rows[1]["base_n"], rows[1]["rl_correct"], rows[1]["label"]) == (0, 3, "symmetry shortcut")
        # the first row is highlighted: its members are listed, and a member's CoT shown
        assert screen.cluster_id == screen.rows[0]["cluster_id"]
        assert len(screen.members) == screen.rows[0]["base_n"] + screen.rows[0]["rl_n"]
        assert screen.shown_sample is not None
        await pilot.press("b")
        await settle(pilot)
        assert [r["cluster_id"] for r in screen.rows] == [1]
        assert "no base member" in str(screen.query_one("#cl-status").render())
        # mark cluster p1/1 in review mode; the panel shows it on return
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("j", "n")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        table = screen.query_one("#cl-table")
        assert "novel" in str(table.get_row_at(0)[4])
