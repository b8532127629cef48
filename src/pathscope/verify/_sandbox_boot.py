"""Inside the sandbox: confine this process, then exec the untrusted program.

Run by :mod:`pathscope.verify.sandbox` as ``python -I -S _sandbox_boot.py CONFIG``
with the program's cwd, stdin/stdout/stderr already set and a fresh session.
Standard library only; every step that the kernel refuses is skipped and
reported in the status line, never silently assumed.

Process layout (when a PID namespace is allowed)::

    boot (outside)  ->  init (pid 1 of a new PID namespace)  ->  program (pid 2)

When ``init`` exits, or the host kills the process group, the kernel kills
every process left in the namespace, even ones that called ``setsid``.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1

# Landlock filesystem rights (ABI 1..3) that modify something.
FS_WRITE_FILE = 1 << 1
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def unshare(flags):
    if libc.unshare(ctypes.c_int(flags)) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def landlock(write_dir, deny_net):
    """Writes only beneath ``write_dir`` (and to /dev/null); with ``deny_net``
    and ABI >= 4, no TCP connect or bind.  Returns what was enforced."""
    abi = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return "unavailable"
    fs = (FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_CHAR | FS_MAKE_DIR | FS_MAKE_REG
          | FS_MAKE_SOCK | FS_MAKE_FIFO | FS_MAKE_BLOCK | FS_MAKE_SYM)
    if abi >= 2:
        fs |= FS_REFER
    if abi >= 3:
        fs |= FS_TRUNCATE
    net = (NET_BIND_TCP | NET_CONNECT_TCP) if (deny_net and abi >= 4) else 0
    attr = RulesetAttr(fs, net)
    size = ctypes.sizeof(RulesetAttr) if abi >= 4 else 8
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        return "unavailable"
    file_rights = FS_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)
    for path, rights in ((write_dir, fs), ("/dev/null", file_rights)):
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = PathBeneath(rights, pfd)
        libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
        os.close(pfd)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
        return "unavailable"
    os.close(fd)
    return f"landlock-abi{abi}" + ("+net" if net else "")


def drop_capabilities():
    """Root keeps its uid (the interpreter may live in root's home) but loses
    every capability: after exec it can neither ignore rlimits nor file modes
    of others, nor undo any of this."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def confine_and_exec(cfg, report):
    lim = cfg["limits"]
    report["fs"] = landlock(cfg["workdir"], deny_net=report.get("net") != "netns")
    if report["fs"].endswith("+net") and report.get("net") != "netns":
        report["net"] = "landlock-tcp"
    mem = int(lim["memory_mb"]) * 1024 * 1024
    cpu = max(1, int(round(lim["cpu_s"])))
    fsize = int(lim["file_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cfg.get("nproc_rlimit"):
        n = int(cfg["nproc_rlimit"])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    if os.geteuid() == 0:
        drop_capabilities()
    status_fd = int(cfg["status_fd"])
    os.write(status_fd, (json.dumps(report) + "\n").encode())
    os.set_inheritable(status_fd, False)
    os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])


def main():
    cfg = json.loads(sys.argv[1])
    status_fd = int(cfg["status_fd"])
    report = {"net": "none", "pid": "none", "fs": "none", "procs": cfg.get("procs", "none")}
    if cfg.get("cgroup"):
        try:
            with open(os.path.join(cfg["cgroup"], "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        except OSError:
            report["procs"] = "none"
    flags = CLONE_NEWNET | CLONE_NEWPID
    try:
        unshare(flags)
        report["net"], report["pid"] = "netns", "pidns"
    except OSError:
        try:
            unshare(CLONE_NEWUSER | flags)
            report["net"], report["pid"] = "netns", "pidns"
        except OSError:
            try:
                unshare(CLONE_NEWNET)
                report["net"] = "netns"
            except OSError:
                pass
    init = os.fork()
    if init == 0:
        if report["pid"] != "pidns":
            confine_and_exec(cfg, report)  # no namespace: this child is the program
        prog = os.fork()
        if prog == 0:
            confine_and_exec(cfg, report)
        result = None
        while True:  # reap orphans until the program itself ends
            try:
                pid, status, usage = os.wait4(-1, 0)
            except ChildProcessError:
                break
            if pid == prog:
                result = (status, usage.ru_utime + usage.ru_stime)
                break
        status, cpu = result if result else (0, 0.0)
        report.pop("fs", None)  # the program's own line says what it got
        report["cpu_s"] = cpu
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exit"] = os.WEXITSTATUS(status)
        os.write(status_fd, (json.dumps(report) + "\n").encode())
        os._exit(0)
    _, status, usage = os.wait4(init, 0)
    if report["pid"] != "pidns":
        # the forked child was the program itself
        report["cpu_s"] = usage.ru_utime + usage.ru_stime
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exit"] = os.WEXITSTATUS(status)
        os.write(status_fd, (json.dumps(report) + "\n").encode())


if __name__ == "__main__":
    main()
