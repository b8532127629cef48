"""The code sandbox: every hostile program is contained and reported, the
host is unaffected; and code problems graded end to end through the CLI."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pyarrow as pa
import pytest

from pathscope.cli import main
from pathscope.verify.code_check import grade_program, parse_tests
from pathscope.verify.sandbox import Limits, run_python

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg") or not os.path.isdir("/proc"), reason="the sandbox needs Linux")

SMALL = Limits(cpu_s=1, wall_s=20, memory_mb=256, file_mb=4, nproc=16)


def _processes_running(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_well_behaved_program_runs():
    res = run_python("print(sum(map(int, input().split())))", "1 2\n", SMALL)
    assert (res.status, res.stdout) == ("ok", "3\n")


def test_infinite_loop_hits_the_cpu_limit():
    res = run_python("while True:\n    pass\n", "", SMALL)
    assert res.status == "timeout" and "CPU" in res.detail


def test_sleeping_program_hits_the_wall_clock_limit():
    t0 = time.monotonic()
    res = run_python("import time\ntime.sleep(60)\n", "", Limits(cpu_s=1, wall_s=1.5, memory_mb=256, file_mb=4, nproc=16))
    assert res.status == "timeout" and "wall" in res.detail
    assert time.monotonic() - t0 < 10


def test_ten_gigabyte_allocation_is_refused():
    res = run_python("x = bytearray(10 * 1024 ** 3)\nprint('allocated')\n", "", SMALL)
    assert res.status == "memory" and "allocated" not in res.stdout


def test_fork_bomb_is_contained_and_leaves_nothing_behind():
    marker = "pathscope-forkbomb-marker"
    code = f"import os, time\n# {marker}\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n"
    t0 = time.monotonic()
    res = run_python(code, "", Limits(cpu_s=1, wall_s=3, memory_mb=256, file_mb=4, nproc=16))
    assert res.status in ("timeout", "process_limit")
    assert time.monotonic() - t0 < 15
    time.sleep(0.2)
    # no process of the bomb survives, and the host can still start processes
    assert not [p for p in _processes_running("solution.py") if _cwd_is_sandbox(p)]
    assert run_python("print('alive')", "", SMALL).stdout == "alive\n"


def _cwd_is_sandbox(pid: int) -> bool:
    try:
        return "pathscope-sandbox-" in os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False


def test_detached_child_dies_with_the_program():
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')\n"
    res = run_python(code, "", SMALL)
    assert res.status == "ok"
    time.sleep(0.3)
    assert not [p for p in _processes_running("solution.py") if _cwd_is_sandbox(p)]


def test_write_outside_the_temp_dir_is_denied(tmp_path):
    target = tmp_path / "escaped.txt"
    code = f"open({str(target)!r}, 'w').write('x')\n"
    res = run_python(code, "", SMALL)
    assert res.status == "error" and "Permission" in res.detail
    assert not target.exists()
    # writing inside its own directory works
    assert run_python("open('ok.txt','w').write('x'); print(open('ok.txt').read())", "", SMALL).stdout == "x\n"


def test_socket_connect_is_blocked():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted = []

    def accept():
        try:
            conn, _ = server.accept()
            accepted.append(conn)
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
    res = run_python(code, "", SMALL)
    t.join()
    server.close()
    assert res.status == "error" and "connected" not in res.stdout
    assert accepted == []
    assert res.isolation["net"] in ("netns", "landlock-tcp")


def test_huge_output_is_cut_at_the_file_size_limit():
    res = run_python("import sys\nsys.stdout.write('x' * 100_000_000)\n", "", SMALL)
    assert res.status == "output_limit"
    assert len(res.stdout) <= SMALL.capture_kb * 1024


def test_tests_format_and_grading():
    cases, code, lim = parse_tests(json.dumps({"cases": [{"input": "2\n", "output": "4\n"}], "inputs": ["3\n"], "outputs": ["9"], "limits": {"cpu_s": 2}}))
    assert cases == [("2\n", "4\n"), ("3\n", "9")] and code is None and lim == {"cpu_s": 2}
    square = "n = int(input())\nprint(n * n)   \n"
    assert grade_program(square, cases, None, SMALL) == ("pass", "2/2 cases passed")
    status, detail = grade_program("print(4)", cases, None, SMALL)
    assert status == "fail" and "case 2/2" in detail
    _, asserts, _ = parse_tests(json.dumps({"code": "assert add(2, 3) == 5"}))
    assert grade_program("def add(a, b):\n    return a + b\n", [], asserts, SMALL)[0] == "pass"
    assert grade_program("def add(a, b):\n    return a - b\n", [], asserts, SMALL)[0] == "fail"


def test_verify_cli_grades_code_problems(run_path, capsys):
    from pathscope import open_run

    tests = json.dumps({"cases": [{"input": "3\n", "output": "9\n"}, {"input": "5\n", "output": "25\n"}], "limits": {"cpu_s": 1, "wall_s": 4}})
    responses = [
        "Here:\n```python\nn = int(input())\nprint(n * n)\n```",
        "```python\nn = int(input())\nprint(n + n)\n```",
        "```python\nwhile True: pass\n```",
        "I would square it.",
    ]
    with open_run(run_path) as run:
        mid = run.ensure_model("coder", role="base")
        run.add_problems(pa.table({"problem_id": ["sq"], "prompt": ["square n"], "kind": ["code"], "tests": [tests]}))
        run.add_samples(pa.table({"model_id": [mid] * 4, "problem_id": ["sq"] * 4, "sample_idx": [0, 1, 2, 3], "text": responses}))
    assert main(["verify", str(run_path), "--workers", "2"]) == 0
    with open_run(run_path, read_only=True) as run:
        rows = run.con.execute("SELECT sample_idx, status, correct, detail FROM verdict ORDER BY sample_idx").fetchall()
    assert [r[1] for r in rows] == ["pass", "fail", "timeout", "no_answer"]
    assert [r[2] for r in rows] == [True, False, False, False]


def test_code_problems_without_tests_are_skipped_and_bad_tests_named(run_path, capsys):
    from pathscope import open_run

    with open_run(run_path) as run:
        mid = run.ensure_model("coder", role="base")
        run.add_problems(pa.table({"problem_id": ["nt"], "prompt": ["?"], "kind": ["code"], "tests": pa.array([None], pa.string())}))
        run.add_samples(pa.table({"model_id": [mid], "problem_id": ["nt"], "sample_idx": [0], "text": ["```python\nprint(1)\n```"]}))
    assert main(["verify", str(run_path)]) == 0
    assert "skipped 1 samples" in capsys.readouterr().err
    with open_run(run_path) as run:
        run.add_problems(pa.table({"problem_id": ["bad"], "prompt": ["?"], "kind": ["code"], "tests": [json.dumps({"cases": [{"input": "1"}]})]}))
        run.add_samples(pa.table({"model_id": [1], "problem_id": ["bad"], "sample_idx": [0], "text": ["```python\nprint(1)\n```"]}))
    assert main(["verify", str(run_path)]) == 1
    err = capsys.readouterr().err
    assert "error: problem bad: tests case 0 needs 'input' and 'output'." in err and "Traceback" not in err
    with open_run(run_path, read_only=True) as run:
        assert run.one("SELECT status FROM stages ORDER BY stage_run_id DESC LIMIT 1")[0] == "interrupted"
