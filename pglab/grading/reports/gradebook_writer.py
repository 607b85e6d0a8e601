"""The gradebook writer: a child process that imports nbgrader while the run grades, then writes OUT's gradebook.

Why a process: the grader's main process is a run's bottleneck (a re-run after one learner handed
in again keeps it busy from start to end), and nbgrader's gradebook took 0.7 s of it to import.
A thread importing it ahead did not help: while it computes, every file operation of the other
threads waits for the GIL. So ``pglab grade`` launches this process beside the kernel fork server,
before it imports the grader (and a run that grades without the command starts one when it finds a
notebook to grade); it imports nbgrader on the other core and waits. At the end the grader sends
one :class:`~pglab.messages.RecordGradebook` (what :mod:`.gradebook_plan` decided) and gets
nbgrader's export back (:class:`~pglab.messages.GradebookRecorded`).

It imports nbgrader's ``api`` and ``plugins.export`` without running nbgrader's package
``__init__``, which loads its Jupyter server extensions (jupyter_server, nbconvert: 1.1 s of a
fresh interpreter) and nothing the gradebook uses; nbgrader is pinned, and the unit tests compare
what this process writes with nbgrader's own reading of the file.

Faults: a writer that cannot start, dies, or does not answer in time is stopped and the grader
writes the gradebook itself, the same way, in its own process; a request that fails (a full disk,
an unwritable OUT, a damaged file) is a :class:`~pglab.errors.GraderFault` wherever it ran.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import ModuleType

from pglab.errors import FaultKind, one_line
from pglab.grading.child_processes import PACKAGE_HOME, child_command, child_environment
from pglab.grading.timeouts import TIMEOUTS
from pglab.messages import (
    Blame,
    Failure,
    GradebookMessage,
    GradebookNotRecorded,
    GradebookRecorded,
    GradebookWriterReady,
    RecordGradebook,
    Stop,
    failure_of,
)

MODULE = "pglab.grading.reports.gradebook_writer"
GRADEBOOK = "pglab.grading.reports.gradebook"  # the writing code: it imports nbgrader's gradebook
# SQLite's primary result codes (sqlite.org/rescode.html) that are the file's or the disk's doing
SQLITE_FAULTS = {13: FaultKind.DISK,  # SQLITE_FULL
                 5: FaultKind.OUTPUT, 8: FaultKind.OUTPUT, 10: FaultKind.OUTPUT,  # BUSY, READONLY, IOERR
                 11: FaultKind.OUTPUT, 14: FaultKind.OUTPUT, 26: FaultKind.OUTPUT}  # CORRUPT, CANTOPEN, NOTADB


class GradebookWriterProcess:
    """The grader's side: the child, asked once (or never) and then stopped."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        self.conn = Connection(os.dup(parent.fileno()))
        parent.close()
        fd = child.fileno()
        try:
            self.process = subprocess.Popen(
                child_command(MODULE, str(fd)), pass_fds=(fd,), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_environment(), cwd=PACKAGE_HOME)
        except BaseException:
            self.conn.close()
            raise
        finally:
            child.close()
        self._ready = False

    @classmethod
    def start(cls) -> GradebookWriterProcess | None:
        """A writer starting up; None when no process can be started (the grader then writes itself)."""
        try:
            return cls()
        except OSError:
            return None

    def record(self, request: RecordGradebook) -> GradebookRecorded | None:
        """The writer's answer; None when it could not give one (it is stopped: write in-process).
        A request that failed in the writer raises its :class:`GraderFault`."""
        answer = self._exchange(request)
        if answer is None:
            self.close()
            return None
        if isinstance(answer, GradebookNotRecorded):
            raise answer.failure.exception()
        return answer

    def _exchange(self, request: RecordGradebook) -> GradebookRecorded | GradebookNotRecorded | None:
        try:
            if not self._ready:
                if not self.conn.poll(TIMEOUTS.gradebook_start_s) or not isinstance(self.conn.recv(),
                                                                                      GradebookWriterReady):
                    return None
                self._ready = True
            self.conn.send(request)
            if not self.conn.poll(TIMEOUTS.gradebook_answer_s):
                return None
            answer: GradebookMessage = self.conn.recv()
        except (EOFError, OSError):
            return None
        return answer if isinstance(answer, GradebookRecorded | GradebookNotRecorded) else None

    def close(self) -> None:
        """Stop the writer: asked to, when it is idle (it finishes nothing half-way: it answered, or
        it was never asked); killed when it is not."""
        if not self.conn.closed:
            if self._ready:
                with contextlib.suppress(OSError):
                    self.conn.send(Stop())
            else:
                self.process.kill()  # still importing, or never asked: nothing of it to keep
            self.conn.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def record_gradebook(request: RecordGradebook, writer: GradebookWriterProcess | None) -> GradebookRecorded:
    """``request`` done by ``writer``, or here when there is none or it could not answer."""
    recorded = writer.record(request) if writer is not None else None
    if recorded is not None:
        return recorded
    # deferred: the gradebook module imports nbgrader (0.7 s), which a run whose writer answered never pays
    answer = write_or_fail(request, importlib.import_module(GRADEBOOK).write_gradebook)
    if isinstance(answer, GradebookNotRecorded):
        raise answer.failure.exception()
    return answer


def write_or_fail(request: RecordGradebook, write: Callable[[RecordGradebook], GradebookRecorded]
                  ) -> GradebookRecorded | GradebookNotRecorded:
    """``write(request)`` (the gradebook module's ``write_gradebook``), its failure as the grader's fault."""
    try:
        recorded = write(request)
    except Exception as err:
        return GradebookNotRecorded(failure_of(err) or _fault(err, request.path))
    return recorded


def _fault(err: Exception, path: str) -> Failure:
    """Why writing failed: the disk, OUT, or (anything else) the grader."""
    cause: BaseException = getattr(err, "orig", None) or err  # SQLAlchemy wraps sqlite3's own error
    kind = FaultKind.INTERNAL
    if isinstance(cause, OSError):
        kind = FaultKind.DISK if cause.errno in (errno.ENOSPC, errno.EDQUOT) else FaultKind.OUTPUT
    elif isinstance(cause, sqlite3.Error):
        kind = SQLITE_FAULTS.get(getattr(cause, "sqlite_errorcode", 0) & 0xFF, FaultKind.INTERNAL)
    return Failure(Blame.GRADER, type(cause).__name__, f"{path}: {one_line(cause)}", kind)


# -- the child ---------------------------------------------------------------------------------------

def import_nbgrader_gradebook() -> ModuleType:
    """The gradebook module, with nbgrader's package imported without its ``__init__`` (see above)."""
    if "nbgrader" not in sys.modules:
        spec = importlib.util.find_spec("nbgrader")
        if spec is None or spec.submodule_search_locations is None:
            raise ModuleNotFoundError("nbgrader is not installed")
        sys.modules["nbgrader"] = importlib.util.module_from_spec(spec)  # its __path__, not its __init__
    return importlib.import_module(GRADEBOOK)


def child_main(fd: int) -> int:
    conn = Connection(fd)
    try:
        write = import_nbgrader_gradebook().write_gradebook
        conn.send(GradebookWriterReady())
        while True:
            request: GradebookMessage = conn.recv()
            if not isinstance(request, RecordGradebook):
                return 0
            conn.send(write_or_fail(request, write))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return 0  # the grader went away, or stopped the writer: nothing to report to


if __name__ == "__main__":
    # No teardown: the gradebook is closed after every request, and the grader waits for this exit
    # (finalizing nbgrader's and SQLAlchemy's modules took a tenth of a second).
    status = child_main(int(sys.argv[1]))
    sys.stdout.flush()
    os._exit(status)
