"""Run an untrusted Python program under limits, and say what happened.

Layers, each applied where the kernel allows it and reported in
:attr:`RunResult.isolation` (see docs/verify.md):

- **time**: ``RLIMIT_CPU`` (CPU seconds) and a wall-clock limit after which
  the whole process group is killed;
- **memory**: ``RLIMIT_AS`` (address space);
- **output and files**: stdout and stderr go to files outside the work dir,
  capped by ``RLIMIT_FSIZE``; only the first ``capture_kb`` are read back;
- **processes**: a ``pids`` cgroup with ``pids.max`` when the host may create
  one (else ``RLIMIT_NPROC``, best effort), and a PID namespace, so every
  process the program started dies with it, even ones that called ``setsid``;
- **network**: a fresh network namespace (no interfaces but a down loopback);
  without one, Landlock denies TCP connect/bind (ABI >= 4);
- **filesystem**: a fresh temporary directory as cwd, ``HOME`` and
  ``TMPDIR``; Landlock denies writes anywhere else; root drops every
  capability before the program starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

_BOOT = Path(__file__).with_name("_sandbox_boot.py")
_CGROUP_PIDS = Path("/sys/fs/cgroup/pids")


@dataclass
class Limits:
    cpu_s: float = 4.0
    wall_s: float = 10.0
    memory_mb: int = 512
    file_mb: int = 16  # largest file the program may write, its stdout included
    nproc: int = 32
    capture_kb: int = 256  # stdout/stderr read back for comparison and detail

    @classmethod
    def from_dict(cls, d: dict | None, base: "Limits | None" = None) -> "Limits":
        out = Limits(**asdict(base)) if base else Limits()
        for k, v in (d or {}).items():
            if hasattr(out, k) and isinstance(v, (int, float)) and v > 0:
                setattr(out, k, type(getattr(out, k))(v))
        return out


@dataclass
class RunResult:
    """``status``: ok | error | timeout | memory | output_limit | process_limit."""

    status: str
    detail: str
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float | None = None
    wall_s: float = 0.0
    isolation: dict = field(default_factory=dict)


def _make_cgroup(nproc: int) -> Path | None:
    if os.geteuid() != 0 or not _CGROUP_PIDS.is_dir():
        return None
    try:
        path = Path(tempfile.mkdtemp(prefix="pathscope-", dir=_CGROUP_PIDS))
        (path / "pids.max").write_text(str(nproc + 2))  # + boot and init
        return path
    except OSError:
        return None


def _kill_cgroup(path: Path) -> None:
    for _ in range(50):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    with contextlib.suppress(OSError):
        path.rmdir()


def _count_user_processes() -> int:
    uid = os.getuid()
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    n += 1
    return n


def _read_head(path: Path, limit: int) -> str:
    with open(path, "rb") as fh:
        data = fh.read(limit)
    return data.decode("utf-8", errors="replace")


def run_python(code: str, stdin: str = "", limits: Limits | None = None, files: dict[str, str] | None = None) -> RunResult:
    """Run ``code`` as ``solution.py`` with ``stdin``; never raises for
    anything the program does."""
    limits = limits or Limits()
    workdir = Path(tempfile.mkdtemp(prefix="pathscope-sandbox-"))
    iodir = Path(tempfile.mkdtemp(prefix="pathscope-io-"))
    cgroup = _make_cgroup(limits.nproc)
    status_r, status_w = os.pipe()
    try:
        (workdir / "solution.py").write_text(code, encoding="utf-8")
        for name, text in (files or {}).items():
            (workdir / name).write_text(text, encoding="utf-8")
        (iodir / "stdin").write_text(stdin, encoding="utf-8")
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir), "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
        }
        nproc_rlimit = None
        if cgroup is None:
            # RLIMIT_NPROC counts every process of the real uid, so the limit is
            # relative to what this user already runs (best effort).
            nproc_rlimit = _count_user_processes() + limits.nproc if os.geteuid() == 0 else limits.nproc
        cfg = {
            "status_fd": status_w, "workdir": str(workdir), "limits": asdict(limits),
            "argv": [sys.executable, "-I", "solution.py"], "env": env,
            "cgroup": str(cgroup) if cgroup else None, "nproc_rlimit": nproc_rlimit,
            "procs": "cgroup-pids" if cgroup else "rlimit-nproc",
        }
        t0 = time.monotonic()
        with open(iodir / "stdin", "rb") as fin, open(iodir / "stdout", "wb") as fout, open(iodir / "stderr", "wb") as ferr:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_BOOT), json.dumps(cfg)],
                stdin=fin, stdout=fout, stderr=ferr, cwd=workdir, env=env,
                start_new_session=True, pass_fds=(status_w,),
            )
        os.close(status_w)
        status_w = -1
        wall_killed = False
        try:
            proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            wall_killed = True
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        if cgroup is not None:
            _kill_cgroup(cgroup)
            cgroup = None
        proc.wait()
        wall = time.monotonic() - t0
        report = {}
        with os.fdopen(status_r, "rb") as fh:
            status_r = -1
            for line in fh.read().decode(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    report.update(json.loads(line))
        cap = limits.capture_kb * 1024
        out_size = (iodir / "stdout").stat().st_size
        stdout = _read_head(iodir / "stdout", cap)
        stderr_size = (iodir / "stderr").stat().st_size
        stderr = _read_head(iodir / "stderr", cap) if stderr_size <= cap else _tail(iodir / "stderr", cap)
        return _classify(report, limits, wall, wall_killed, stdout, stderr, out_size)
    finally:
        for fd in (status_r, status_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if cgroup is not None:
            _kill_cgroup(cgroup)
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(iodir, ignore_errors=True)


def _tail(path: Path, limit: int) -> str:
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - limit))
        return fh.read().decode("utf-8", errors="replace")


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _classify(report: dict, limits: Limits, wall: float, wall_killed: bool, stdout: str, stderr: str, out_size: int) -> RunResult:
    iso = {k: report.get(k) for k in ("net", "pid", "fs", "procs")}
    sig = report.get("signal")
    code = report.get("exit")
    cpu = report.get("cpu_s")
    res = RunResult("ok", "", stdout, stderr, code, sig, cpu, wall, iso)
    file_cap = limits.file_mb * 1024 * 1024
    if wall_killed and code is None:
        res.status, res.detail = "timeout", f"wall-clock limit ({limits.wall_s:g} s)"
    elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu is not None and cpu >= 0.8 * limits.cpu_s):
        # SIGXCPU is the soft CPU limit; SIGKILL with the CPU spent, the hard one
        res.status, res.detail = "timeout", f"CPU limit ({limits.cpu_s:g} s)"
    elif sig == signal.SIGXFSZ or out_size >= file_cap or "File too large" in stderr:
        res.status, res.detail = "output_limit", f"output/file size limit ({limits.file_mb} MB)"
    elif "MemoryError" in stderr or sig == signal.SIGSEGV and "memory" in stderr.lower():
        res.status, res.detail = "memory", f"memory limit ({limits.memory_mb} MB): {_last_line(stderr)}"
    elif "BlockingIOError" in stderr and "fork" in stderr or "Resource temporarily unavailable" in stderr:
        res.status, res.detail = "process_limit", f"process limit ({limits.nproc}): {_last_line(stderr)}"
    elif sig is not None:
        res.status, res.detail = "error", f"killed by signal {signal.Signals(sig).name}"
    elif code != 0:
        res.status, res.detail = "error", f"exit code {code}: {_last_line(stderr)}" if stderr.strip() else f"exit code {code}"
    elif code is None:
        res.status, res.detail = "error", "the sandbox did not report the program's exit"
    return res
