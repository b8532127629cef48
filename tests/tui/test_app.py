"""Pilot tests: press keys in the real app on a real run, check what is shown
and which typed messages the workers posted."""

from __future__ import annotations

import pytest

from pathscope.tui.messages import CotLoaded, OverviewLoaded, ProblemLoaded, ProblemsLoaded
from pathscope.tui.widgets.cot_view import CotView

from .conftest import settle

SIZE = (140, 40)
pytestmark = pytest.mark.anyio


def posted(seen, cls) -> list:
    """Messages of a type the hook saw, each once (a message is seen at every pump it passes)."""
    out, ids = [], set()
    for m in seen:
        if isinstance(m, cls) and id(m) not in ids:
            ids.add(id(m))
            out.append(m)
    return out


def _rows(app) -> list[str]:
    return list(app.screen.ids)


async def test_overview_shows_coverage_curves_and_histograms(make_app):
    seen = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(pilot)
        loaded = posted(seen, OverviewLoaded)
        assert len(loaded) == 1
        data = loaded[0].data
        # p00/p04/p05 both, p01 base only, p02 RL only, p03 neither
        assert data["coverage"] == {"both": 3, "base_only": 1, "rl_only": 1, "neither": 1}
        assert data["curves"]["k_max"] == 8
        assert data["histogram"]["rl"][-1] == 1  # p04: RL 8/8
        screen = app.screen
        assert screen.query_one("#cov-rl_only").count == 1
        plot = screen.query_one("#ov-plot")
        assert plot.ks is not None and len(plot.series) == 2
        rendered = plot.render().plain
        assert any(0x2800 < ord(ch) <= 0x28FF for ch in rendered), "no braille curve drawn"
        assert "1" in rendered.splitlines()[-1]  # k axis labels
        legend = str(screen.query_one("#ov-legend").render())
        assert "pass@1 0.250" in legend and "pass@8" in legend


async def test_coverage_key_opens_its_problem_list(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3")  # RL-only
        await settle(pilot)
        assert app.current_mode == "problems"
        assert app.screen.query_state.filter == "rl_only"
        assert _rows(app) == ["p02"]
        await pilot.press("o", "2")  # back to the overview, base-only
        await settle(pilot)
        assert _rows(app) == ["p01"]


async def test_coverage_click_opens_its_problem_list(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.click("#cov-neither")
        await settle(pilot)
        assert app.current_mode == "problems" and _rows(app) == ["p03"]


async def test_problems_filter_sort_and_search(make_app):
    seen = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert _rows(app) == ["p00", "p01", "p02", "p03", "p04", "p05"]
        assert "6 of 6" in str(screen.query_one("#pr-status").render())
        # sort: next column is base accuracy, descending
        await pilot.press("S")
        await settle(pilot)
        assert screen.query_state.sort == "base_acc" and _rows(app)[0] == "p00"  # 5/8
        await pilot.press("R")
        await settle(pilot)
        assert _rows(app)[-1] == "p00"
        # filters cycle: all -> RL-only -> base-only
        await pilot.press("f")
        await settle(pilot)
        assert screen.query_state.filter == "rl_only" and _rows(app) == ["p02"]
        await pilot.press("escape")
        await settle(pilot)
        assert screen.query_state.filter == "all" and len(_rows(app)) == 6
        # search CoTs: "Step 6" only appears in samples with idx % 3 == 2 (6 steps) -> every problem
        await pilot.press("slash")
        await pilot.press(*"not markup")
        await pilot.press("enter")
        await settle(pilot)
        assert _rows(app) == ["p05"]  # only the hostile CoT says "not markup"
        table = screen.query_one(".pr-table")
        match_col = table.backend.source_data.column("match").to_pylist()
        assert match_col[0].count("[b u]") == 1 and "not markup" in match_col[0]
        # the snippet's own markup is escaped: "[bold red]" prints literally
        assert "\\[bold red]" in match_col[0]
        assert any(isinstance(m, ProblemsLoaded) and m.query.search == "not markup" for m in seen)


async def test_clicking_a_header_sorts_by_it(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(pilot)
        table = app.screen.query_one(".pr-table")
        cols = table.ordered_columns
        x = sum(c.render_width for c in cols[:3]) + cols[3].render_width // 2
        await pilot.click(".pr-table", offset=(x, 0))  # the "RL acc" header
        await settle(pilot)
        assert app.screen.query_state.sort == "rl_acc" and app.screen.query_state.descending
        assert _rows(app)[0] == "p04"


async def test_search_with_like_wildcards_is_literal(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("slash", *"100%", "enter")
        await settle(pilot)
        assert _rows(app) == []
        assert "No problem matches" in str(app.screen.query_one("#pr-empty").render())


async def _open_detail(pilot, app, problem: str):
    app.open_problem(problem)
    await settle(pilot)
    return app.screen


async def test_detail_steps_jumps_and_evidence(make_app):
    seen = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("enter")  # first row: p00
        await settle(pilot)
        screen = app.screen
        assert app.current_mode == "detail" and screen.problem_id == "p00"
        assert any(isinstance(m, ProblemLoaded) and m.problem_id == "p00" for m in seen)
        # each side starts at its first correct sample (base 0, RL 1)
        assert screen.shown == {"base": ("p00", 0), "rl": ("p00", 1)}
        assert "answer is \\boxed{7}" in screen.query_one("#side-rl CotView", CotView).text
        assert screen.active == "rl"
        await pilot.press("j", "j")
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 3)
        await pilot.press("x")  # no incorrect RL sample after 3 until it wraps to 0
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 0)
        await pilot.press("c")
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 1)
        await pilot.press("k", "k")  # back past 0 wraps to 7
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 7)
        head = str(screen.query_one("#side-rl .side-head").render())
        assert "ppl 1.25" in head and "correct" in head
        evidence = str(screen.query_one("#side-rl .side-evidence").render())
        assert "#3" in evidence and "already in base" in evidence
        await pilot.press("e")
        await settle(pilot)
        assert screen.shown["base"] == ("p00", 3)
        # tab makes the base side active; stepping moves it only
        await pilot.press("tab", "j")
        await settle(pilot)
        assert screen.active == "base" and screen.shown == {"base": ("p00", 4), "rl": ("p00", 7)}
        cots = posted(seen, CotLoaded)
        assert {m.side for m in cots} == {"base", "rl"}
        # next / previous problem follow the table order; the next one was read ahead
        assert "p01" in screen._prefetched
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.problem_id == "p01" and screen.shown["base"] == ("p01", 0)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.problem_id == "p05"
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "problems"


async def test_click_picks_the_active_side(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_detail(pilot, app, "p00")
        assert screen.active == "rl"
        await pilot.click("#side-base")
        assert screen.active == "base"
        assert screen.query_one("#side-base").has_class("-active")


async def test_hostile_model_output_renders_as_literal_text(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_detail(pilot, app, "p05")
        await pilot.press("x")  # the next incorrect RL sample wraps to sample 0: the hostile one
        await settle(pilot)
        assert screen.shown["rl"] == ("p05", 0)
        view = screen.query_one("#side-rl CotView", CotView)
        text = view.text
        assert "[bold red]not markup[/]" in text  # markup kept as typed
        assert "\x1b" not in text and "pwned-title" not in text  # ANSI and OSC removed
        assert "\x00" not in text and "\u2400" in text  # NUL made visible
        assert "\x07" not in text and "\r" not in text
        # the 5,000-char line is soft-wrapped into many short lines, each drawn within the width
        width = view.scrollable_content_region.width
        assert view.line_count > 5000 // width
        lines = [view.render_line(y) for y in range(view.size.height)]
        assert all(strip.cell_length == width for strip in lines)
        drawn = "".join(seg.text for strip in lines for seg in strip)
        assert "[bold red]not markup[/]" in drawn
        assert app.title == "pathscope"


async def test_long_cot_renders_only_visible_lines(make_app):
    """A 100 KB CoT: set_text wraps it once, render_line draws one line."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_detail(pilot, app, "p00")
        view = screen.query_one("#side-base CotView", CotView)
        text = "\n".join(f"line {i}: " + "abcdefghij " * 12 for i in range(800))
        assert len(text) > 100_000
        view.set_text(text, answer="line 799", term="line 5")
        await pilot.pause()
        assert view.line_count >= 800
        view.scroll_end(animate=False)
        await pilot.pause()
        assert view.scroll_offset.y > 700
        last = [view.render_line(y) for y in range(view.size.height)]
        assert any("line 799" in "".join(s.text for s in strip) for strip in last)


async def test_help_screen_lists_every_action(make_app):
    from pathscope.tui.actions import REGISTRY

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help-text").render())
        for a in REGISTRY:
            assert a.description in text, a.id
        assert text.index("Overview screen (this screen)") < text.index("Everywhere")
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"


async def test_footer_and_palette_come_from_the_registry(make_app):
    from pathscope.tui.actions import actions_for

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await settle(pilot)
        active = {b.binding.id for b in app.screen.active_bindings.values()}
        footer = " ".join(str(k.render()) for k in app.screen.query("FooterKey"))
        for a in actions_for("problems") + actions_for("app"):
            if a.keys != "enter":  # Enter reaches the table first (it opens the row too)
                assert a.id in active, a.id
            if a.show and a.keys not in ("enter", "escape"):
                assert a.footer_label in footer, a.id
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Next filter (RL-only, base-only, …)" in commands
        assert "Search problems and CoTs (text)" in commands


async def test_palette_jumps_to_a_problem(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"p03")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "detail" and app.screen.problem_id == "p03"


async def test_keymap_from_config_remaps_an_action(make_app, tmp_path):
    from pathscope.tui.config import load_config

    cfg = tmp_path / "pathscope.toml"
    cfg.write_text('[tui]\nreviewer = "ada"\n\n[tui.keys]\n"detail.next" = "n"\n', encoding="utf-8")
    config = load_config(cfg)
    app = make_app(config=config)
    assert app.reviewer == "ada"
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_detail(pilot, app, "p00")
        await pilot.press("n")
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 2)
        await pilot.press("j")  # the default key no longer steps
        await settle(pilot)
        assert screen.shown["rl"] == ("p00", 2)
        await pilot.press("question_mark")
        await pilot.pause()
        assert "n  " in str(app.screen.query_one("#help-text").render())


def test_bad_keymap_is_one_clear_error(tmp_path):
    from pathscope.errors import InputError
    from pathscope.tui.config import load_config

    cfg = tmp_path / "pathscope.toml"
    cfg.write_text('[tui.keys]\n"detail.nope" = "n"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"pathscope.toml: \[tui.keys\] 'detail.nope' is not an action id"):
        load_config(cfg)
    cfg.write_text("[tui\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(cfg)


async def test_snapshot_run_says_read_only(make_app):
    app = make_app(snapshot=True, snapshot_reason="The run is being written by process 42: showing a read-only snapshot taken now.")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert "READ-ONLY SNAPSHOT" in app.sub_title
        assert any("process 42" in n.message for n in app._notifications)


async def test_single_model_run_opens(tmp_path):
    import pyarrow as pa

    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp

    with open_run(tmp_path / "one.duckdb") as run:
        run.ensure_model("only", role="base")
        run.add_problems(pa.table({"problem_id": ["a"], "prompt": ["1+1?"], "answer": ["2"], "kind": ["math"]}))
    run = open_run(tmp_path / "one.duckdb", create=False)
    try:
        app = PathscopeApp(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "verify" in str(app.screen.query_one("#ov-legend").render())
            await pilot.press("p")
            await settle(pilot)
            assert _rows(app) == ["a"]
            await pilot.press("enter")
            await settle(pilot)
            assert "no samples" in str(app.screen.query_one("#side-base .side-head").render())
    finally:
        run.close()


@pytest.mark.slow
async def test_ten_thousand_problems_scroll_in_a_virtual_table(tmp_path):
    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp

    from .runs import build_run

    path = build_run(tmp_path / "big.duckdb", n_problems=10_000, n_samples=2, analysed=False)
    run = open_run(path, create=False)
    try:
        app = PathscopeApp(run)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p")
            await settle(pilot)
            screen = app.screen
            assert len(screen.ids) == 10_000 and "10,000 of 10,000" in str(screen.query_one("#pr-status").render())
            table = screen.query_one(".pr-table")
            await pilot.press("ctrl+end")
            await settle(pilot)
            assert table.cursor_row == 9_999
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.problem_id == "p9999"
    finally:
        run.close()


async def test_overview_names_how_the_rl_model_was_trained(tmp_path):
    from pathscope import open_run
    from pathscope.tui.app import PathscopeApp

    from .runs import build_run

    path = build_run(tmp_path / "run.duckdb")
    with open_run(path) as run:
        run.set_meta("rl_method", "ReST-EM expert iteration [1 round]\x1b[31m")
    run = open_run(path, create=False)
    try:
        app = PathscopeApp(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            text = str(app.screen.query_one("#ov-models").render())
            assert "trained by ReST-EM expert iteration [1 round]" in text
            assert "\x1b" not in text
    finally:
        run.close()
