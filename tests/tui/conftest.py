"""Fixtures of the TUI tests: a small deterministic run and an app on it."""

from __future__ import annotations

import os

import pytest

from .runs import build_run

# Snapshots and pilots run with animations off, so every frame is final.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def tui_run_path(tmp_path):
    return build_run(tmp_path / "run.duckdb")


@pytest.fixture
def make_app(tui_run_path):
    """make_app(**kwargs) -> PathscopeApp on the small run (closed at teardown)."""
    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp

    runs = []

    def make(snapshot: bool = False, **kwargs):
        run = open_run(tui_run_path, snapshot=True) if snapshot else open_run(tui_run_path, create=False)
        runs.append(run)
        return PathscopeApp(run, **kwargs)

    yield make
    for r in runs:
        r.close()


async def settle(pilot, rounds: int = 3) -> None:
    """Wait until workers are done and their messages are handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def settle_review(pilot, rounds: int = 3) -> None:
    """:func:`settle`, and the review screen's writes (plain threads, see
    ReviewScreen) committed and reported."""
    for _ in range(2):
        review = pilot.app.get_screen_for_mode("review")
        for _ in range(500):
            if review is None or review.writes_pending == 0:
                break
            await pilot.pause(0.01)
        await settle(pilot, rounds)


@pytest.fixture
def anyio_backend():
    """Async tests run on asyncio (through anyio's pytest plugin)."""
    return "asyncio"
