"""How fast `pathscope open` is on a paper-scale run.

Builds (or reuses) the synthetic run of ``make_synthetic_run.py`` — 2 models x
2,000 problems x 256 samples, ~1.5 KB CoTs — then, in a fresh process (so the
peak RSS is the app's alone), drives the real app headless and measures:

- time to first screen: process start -> the overview shell is drawn, and ->
  its pass@k curves, coverage and histograms are filled in;
- problem-to-problem switch latency in the detail view (`]`, the next problem is
  read ahead while one is on screen): key press -> the new problem's text and
  both sides' CoTs are applied and a full frame rendered, p50 / p95; and the
  same for jumps to random problems (nothing read ahead);
- the problems table: first load, and a filter change;
- a text search over every CoT (reported; no target);
- peak RSS.

Targets: first screen < 1 s, switch p95 < 100 ms, peak RSS < 500 MB.  Ratios
against baselines measured in the same run: per-problem counts through the
``verdict`` view (what a straightforward query does) vs the TUI's query, and a
switch that reads every CoT of the problem vs the TUI's one-CoT-per-side read.

    python bench/tui_bench.py [--run PATH] [--problems 2000] [--samples 256] [--switches 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

T_START = time.perf_counter()
HERE = Path(__file__).resolve().parent


def _pct(values, q):
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


async def _baseline_app() -> dict:
    """The floor on this machine now: a bare Textual app (header, text, footer)."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("hello")
            yield Footer()

    async with Bare().run_test(size=(160, 48)):
        return {"first_screen_s": time.perf_counter() - T_START}


async def _drive(run_path: str, switches: int) -> dict:
    """Inside the measuring process: open the app and time it."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    from pathscope.commands.open_cmd import open_for_tui
    from pathscope.tui.app import PathscopeApp
    from pathscope.tui.messages import ProblemQuery

    out: dict = {"imports_s": time.perf_counter() - T_START}
    run, _ = open_for_tui(run_path)
    out["open_run_s"] = time.perf_counter() - T_START - out["imports_s"]
    app = PathscopeApp(run)
    async with app.run_test(size=(160, 48)) as pilot:
        out["first_screen_s"] = time.perf_counter() - T_START  # shell mounted and drawn
        while getattr(app.screen, "data", None) is None:
            await _tick()
        out["overview_filled_s"] = time.perf_counter() - T_START
        _note('out["overview_filled_s"]')

        t = time.perf_counter()
        app.simulate_key("p")
        while not getattr(app.screen, "ids", None):
            await _tick()
        out["problems_first_load_s"] = time.perf_counter() - t
        _note('out["problems_first_load_s"]')

        await pilot.pause()
        t = time.perf_counter()
        app.simulate_key("f")  # RL-only solved
        screen = app.screen
        while screen.loaded_query is None or screen.loaded_query.filter != "rl_only":
            await _tick()
        out["filter_change_s"] = time.perf_counter() - t
        _note('out["filter_change_s"]')
        out["rl_only_problems"] = len(screen.ids)
        await pilot.press("escape")
        while screen.loaded_query.filter != "all":
            await _tick()

        # Detail: step through problems with `]`.
        app.open_problem(screen.ids[0])
        detail = app.screen
        await _until_shown(detail, screen.ids[0])
        lat, applied, paint = [], [], []
        order = app.problem_order
        for i in range(1, switches + 1):
            target = order[i % len(order)]
            # Start each switch from an idle app, as after reading a problem (the read-ahead done).
            await app.workers.wait_for_complete()
            await pilot.pause()
            t = time.perf_counter()
            # The key event as a terminal sends it (Pilot.press would add its idle-detection waits).
            app.simulate_key("right_square_bracket")
            await _until_shown(detail, target)
            t_applied = time.perf_counter()
            # Then the frame: lay out and render the whole screen (an upper bound on the
            # partial update the terminal driver writes).
            detail._refresh_layout(detail.size)
            detail._compositor.render_full_update()
            t_painted = time.perf_counter()
            applied.append(t_applied - t)
            paint.append(t_painted - t_applied)
            lat.append(t_painted - t)
        # Jumps to problems not read ahead ("jump to problem" in the palette).
        import random

        jumps = []
        rng = random.Random(0)
        for _ in range(max(10, switches // 2)):
            target = order[rng.randrange(len(order))]
            if target == detail.problem_id:
                continue
            await app.workers.wait_for_complete()
            await pilot.pause()
            t = time.perf_counter()
            app.open_problem(target)
            await _until_shown(detail, target)
            detail._refresh_layout(detail.size)
            detail._compositor.render_full_update()
            jumps.append(time.perf_counter() - t)
        out["jump_p50_ms"] = _pct(jumps, 50) * 1000
        out["jump_p95_ms"] = _pct(jumps, 95) * 1000
        out["switch_applied_p50_ms"] = _pct(applied, 50) * 1000
        out["switch_paint_p50_ms"] = _pct(paint, 50) * 1000
        out["switch_p50_ms"] = _pct(lat, 50) * 1000
        out["switch_p95_ms"] = _pct(lat, 95) * 1000
        out["switch_max_ms"] = max(lat) * 1000
        out["switches"] = len(lat)
        _note(f"switch applied p50/p95 {out['switch_applied_p50_ms']:.0f}/{_pct(applied, 95) * 1000:.0f} ms, frame p50 {out['switch_paint_p50_ms']:.0f} ms")
        _note('out["switches"]')

        import resource

        out["rss_before_search_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Search over every CoT (case-insensitive, then smart-case sensitive).
        await pilot.press("p")
        while app.screen is detail:
            await _tick()
        await pilot.pause()
        for term, key in (("pythagorean", "search_ci_s"), ("Pythagorean", "search_cs_s")):
            t = time.perf_counter()
            app.screen.set_query(ProblemQuery(sort="hits", descending=True, search=term))
            while app.screen.loaded_query is None or app.screen.loaded_query.search != term:
                await _tick()
            out[key] = time.perf_counter() - t
            _note('out[key]')
            out[key.replace("_s", "_problems")] = len(app.screen.ids)
    import resource

    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(_baselines(run, order[:20]))
    run.close()
    return out


def _note(msg: str) -> None:
    print(f"[{time.perf_counter() - T_START:7.2f}s] {msg}", file=sys.stderr, flush=True)


async def _tick():
    import asyncio

    await asyncio.sleep(0.001)


async def _until_shown(detail, pid: str, timeout: float = 30.0):
    deadline = time.perf_counter() + timeout
    while True:
        s = detail.shown
        if (
            detail.problem is not None
            and detail.problem.get("problem_id") == pid
            and s["base"] is not None and s["base"][0] == pid
            and s["rl"] is not None and s["rl"][0] == pid
        ):
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"problem {pid} never shown")
        await _tick()


def _baselines(run, pids) -> dict:
    """Same-run baselines: the naive queries the TUI avoids."""
    from pathscope.store import tui_queries
    from pathscope.store.metrics import problem_counts

    con = run.con.cursor()
    t = time.perf_counter()
    problem_counts(run, [1, 2])
    view_s = time.perf_counter() - t
    t = time.perf_counter()
    tui_queries.problem_counts_fast(con, [1, 2])
    fast_s = time.perf_counter() - t
    naive, ours = [], []
    for pid in pids:
        t = time.perf_counter()
        con.execute(
            "SELECT s.*, v.correct, v.extracted FROM samples s LEFT JOIN verdict v USING (model_id, problem_id, sample_idx) "
            "WHERE s.problem_id = ? ORDER BY model_id, sample_idx",
            [pid],
        ).fetchall()
        naive.append(time.perf_counter() - t)
        t = time.perf_counter()
        lists = tui_queries.sample_lists(con, [1, 2], pid, 1)
        for m in (1, 2):
            tui_queries.cot_text(con, m, pid, lists[m][0]["sample_idx"])
        ours.append(time.perf_counter() - t)
    con.close()
    return {
        "counts_view_s": view_s, "counts_tui_s": fast_s,
        "switch_query_naive_ms": _pct(naive, 50) * 1000, "switch_query_tui_ms": _pct(ours, 50) * 1000,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "pathscope-bench" / "tui_synthetic.duckdb"))
    ap.add_argument("--problems", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--switches", type=int, default=60)
    ap.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.baseline:
        import asyncio

        print(json.dumps(asyncio.run(_baseline_app())))
        return 0
    if args.measure:
        import asyncio

        print(json.dumps(asyncio.run(_drive(args.run, args.switches))))
        return 0

    sys.path.insert(0, str(HERE))
    from make_synthetic_run import ensure_synthetic_run

    Path(args.run).parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    info = ensure_synthetic_run(args.run, n_problems=args.problems, n_samples=args.samples)
    print(f"run: {args.run} ({'reused' if info.get('reused') else 'built'} in {time.perf_counter() - t:.1f} s)", file=sys.stderr)
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", "--run", args.run, "--switches", str(args.switches)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    base = subprocess.run([sys.executable, __file__, "--baseline"], capture_output=True, text=True)
    bare = json.loads(base.stdout.strip().splitlines()[-1])["first_screen_s"] if base.returncode == 0 else float("nan")

    def row(name, value, target=None, ok=None):
        verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
        tgt = f"  (target {target})" if target else ""
        print(f"{name:<44} {value}{tgt}{verdict}")

    row("time to first screen (shell drawn)", f"{r['first_screen_s']:.2f} s", "< 1 s", r["first_screen_s"] < 1)
    row("  of which: imports / opening the run", f"{r['imports_s']:.2f} s / {r['open_run_s']:.2f} s")
    row("  a bare Textual app, same machine now", f"{bare:.2f} s (pathscope = {r['first_screen_s'] / bare:.1f}x of it)")
    row("time to overview filled (curves, coverage)", f"{r['overview_filled_s']:.2f} s")
    row("problem switch latency p50", f"{r['switch_p50_ms']:.0f} ms (data applied {r['switch_applied_p50_ms']:.0f} + frame {r['switch_paint_p50_ms']:.0f})")
    row("problem switch latency p95", f"{r['switch_p95_ms']:.0f} ms", "< 100 ms", r["switch_p95_ms"] < 100)
    row("problem switch latency max", f"{r['switch_max_ms']:.0f} ms")
    row("jump to a random problem (not read ahead) p50/p95", f"{r['jump_p50_ms']:.0f} / {r['jump_p95_ms']:.0f} ms")
    row("peak RSS", f"{r['peak_rss_mb']:.0f} MB", "< 500 MB", r["peak_rss_mb"] < 500)
    row("  peak RSS before the searches", f"{r['rss_before_search_mb']:.0f} MB")
    row("problems table, first load", f"{r['problems_first_load_s'] * 1000:.0f} ms")
    row("problems table, filter change", f"{r['filter_change_s'] * 1000:.0f} ms")
    row("search every CoT, case-insensitive", f"{r['search_ci_s']:.2f} s ({r['search_ci_problems']:,} problems)")
    row("search every CoT, smart case (capital)", f"{r['search_cs_s']:.2f} s ({r['search_cs_problems']:,} problems)")
    row(
        "per-problem counts: verdict view / TUI query",
        f"{r['counts_view_s'] * 1000:.0f} ms / {r['counts_tui_s'] * 1000:.0f} ms = {r['counts_view_s'] / r['counts_tui_s']:.1f}x",
    )
    row(
        "switch query: all CoTs / TUI's reads (p50)",
        f"{r['switch_query_naive_ms']:.0f} ms / {r['switch_query_tui_ms']:.0f} ms = {r['switch_query_naive_ms'] / r['switch_query_tui_ms']:.1f}x",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
