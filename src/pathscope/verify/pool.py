"""A process pool for math-verify with a per-item timeout the parent enforces.

math-verify bounds its own work with ``signal.alarm``, which only works on a
process's main thread, and some inputs (huge exponents, nested radicals) can
still hang sympy.  Each worker here is a fresh interpreter whose main thread
grades chunks of pairs and streams back one result per pair, stamped with
the (system-wide monotonic) time it finished.  The parent knows from those
stamps when the pair in progress started, even if it was busy elsewhere; past
the timeout it kills that worker, records ``timeout`` for the pair, re-queues
the rest of the chunk and starts a fresh worker.

:meth:`GradePool.submit` returns at once, so the caller can extract the next
batch of answers while workers grade; :meth:`GradePool.collect` waits for the
keys it needs.  ``workers=0`` grades in the calling process (main thread).
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


def _grade_one(pred: str, ref: str, item_timeout: int) -> tuple[str, str]:
    from .math_check import grade_pair

    try:
        return grade_pair(pred, ref, item_timeout)
    except TimeoutError:
        return "timeout", f"math-verify timed out after {item_timeout} s"
    except Exception as exc:  # a grader crash is a verdict, not a stop
        return "error", f"math-verify failed: {type(exc).__name__}: {str(exc)[:200]}"


def _worker_main(conn, item_timeout: int) -> None:
    try:
        import math_verify  # noqa: F401  (load sympy once, before the first timed item)
    except ImportError:
        return
    conn.send(("ready", None, None, time.monotonic()))
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if chunk is None:
            return
        for key, pred, ref in chunk:
            res = _grade_one(pred, ref, item_timeout)
            conn.send(("result", key, res, time.monotonic()))


class _Worker:
    """A fresh interpreter (``python -m pathscope.verify.pool``): never a fork
    of a process that holds DuckDB threads, and no re-import of ``__main__``
    as multiprocessing's spawn would do."""

    def __init__(self, item_timeout: int):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pathscope.verify.pool", str(to_child_r), str(from_child_w), str(item_timeout)],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.ready = False
        self.inflight: deque = deque()
        self.since = time.monotonic()  # start of the item in progress (or of startup)

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
    math-verify calls get ``inner_timeout`` (default 80 % of it) so they
    usually stop themselves first.  A worker gets ``startup`` seconds to start.
    ``depth`` items are in flight per worker, enough to keep it busy while
    the caller does other work.
    """

    def __init__(self, workers: int = 2, timeout: float = 10.0, depth: int = 32, startup: float = 120.0,
                 inner_timeout: int | None = None):
        self.n = max(0, int(workers))
        self.timeout = float(timeout)
        self.inner_timeout = inner_timeout
        self.depth = depth
        self.startup = startup
        self.workers: list[_Worker] = []
        self.queue: deque = deque()
        self.results: dict = {}
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
            except OSError:
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

    def start(self) -> None:
        """Start the workers now (they import sympy while the caller works)."""
        while len(self.workers) < self.n:
            self.workers.append(_Worker(self._inner_timeout()))

    # -- the API ---------------------------------------------------------------------

    def submit(self, items: list[Item]) -> None:
        """Queue items; returns at once (in-process mode grades them here)."""
        if self.n == 0:
            for key, pred, ref in items:
                self.results[key] = _grade_one(pred, ref, self._inner_timeout())
            return
        self.start()
        self.queue.extend(items)
        self._pump(0.0)

    def collect(self, keys) -> dict:
        """Wait until every key has a result; returns {key: (status, detail)}."""
        keys = list(keys)
        while any(k not in self.results for k in keys):
            self._pump(None)
        return {k: self.results[k] for k in keys}

    def grade(self, items: list[Item]) -> dict:
        self.submit(items)
        return self.collect([it[0] for it in items])

    # -- the machinery ---------------------------------------------------------------

    def _feed(self) -> None:
        for w in self.workers:
            if w.ready and self.queue and len(w.inflight) < self.depth // 2:
                chunk = [self.queue.popleft() for _ in range(min(self.depth - len(w.inflight), len(self.queue)))]
                if not w.inflight:
                    w.since = time.monotonic()
                w.inflight.extend(chunk)
                w.send(chunk)

    def _limit(self, w: _Worker) -> float:
        return self.startup if not w.ready else self.timeout

    def _busy(self, w: _Worker) -> bool:
        return (not w.ready) or bool(w.inflight)

    def _pump(self, wait_s: float | None) -> None:
        """Feed workers, take in results, enforce deadlines.  ``wait_s=None``
        waits for the next event or deadline; 0 only polls."""
        self._feed()
        now = time.monotonic()
        if wait_s is None:
            deadlines = [w.since + self._limit(w) for w in self.workers if self._busy(w)]
            wait_s = max(0.0, min(deadlines) - now) if deadlines else 0.05
        for conn in wait([w.conn for w in self.workers], timeout=wait_s):
            w = next(x for x in self.workers if x.conn is conn)
            while True:
                try:
                    if not conn.poll():
                        break
                    kind, key, res, stamp = conn.recv()
                except (EOFError, OSError):
                    self._replace(w, "the grading worker died")
                    break
                if kind == "ready":
                    w.ready = True
                    w.since = stamp
                    continue
                if w.inflight and w.inflight[0][0] == key:
                    w.inflight.popleft()
                w.since = stamp  # the next item started when this one ended
                self.results[key] = res
        now = time.monotonic()
        for w in list(self.workers):
            if self._busy(w) and now - w.since > self._limit(w):
                self._replace(w, f"timed out after {self._limit(w):g} s")
        self._feed()

    def _replace(self, w: _Worker, why: str) -> None:
        """Kill a stuck or dead worker: its current item gets a verdict, the rest go back."""
        w.kill()
        self.restarts += 1
        if not w.ready:
            self.startup_failures += 1
            if self.startup_failures >= 3:
                raise PathscopeError(
                    f"math-verify workers fail to start ({why}); is math-verify installed? (pip install 'pathscope[verify]')"
                )
        if w.inflight:
            key, _, _ = w.inflight.popleft()
            status = "timeout" if "timed out" in why else "error"
            self.results[key] = (status, f"math-verify {why}")
            self.queue.extendleft(reversed(w.inflight))
        idx = self.workers.index(w)
        self.workers[idx] = _Worker(self._inner_timeout())


if __name__ == "__main__":
    _in, _out, _timeout = (int(a) for a in sys.argv[1:4])
    _worker_main(_Duplex(Connection(_in, writable=False), Connection(_out, readable=False)), _timeout)
