"""SVG snapshots of the step tree, clusters and review screens at a fixed size,
animations off, on the known review run.

Regenerate after an intended change with
``pytest tests/tui/test_review_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest

import review_data
from pathscope import open_run

from .conftest import settle

SIZE = (130, 36)


@pytest.fixture
def app(tmp_path, tmp_path_factory):
    from pathscope.tui.app import PathscopeApp

    path = review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)
    run = open_run(path, create=False)
    app = PathscopeApp(run, reviewer="alice")
    app.current_problem = "p1"
    yield app
    run.close()


def _keys(*keys):
    async def ready(pilot):
        await settle(pilot)
        for k in keys:
            await pilot.press(k)
            await settle(pilot, rounds=4)
        pilot.app.clear_notifications()  # toasts time out: keep them out of the picture
        await pilot.pause()

    return ready


def test_tree_divergence_snapshot(app, snap_compare):
    """The tree opened down to where base and RL diverge; the RL-only node marked."""
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("t", "v"))


def test_clusters_snapshot(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("s"))


def test_review_snapshot(app, snap_compare):
    """An RL sample beside its evidence and nearest base CoT."""
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("r"))


def test_review_clusters_snapshot(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=_keys("r", "m", "j"))
