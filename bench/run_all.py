"""Run every stage benchmark and print one table: figure, target, measured, baseline, ratio.

Each stage benchmark is its own script in ``bench/`` (import, verify, pass@k,
analyze, TUI, sampling); this script runs each one as a subprocess, so one
crashing or missing bench never hides the others, and collects its figures:

- a bench whose ``--help`` offers ``--json`` is run with it and must print one
  JSON value on its last stdout line: a list of rows (or ``{"rows": [...]}``),
  each ``{"figure", "target", "measured", "baseline", "ratio", "met"}`` (any
  may be missing);
- otherwise its text output is parsed with the patterns in :data:`BENCHES`;
- a bench whose ``--help`` offers ``--run`` gets the synthetic paper-scale run
  (built once by ``make_synthetic_run.py`` and cached in ``--workdir``).

A bench that is absent is listed as "not available"; one that fails shows its
exit code and last error line.  ``--markdown FILE`` also writes the table and
the machine it ran on (CPU model, cores, memory, load) as Markdown.

    python bench/run_all.py [--only passk,tui] [--workdir DIR] [--problems 2000]
        [--samples 256] [--timeout 1800] [--markdown bench/RESULTS.md] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclass
class Figure:
    """One row of the table, read from a bench's text output.

    ``measured``/``baseline``/``ratio`` are regexes whose first group is the
    number (commas allowed); ``ratio`` may be left out and is then computed
    from measured and baseline (``higher_is_better`` says which way)."""

    name: str
    target: str
    measured: str | None = None
    baseline: str | None = None
    ratio: str | None = None
    unit: str = ""
    higher_is_better: bool = False
    met: "callable | None" = None  # (measured, baseline, ratio) -> bool


@dataclass
class Bench:
    key: str
    script: str
    stage: str
    args: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    #: text -> rows, for output the Figure patterns do not describe
    parse: "callable | None" = None
    #: parsed JSON (any shape) -> rows, for benches whose --json is not a list of rows
    parse_json: "callable | None" = None


_NUM = r"(-?[0-9][0-9,]*\.?[0-9]*(?:e[-+]?\d+)?)"


def _target_lines(text: str) -> list[dict]:
    """Rows from lines shaped ``NAME   VALUE UNIT  (target T)  ok|MISSED``."""
    rows = []
    pat = re.compile(r"^\s*(?P<name>\S.*?)\s{2,}(?P<value>" + _NUM + r")\s*(?P<unit>ms|s|MB|x)?\b.*?\(target (?P<target>[^)]*)\)\s*(?P<verdict>ok|MISSED)?")
    for line in text.splitlines():
        m = pat.search(line)
        if m:
            verdict = m.group("verdict")
            rows.append({"figure": m.group("name").strip(), "target": m.group("target"), "measured": _num(m.group("value")),
                         "unit": m.group("unit") or "", "met": None if verdict is None else verdict == "ok"})
    return rows


def _review_rows(data: dict) -> list[dict]:
    """review_bench.py --json: a dict of measurements -> table rows."""
    rows = []
    q = data.get("queue") or {}
    if q:
        rows.append({"figure": f"review queue build, whole run ({q.get('items', 0):,} items)", "target": "< 1000 ms",
                     "measured": q.get("build_ms"), "baseline": q.get("baseline_ms"),
                     "ratio": (q["baseline_ms"] / q["build_ms"]) if q.get("build_ms") else None, "unit": "ms",
                     "met": q.get("build_ms") is not None and q["build_ms"] < 1000})
    it = data.get("item_ms") or {}
    if it:
        rows.append({"figure": "review item load p95", "target": "< 100 ms", "measured": it.get("p95"), "unit": "ms",
                     "met": it.get("p95") is not None and it["p95"] < 100})
    mk = data.get("mark_ms") or {}
    if mk:
        rows.append({"figure": "review mark (append + commit) p95", "target": "< 50 ms", "measured": mk.get("p95"),
                     "baseline": mk.get("baseline_p95"), "ratio": (mk["baseline_p95"] / mk["p95"]) if mk.get("p95") else None,
                     "unit": "ms", "met": mk.get("p95") is not None and mk["p95"] < 50})
    tree = (data.get("tree") or {}).get("queries") or {}
    if tree:
        worst = max(tree, key=lambda k: tree[k]["p95"])
        rows.append({"figure": f"step-tree queries, worst p95 ({worst})", "target": "< 100 ms", "measured": tree[worst]["p95"],
                     "unit": "ms", "met": tree[worst]["p95"] < 100})
    return rows


def _tui_rows(text: str) -> list[dict]:
    """tui_bench.py: its targeted lines, plus the lines that compare with a baseline."""
    rows = _target_lines(text)
    first = next((r["measured"] for r in rows if r["figure"].startswith("time to first screen")), None)
    m = re.search(r"a bare Textual app, same machine now\s+" + _NUM + r" s", text)
    if m and first:
        bare = _num(m.group(1))
        rows.append({"figure": "first screen vs a bare Textual app", "target": "-", "measured": first, "baseline": bare,
                     "ratio": bare / first if first else None, "unit": "s"})
    for label, name in (("per-problem counts: verdict view / TUI query", "per-problem counts: TUI query vs verdict view"),
                        ("switch query: all CoTs / TUI's reads (p50)", "switch query: TUI reads vs all CoTs (p50)")):
        m = re.search(re.escape(label) + r"\s+" + _NUM + r" ms / " + _NUM + r" ms = " + _NUM + "x", text)
        if m:
            rows.append({"figure": name, "target": "-", "measured": _num(m.group(2)), "baseline": _num(m.group(1)),
                         "ratio": _num(m.group(3)), "unit": "ms"})
    return rows


def _sample_rows(text: str) -> list[dict]:
    """sample_bench.py: ``NAME direct X tok/s   pathscope Y tok/s   ratio R  (target >= 0.95)``."""
    pat = re.compile(r"^(\S+)\s+(?:(wall|cpu)\s+)?direct\s+" + _NUM + r" tok/s\s+pathscope\s+" + _NUM + r" tok/s\s+ratio\s+" + _NUM)
    rows = []
    for line in text.splitlines():
        m = pat.search(line.strip())
        if m:
            d, o, r = _num(m.group(3)), _num(m.group(4)), _num(m.group(5))
            clock = f", {m.group(2)} time" if m.group(2) else ""
            rows.append({"figure": f"{m.group(1)} backend vs the engine called directly (tok/s{clock})", "target": ">= 0.95x",
                         "measured": o, "baseline": d, "ratio": r, "unit": "tok/s", "met": r is not None and r >= 0.95})
    return rows


#: The stage benchmarks and how to read their output (fastest first, so a
#: tight --timeout still leaves most of the table filled).
BENCHES: list[Bench] = [
    Bench("passk", "passk_bench.py", "pass@k", figures=[
        Figure("pass@k, all k, 2 x 10,000 problems x n=1024", ">= 50x",
               measured=r"pathscope \(all \d+ k[^:]*:\s*" + _NUM + r"\s*s",
               baseline=r"harness loop, extrapolated[^:]*:\s*" + _NUM + r"\s*s",
               ratio=r"speed-up \(all k, point estimates\):\s*" + _NUM + r"x", unit="s",
               met=lambda m, b, r: (r or 0) >= 50),
        Figure("pass@k incl. 1,000 bootstrap replicates", "-",
               measured=r"with 1,000 bootstrap replicates[^:]*:\s*" + _NUM + r"\s*s",
               ratio=r"speed-up including bootstrap bands:\s*" + _NUM + r"x", unit="s"),
    ]),
    Bench("tui", "tui_bench.py", "TUI", parse=_tui_rows),
    Bench("review", "review_bench.py", "review", parse_json=_review_rows),
    Bench("export", "export_bench.py", "export"),
    Bench("analyze", "analyze_bench.py", "analyze"),
    Bench("sample", "sample_bench.py", "sample", parse=_sample_rows),
    Bench("import", "import_bench.py", "import", figures=[
        Figure("import, per 1M samples (JSONL, ~2 KB texts)", "< 30 s", measured=r"pathscope per 1M samples:\s*" + _NUM + r"\s*s wall",
               unit="s", met=lambda m, b, r: m is not None and m < 30),
        Figure("import vs json.loads loop into DuckDB", ">= 3x", measured=r"pathscope import\s*:.*?in\s*" + _NUM + r"\s*s wall",
               baseline=r"baseline \(python\):.*?in\s*" + _NUM + r"\s*s wall", ratio=r"ratio baseline/pathscope:\s*" + _NUM + r"x wall",
               unit="s", met=lambda m, b, r: (r or 0) >= 3),
    ]),
    Bench("verify", "verify_bench.py", "verify", figures=[
        Figure("verify 1M math samples", "< 120 s", measured=r"pathscope verify[^:]*:\s*" + _NUM + r"\s*s", unit="s",
               met=lambda m, b, r: m is not None and m < 120),
        Figure("verify vs naive per-sample math-verify", ">= 10x", measured=r"pathscope verify[^:]*:\s*" + _NUM + r"\s*s",
               baseline=r"->\s*" + _NUM + r"\s*s for", ratio=r"speed-up:\s*" + _NUM + r"x vs one process", unit="s",
               met=lambda m, b, r: (r or 0) >= 10),
    ]),
]


def _num(s: str | None) -> float | None:
    if s is None:
        return None
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return None


def _search(pattern: str | None, text: str) -> float | None:
    if not pattern:
        return None
    m = re.search(pattern, text, re.IGNORECASE)
    return _num(m.group(1)) if m else None


def _help(script: Path) -> str:
    try:
        proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=300, cwd=REPO)
    except subprocess.TimeoutExpired:
        return ""
    return proc.stdout + proc.stderr


def _last_json(text: str):
    """The JSON value a bench printed last: the whole output, or its last line
    that parses, or the last block starting at a line that opens with { or [."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    lines = stripped.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].lstrip()[:1] in "{[":
            for chunk in (lines[i], "\n".join(lines[i:])):
                try:
                    return json.loads(chunk)
                except json.JSONDecodeError:
                    continue
    return None


def _normalise(bench: Bench, rows: list[dict]) -> list[dict]:
    out = []
    for d in rows:
        if not isinstance(d, dict):
            continue
        out.append({
            "stage": bench.stage,
            "figure": str(d.get("figure") or d.get("name") or bench.key),
            "target": str(d.get("target") or "-"),
            "measured": d.get("measured"),
            "baseline": d.get("baseline"),
            "ratio": d.get("ratio"),
            "unit": d.get("unit", ""),
            "met": d.get("met"),
        })
    return out


def _rows_from_json(bench: Bench, text: str) -> list[dict] | None:
    data = _last_json(text)
    if data is None:
        return None
    if bench.parse_json is not None:
        return _normalise(bench, bench.parse_json(data))
    if isinstance(data, dict):
        data = data.get("rows") or data.get("figures") or [data]
    if not isinstance(data, list):
        return None
    return _normalise(bench, data)


def _rows_from_text(bench: Bench, text: str) -> list[dict]:
    if bench.parse is not None:
        rows = _normalise(bench, bench.parse(text))
        if rows:
            return rows
    rows = []
    for f in bench.figures:
        m, b, r = _search(f.measured, text), _search(f.baseline, text), _search(f.ratio, text)
        if r is None and m and b:
            r = m / b if f.higher_is_better else b / m
        met = None
        if f.met is not None and (m is not None or r is not None):
            met = bool(f.met(m, b, r))
        rows.append({"stage": bench.stage, "figure": f.name, "target": f.target, "measured": m, "baseline": b,
                     "ratio": r, "unit": f.unit, "met": met})
    if not any(r["measured"] is not None or r["ratio"] is not None for r in rows):
        # Unknown format: keep every line that names a target, verbatim.
        rows = [{"stage": bench.stage, "figure": ln.strip()[:90], "target": "-", "measured": None, "baseline": None,
                 "ratio": None, "unit": "", "met": None} for ln in text.splitlines() if "target" in ln.lower()]
    return rows


def run_bench(bench: Bench, run_path: Path | None, timeout: float, env: dict, shape: tuple[int, int] = (2000, 256)) -> tuple[list[dict], dict]:
    script = HERE / bench.script
    info = {"stage": bench.stage, "script": bench.script}
    if not script.exists():
        info["status"] = "not available"
        return [{"stage": bench.stage, "figure": f.name, "target": f.target, "note": "not available"} for f in bench.figures] or \
               [{"stage": bench.stage, "figure": bench.key, "target": "-", "note": "not available"}], info
    helptext = _help(script)
    cmd = [sys.executable, str(script), *bench.args]
    use_json = "--json" in helptext
    if use_json:
        cmd.append("--json")
    if "--run" in helptext and run_path is not None:
        # The bench reuses the synthetic run only if it asks for the same shape.
        cmd += ["--run", str(run_path)]
        if "--problems" in helptext:
            cmd += ["--problems", str(shape[0])]
        if "--samples" in helptext:
            cmd += ["--samples", str(shape[1])]
    info["cmd"] = " ".join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))
    t0 = time.perf_counter()
    # Its own session, so a timeout ends the bench and every process it started.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        info["status"] = f"timed out after {timeout:.0f} s"
        return [{"stage": bench.stage, "figure": bench.key, "target": "-", "note": info["status"]}], info
    proc = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    info["seconds"] = round(time.perf_counter() - t0, 1)
    info["output"] = proc.stdout[-4000:]
    rows = _rows_from_json(bench, proc.stdout) if use_json else None
    if rows is None:
        rows = _rows_from_text(bench, proc.stdout + "\n" + proc.stderr)
    measured = [r for r in rows if r.get("measured") is not None or r.get("ratio") is not None]
    if proc.returncode != 0:
        # Some benches exit non-zero when a target is missed: keep what they measured.
        last = next((ln for ln in reversed(proc.stderr.strip().splitlines()) if ln.strip() and "%" not in ln), "(no output)")
        info["status"] = f"exit {proc.returncode}: {last[:160]}"
        if not measured:
            return [{"stage": bench.stage, "figure": bench.key, "target": "-", "note": f"failed ({info['status']})"}], info
        return measured, info
    info["status"] = "ok"
    return rows, info


def machine() -> dict:
    """CPU model, cores, memory and load: what the figures depend on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "load": [round(x, 2) for x in load] if load else None,
            "python": sys.version.split()[0]}


def _fmt(v, unit="") -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if abs(v) >= 100:
        s = f"{v:,.0f}"
    elif abs(v) >= 1:
        s = f"{v:.2f}"
    else:
        s = f"{v:.3g}"
    return f"{s} {unit}".strip()


def table_lines(rows: list[dict], markdown: bool = False) -> list[str]:
    head = ["stage", "figure", "target", "measured", "baseline", "ratio", "met"]
    body = []
    for r in rows:
        if r.get("note"):
            body.append([r["stage"], r["figure"], r.get("target", "-"), r["note"], "-", "-", "-"])
            continue
        ratio = r.get("ratio")
        body.append([
            r["stage"], r["figure"], r.get("target") or "-", _fmt(r.get("measured"), r.get("unit", "")),
            _fmt(r.get("baseline"), r.get("unit", "")), (_fmt(ratio) + "x") if isinstance(ratio, (int, float)) else _fmt(ratio),
            _fmt(r.get("met")),
        ])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in body]
        return lines
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*map(str, row)) for row in body]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated bench keys: " + ",".join(b.key for b in BENCHES))
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "pathscope-bench"), help="where the synthetic run is cached")
    ap.add_argument("--problems", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per bench")
    ap.add_argument("--no-synthetic", action="store_true", help="do not build the synthetic run")
    ap.add_argument("--markdown", help="also write the table and machine as Markdown to this file")
    ap.add_argument("--json", action="store_true", help="print rows as JSON instead of a table")
    a = ap.parse_args(argv)
    only = set(a.only.split(",")) if a.only else None
    benches = [b for b in BENCHES if only is None or b.key in only]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    m_before = machine()

    run_path = None
    synth = None
    if not a.no_synthetic:
        sys.path.insert(0, str(HERE))
        from make_synthetic_run import ensure_synthetic_run

        Path(a.workdir).mkdir(parents=True, exist_ok=True)
        run_path = Path(a.workdir) / f"synthetic-{a.problems}x{a.samples}.duckdb"
        t0 = time.perf_counter()
        synth = ensure_synthetic_run(run_path, n_problems=a.problems, n_samples=a.samples)
        synth["wall_seconds"] = round(time.perf_counter() - t0, 1)
        how = "reused" if synth.get("reused") else f"built in {synth['wall_seconds']} s"
        print(f"synthetic run: {synth['samples']:,} samples ({how})", file=sys.stderr)

    rows, infos = [], []
    if synth is not None and not synth.get("reused"):
        rows.append({"stage": "synthetic", "figure": f"build {2 * a.problems:,} x {a.samples} synthetic run", "target": "minutes",
                     "measured": synth["seconds"], "baseline": None, "ratio": None, "unit": "s", "met": synth["seconds"] < 600})
    for bench in benches:
        print(f"running {bench.script} ...", file=sys.stderr, flush=True)
        r, info = run_bench(bench, run_path, a.timeout, env, (a.problems, a.samples))
        print(f"  {info['status']}" + (f" in {info['seconds']} s" if "seconds" in info else ""), file=sys.stderr, flush=True)
        rows += r
        infos.append(info)
        if a.markdown:  # after every bench, so a later crash or timeout loses nothing
            write_markdown(Path(a.markdown), rows, infos, m_before, machine())
    m_after = machine()
    if a.json:
        print(json.dumps({"rows": rows, "benches": infos, "machine": m_after, "load_before": m_before["load"]}, default=str))
    else:
        print("\n".join(table_lines(rows)))
        print(f"\nmachine: {m_after['cpu']}, {m_after['cores']} cores, {m_after['memory_gb']} GB; load before {m_before['load']}, after {m_after['load']}")
    if a.markdown:
        write_markdown(Path(a.markdown), rows, infos, m_before, m_after)
    return 0


def write_markdown(path: Path, rows, infos, m_before, m_after) -> None:
    lines = [
        "## Latest run of `bench/run_all.py`",
        "",
        f"Machine: {m_after['cpu']}; {m_after['cores']} cores; {m_after['memory_gb']} GB memory; Python {m_after['python']}.",
        f"Load average before {m_before['load']}, after {m_after['load']}.",
        "",
        *table_lines(rows, markdown=True),
        "",
        "Bench commands:",
        "",
        *[f"- `{i['script']}`: {i['status']}" + (f" ({i['seconds']} s)" if "seconds" in i else "") for i in infos],
        "",
    ]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
