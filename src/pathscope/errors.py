"""Errors a user can cause.

Every user-caused failure (bad file, missing field, wrong path, locked or
foreign run) raises :class:`PathscopeError` with one sentence that names the
file, line or field.  The CLI prints that sentence and exits non-zero; it never
shows a traceback for these.
"""

from __future__ import annotations


class PathscopeError(Exception):
    """A failure the user can fix; ``str(err)`` is the whole message."""

    exit_code = 1


class RunError(PathscopeError):
    """The run file cannot be opened as asked (foreign, newer, missing)."""


class RunLockedError(RunError):
    """Another process holds the run open for writing."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


class InputError(PathscopeError):
    """A malformed input file; the message names file, line and field."""


class Interrupted(PathscopeError):
    """Ctrl-C during a resumable stage: exit 130 with one sentence saying what was kept
    (click would otherwise print 'aborted.')."""

    exit_code = 130
