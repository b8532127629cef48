"""Pilot tests of review mode: mark, undo, note, move, resume, restart,
reviewers kept apart, samples/clusters queues, a read-only snapshot."""

from __future__ import annotations

import pytest

import review_data
from pathscope import open_run
from pathscope.store import annotations as ann

from .conftest import settle_review as settle

SIZE = (150, 45)
pytestmark = pytest.mark.anyio
N_ITEMS = len(review_data.PROBLEMS) * (review_data.N - len(review_data.RL_WRONG))


@pytest.fixture
def review_run(tmp_path, tmp_path_factory):
    return review_data.make_run(tmp_path / "run.duckdb", tmp_path_factory)


@pytest.fixture
def open_app(review_run):
    """open_app(reviewer, snapshot=False) -> PathscopeApp on the review run."""
    from pathscope.tui.app import PathscopeApp

    runs = []

    def make(reviewer: str = "alice", snapshot: bool = False):
        run = open_run(review_run, snapshot=True) if snapshot else open_run(review_run, create=False)
        runs.append(run)
        return PathscopeApp(run, reviewer=reviewer)

    yield make
    for r in runs:
        r.close()


async def _review(pilot, *keys):
    await settle(pilot)
    if pilot.app.current_mode != "review":
        await pilot.press("r")
        await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    return pilot.app.screen


def _status(screen) -> str:
    return str(screen.query_one("#rv-status").render())


def _bar(screen) -> str:
    return str(screen.query_one("#rv-bar").render())


def _marks(path, reviewer="alice"):
    """The current marks as a fresh process would see them (the app's run is closed first)."""
    with open_run(path, read_only=True) as run:
        df = ann.current_marks(run, reviewer=reviewer)
        return dict(zip(df["target_id"], df["label"]))


async def test_mark_advances_and_says_saved(open_app, review_run):
    seen = []
    app = open_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await _review(pilot)
        assert f"0/{N_ITEMS} reviewed" in _bar(screen)
        assert screen.item.target_id == "rl/p1/1"
        # evidence beside it
        ev = str(screen.query_one("#rv-evidence").render())
        assert "already in base" in ev and "same answer among base samples: 3 of 8" in ev
        assert "nearest base CoT #1" in str(screen.query_one("#rv-base-head").render())
        await pilot.press("y")
        await settle(pilot)
        assert "✓ saved: rl/p1/1 → already in base" in _status(screen)
        assert f"1/{N_ITEMS} reviewed" in _bar(screen)
        assert screen.item.target_id == "rl/p1/2"  # moved on
        await pilot.press("n", "u")
        await settle(pilot)
        saved = {m.mark.annotation_id: m.mark for m in seen if isinstance(m, type(screen).MarkSaved)}
        assert [(m.target_id, m.label) for _, m in sorted(saved.items())] == [
            ("rl/p1/1", "already_in_base"), ("rl/p1/2", "novel"), ("rl/p1/3", "unsure")]
    app.run_store.close()
    assert _marks(review_run) == {"rl/p1/1": "already_in_base", "rl/p1/2": "novel", "rl/p1/3": "unsure"}


async def test_undo_restores_and_goes_back(open_app, review_run):
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "n", "y")
        assert screen.item.target_id == "rl/p1/3"
        await pilot.press("z")
        await settle(pilot)
        assert screen.item.target_id == "rl/p1/2"  # back to the undone item
        assert "undone" in _status(screen) and "not reviewed" in _status(screen)
        assert f"1/{N_ITEMS} reviewed" in _bar(screen)
        await pilot.press("z")
        await settle(pilot)
        assert screen.item.target_id == "rl/p1/1"
        await pilot.press("z")
        await settle(pilot)
        assert "nothing to undo" in _status(screen)
    app.run_store.close()
    assert _marks(review_run) == {"rl/p1/1": "cleared", "rl/p1/2": "cleared"}
    with open_run(review_run, read_only=True) as run:  # history kept, nothing updated
        assert [m.label for m in ann.history(run, "sample", "rl/p1/2")] == ["already_in_base", "cleared"]


async def test_note_dialog_saves_note_with_label(open_app, review_run):
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "n", "k")  # mark the first, step back to it
        assert screen.item.target_id == "rl/p1/1"
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"same trick [b]as base[/b]")
        await pilot.press("enter")
        await settle(pilot)
        assert "saved note" in _status(screen) and "same trick [b]as base[/b]" in _status(screen)
        assert screen.item.note == "same trick [b]as base[/b]"
        await pilot.press("c", "escape")  # a cancelled note writes nothing
        await settle(pilot)
    app.run_store.close()
    with open_run(review_run, read_only=True) as run:
        hist = ann.history(run, "sample", "rl/p1/1", "alice")
    assert [(m.label, m.note) for m in hist] == [("novel", None), ("novel", "same trick [b]as base[/b]")]


async def test_navigation_and_resume_after_restart(open_app, review_run):
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "y", "y", "space", "j", "k")
        assert screen.position == 3
        await pilot.press("y")
        await settle(pilot)
    app.run_store.close()
    # a restart: the same reviewer resumes at the first unreviewed item (rl/p1/4 was skipped)
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot)
        assert f"3/{N_ITEMS} reviewed" in _bar(screen)
        assert screen.item.target_id == "rl/p1/3"
        assert screen.position == 2
        await pilot.press("k", "k")
        await settle(pilot)
        assert "already in base" in str(screen.query_one("#rv-rl-head").render())  # its saved mark is shown
    app.run_store.close()
    # another reviewer starts from the top and sees none of alice's marks
    app = open_app("bob")
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "n")
        assert f"1/{N_ITEMS} reviewed" in _bar(screen) and "reviewer bob" in _bar(screen)
    app.run_store.close()
    assert _marks(review_run, "bob") == {"rl/p1/1": "novel"}
    assert _marks(review_run, "alice")["rl/p1/1"] == "already_in_base"


async def test_cluster_queue_and_problem_scope(open_app, review_run):
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "m")
        assert screen.kind == "cluster"
        assert f"0/{2 * len(review_data.PROBLEMS)} reviewed" in _bar(screen)
        assert screen.item.target_id == "p1/0"
        assert "already in base" in str(screen.query_one("#rv-evidence").render())
        await pilot.press("j")
        await settle(pilot)
        assert screen.item.target_id == "p1/1"
        ev = str(screen.query_one("#rv-evidence").render())
        assert "suggested: possibly novel" in ev and "shares a strategy with a correct base sample: no" in ev
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("a")  # this problem only, keeping the item
        await settle(pilot)
        assert "problem p2" in _bar(screen) and screen.item.target_id == "p2/0"
        assert "0/2 reviewed" in _bar(screen)
    app.run_store.close()
    with open_run(review_run, read_only=True) as run:
        assert ann.current(run, "cluster", "p1/1", "alice").label == "novel"


async def test_hostile_text_shown_literally(open_app):
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot, "j", "j")
        assert screen.item.target_id == "rl/p1/3"
        from pathscope.tui.widgets.cot_view import CotView

        text = screen.query_one("#rv-rl", CotView).text
        assert "[bold red]not markup[/]" in text
        assert "\x1b" not in text and "\x07" not in text and "\x00" not in text and "␀" in text


async def test_snapshot_refuses_marks(open_app, review_run):
    app = open_app(snapshot=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _review(pilot)
        assert "READ-ONLY SNAPSHOT" in _bar(screen)
        assert "marks cannot be saved" in _status(screen)
        await pilot.press("y")
        await settle(pilot)
        assert "NOT SAVED" in _status(screen) and "saved:" not in _status(screen)
        assert screen.item.target_id == "rl/p1/1"  # did not pretend and move on
        await pilot.press("z", "c")
        await settle(pilot)
        assert app.screen is screen  # no note dialog either
    app.run_store.close()
    assert _marks(review_run) == {}


async def test_overview_shows_reviewer_agreement(open_app, review_run):
    with open_run(review_run) as run:  # bob's marks, made earlier
        for i, label in zip((1, 2, 3, 4), ("already_in_base", "novel", "novel", "unsure")):
            ann.mark(run, "sample", f"rl/p1/{i}", label, "bob")
    app = open_app("alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = str(app.screen.query_one("#ov-agreement").render())
        assert "bob 4" in line and "two reviewers" in line
        screen = await _review(pilot, "y", "n", "y", "u")  # agrees with bob on 3 of 4
        await pilot.press("o")
        await settle(pilot)
        line = str(app.screen.query_one("#ov-agreement").render())
        from pathscope.metrics.agreement import cohens_kappa

        k = cohens_kappa(["already_in_base", "novel", "already_in_base", "unsure"],
                         ["already_in_base", "novel", "novel", "unsure"])
        assert f"alice/bob {k:.2f}" in line and "(4 samples, 75% agree)" in line
        assert screen is not app.screen


@pytest.mark.parametrize("key, ext, problems", [("e", ".md", {"p1"}), ("E", ".jsonl", {"p1", "p2", "p3"})])
async def test_export_key_writes_annotated_clusters(open_app, review_run, tmp_path, key, ext, problems):
    """`e` (this problem) / `E` (the whole run) go through pathscope.export."""
    import json

    out = tmp_path / f"clusters{ext}"
    app = open_app()
    async with app.run_test(size=SIZE) as pilot:
        await _review(pilot, "m", "j", "n", "k")  # cluster p1/1: novel, and back to it
        await pilot.press(key)
        await settle(pilot)
        dialog = app.screen
        assert "Export the annotated clusters of" in str(dialog.query_one(".dialog-title").render())
        field = dialog.query_one("#dialog-input")
        field.value = str(out)
        await pilot.press("enter")
        await settle(pilot)
    assert out.exists()
    text = out.read_text()
    if ext == ".jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        assert {r["problem_id"] for r in rows} == problems
        marked = [r for r in rows if r["problem_id"] == "p1" and r["cluster_id"] == 1]
        assert "novel" in json.dumps(marked[0])
    else:
        assert "symmetry shortcut" in text and "novel" in text and "p2" not in text


async def test_review_keys_can_be_remapped(review_run, tmp_path):
    """Review actions live in the one registry: the config keymap accepts their ids."""
    from pathscope.tui.app import PathscopeApp
    from pathscope.tui.config import load_config

    cfg = tmp_path / "pathscope.toml"
    cfg.write_text('[review]\nreviewer = "dana"\n\n[tui.keys]\n"review.novel" = "N"\n"review.next" = "l"\n')
    config = load_config(cfg)
    run = open_run(review_run, create=False)
    app = PathscopeApp(run, config=config)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await _review(pilot, "N")
            assert "saved: rl/p1/1 → novel" in _status(screen) and "reviewer dana" in _bar(screen)
            await pilot.press("l")
            await settle(pilot)
            assert screen.item.target_id == "rl/p1/3"
    finally:
        run.close()
    assert _marks(review_run, "dana") == {"rl/p1/1": "novel"}
