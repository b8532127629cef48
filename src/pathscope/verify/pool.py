"""A process pool for math-verify with a per-item timeout the parent enforces.

math-verify bounds its own work with ``signal.alarm``, which only works on a
process's main thread, and some inputs (huge exponents, nested radicals) can
still hang sympy.  Each worker here is a process whose main thread grades a
batch of pairs and streams one result back per pair; the parent watches the
clock for the pair in progress and, past the timeout, kills that worker,
records ``timeout`` for the pair, re-queues the rest of its batch, and starts a
fresh worker.  ``workers=0`` grades in the calling process (main thread only).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection, wait

from ..errors import PathscopeError

Item = tuple  # (key, pred, ref)


class _Duplex:
    """recv from one pipe, send on the other."""

    def __init__(self, rx: Connection, tx: Connection):
        self.recv = rx.recv
        self.send = tx.send


def _worker_main(conn, item_timeout: int) -> None:
    from .math_check import grade_pair

    try:
        import math_verify  # noqa: F401  (load sympy once, before the first timed item)
    except ImportError:
        pass
    conn.send(("ready", None, None))
    while True:
        try:
            batch = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if batch is None:
            return
        for key, pred, ref in batch:
            try:
                status, detail = grade_pair(pred, ref, item_timeout)
            except TimeoutError:
                status, detail = "timeout", f"math-verify timed out after {item_timeout} s"
            except Exception as exc:  # a grader crash is a verdict, not a stop
                status, detail = "error", f"math-verify failed: {type(exc).__name__}: {str(exc)[:200]}"
            conn.send(("result", key, (status, detail)))


class _Worker:
    """A fresh interpreter (``python -m pathscope.verify.pool``), never a fork
    of a process that holds DuckDB threads, and no re-import of ``__main__``
    as multiprocessing's spawn would do; it talks over two pipes."""

    def __init__(self, item_timeout: int):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pathscope.verify.pool", str(to_child_r), str(from_child_w), str(item_timeout)],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.ready = False
        self.batch: deque = deque()
        self.since = time.monotonic()

    def send(self, obj) -> None:
        self.send_conn.send(obj)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for c in (self.conn, self.send_conn):
            try:
                c.close()
            except OSError:
                pass


class GradePool:
    """Grade (key, pred, ref) items; results are (status, detail) per key.

    ``timeout`` is the parent's hard limit per item (seconds); the worker's own
    math-verify calls get a little less so they usually stop themselves first.
    A worker's first item also gets ``startup`` seconds to import sympy.
    """

    def __init__(
        self, workers: int = 2, timeout: float = 10.0, batch: int = 16, startup: float = 60.0,
        inner_timeout: int | None = None,
    ):
        self.n = max(0, int(workers))
        self.timeout = float(timeout)
        self.inner_timeout = inner_timeout
        self.batch = batch
        self.startup = startup
        self.workers: list[_Worker] = []
        self.restarts = 0
        self.startup_failures = 0

    def __enter__(self) -> "GradePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for w in self.workers:
            try:
                w.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self.workers:
            try:
                w.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            w.kill()
        self.workers = []

    def _inner_timeout(self) -> int:
        if self.inner_timeout is not None:
            return int(self.inner_timeout)
        return max(1, int(self.timeout * 0.8))

    def _spawn(self) -> _Worker:
        return _Worker(self._inner_timeout())

    def grade(self, items: list[Item], on_result=None) -> dict:
        """Grade all items; ``on_result(key, status, detail)`` as each finishes."""
        results: dict = {}
        if not items:
            return results
        if self.n == 0:
            from .math_check import grade_pair

            for key, pred, ref in items:
                try:
                    res = grade_pair(pred, ref, self._inner_timeout())
                except TimeoutError:
                    res = ("timeout", f"math-verify timed out after {self._inner_timeout()} s")
                except Exception as exc:
                    res = ("error", f"math-verify failed: {type(exc).__name__}: {str(exc)[:200]}")
                results[key] = res
                if on_result:
                    on_result(key, *res)
            return results
        queue = deque(items)
        while len(self.workers) < min(self.n, max(1, len(items))):
            self.workers.append(self._spawn())
        pending = len(items)

        def feed(w: _Worker) -> None:
            if w.ready and not w.batch and queue:
                chunk = [queue.popleft() for _ in range(min(self.batch, len(queue)))]
                w.batch.extend(chunk)
                w.send(chunk)
                w.since = time.monotonic()

        while pending:
            for w in self.workers:
                feed(w)
            now = time.monotonic()
            deadlines = []
            for w in self.workers:
                limit = self.startup if not w.ready else self.timeout
                if w.ready and not w.batch:
                    continue
                deadlines.append(w.since + limit)
            wait_for = max(0.0, min(deadlines) - now) if deadlines else 0.5
            ready_conns = wait([w.conn for w in self.workers], timeout=wait_for)
            by_conn = {w.conn: w for w in self.workers}
            for conn in ready_conns:
                w = by_conn[conn]
                try:
                    kind, key, res = conn.recv()
                except (EOFError, OSError):
                    self._replace(w, queue, results, on_result, "the grading worker died")
                    pending = len(items) - len(results)
                    continue
                if kind == "ready":
                    w.ready = True
                    w.since = time.monotonic()
                    continue
                w.batch.popleft()
                w.since = time.monotonic()
                results[key] = res
                pending -= 1
                if on_result:
                    on_result(key, *res)
            now = time.monotonic()
            for w in list(self.workers):
                limit = self.startup if not w.ready else self.timeout
                busy = (not w.ready) or bool(w.batch)
                if busy and now - w.since > limit:
                    self._replace(w, queue, results, on_result, f"timed out after {limit:g} s")
                    pending = len(items) - len(results)
        return results

    def _replace(self, w: _Worker, queue: deque, results: dict, on_result, why: str) -> None:
        """Kill a stuck or dead worker: its current item gets a verdict, the rest go back."""
        w.kill()
        self.restarts += 1
        if not w.ready:
            self.startup_failures += 1
            if self.startup_failures >= 3:
                raise PathscopeError(
                    f"math-verify workers fail to start ({why}); is math-verify installed? (pip install 'pathscope[verify]')"
                )
        if w.batch:
            key, _, _ = w.batch.popleft()
            status = "timeout" if "timed out" in why else "error"
            results[key] = (status, f"math-verify {why}")
            if on_result:
                on_result(key, status, results[key][1])
            queue.extendleft(reversed(w.batch))
        idx = self.workers.index(w)
        self.workers[idx] = self._spawn()


if __name__ == "__main__":
    _in, _out, _timeout = (int(a) for a in sys.argv[1:4])
    _conn = _Duplex(Connection(_in, writable=False), Connection(_out, readable=False))
    _worker_main(_conn, _timeout)
