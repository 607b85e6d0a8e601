"""``pglab grade`` runs the checks in pytest: one long-lived pytest session per grading worker.

Why a process per worker: pytest is not thread-safe (its capture, fixtures' set-up state and
reporting are per process) and the grader grades several notebooks at once on threads; and a
pytest start-up with collection costs tens of milliseconds of CPU, too much to pay per notebook.
So each worker thread owns a :class:`CheckRunner`: a child process that collects every check
module of the run once, then, per notebook, runs that challenge's items with
``runtestprotocol`` and sends back their :class:`~pglab.checks.results.CheckResult`. The messages
both ways are those of :mod:`pglab.messages`.

The learner's code stays where it is, in the sandboxed kernel the worker thread drives: when a
check calls ``sub.call(...)``/``sub.run(...)`` the child asks the worker (over a socket pair) to
evaluate the code and gets the JSON answer, or the learner's error, back. ``sub.sql(...)`` runs in
the child, on the submission's own database. Every wait is bounded; a runner that dies or stops
answering is a :class:`~pglab.errors.GraderFault` (the notebook is graded again), and is replaced.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from pglab.checks.plugin import FAULT, INFO, PROVIDED, RESULT, SUBMISSION, library_arguments
from pglab.checks.results import CheckResult, result_of
from pglab.checks.submission import Submission
from pglab.errors import ChecksDoNotLoad, FaultKind, GraderFault, one_line
from pglab.grading.child_processes import PACKAGE_HOME, child_command, child_environment
from pglab.grading.timeouts import TIMEOUTS
from pglab.messages import (
    CheckNotebook,
    Evaluate,
    Evaluated,
    MayRun,
    NotebookChecked,
    NotebookVoided,
    Proceed,
    RunnerFailed,
    RunnerMessage,
    RunnerReady,
    Stop,
    failure_of,
)


class RemoteSubmission(Submission):
    """In the child: the learner's code is reached through the worker that owns the kernel."""

    def __init__(self, conn: Connection, database_url: str) -> None:
        super().__init__(database_url)
        self.conn = conn

    def run(self, code: str, timeout: float | None = None) -> Any:
        self.conn.send(Evaluate(code, timeout))
        answer: Evaluated = self.conn.recv()
        if answer.failure is not None:
            raise answer.failure.exception()
        return answer.value


class _ServeChecks:
    """The child's pytest plugin: instead of running the collected items once, serve requests."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.load_errors: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: Any) -> None:
        config.stash[PROVIDED] = True

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.load_errors.append(f"{report.nodeid}: {one_line(report.longreprtext)[-400:]}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: Any) -> bool:
        if self.load_errors or session.testsfailed:
            self.conn.send(RunnerFailed("; ".join(self.load_errors) or "the check modules did not load"))
            return True
        self.conn.send(RunnerReady())
        while True:
            request: CheckNotebook | Stop = self.conn.recv()
            if isinstance(request, Stop):
                return True
            try:
                self._serve(session, request)
            except (EOFError, OSError):
                raise
            except Exception as err:  # a bug of ours: say so, rather than vanish
                self.conn.send(RunnerFailed(f"{type(err).__name__}: {one_line(err)}"))

    def _serve(self, session: Any, request: CheckNotebook) -> None:
        """One notebook: its challenge's checks, in order, each asking first whether it may still run."""
        files, database_url = request.files, request.database_url
        order = {path: index for index, path in enumerate(files)}  # visible checks first, as asked
        items = sorted((item for item in session.items if INFO in item.stash and item.stash[INFO].file in order),
                       key=lambda item: order[item.stash[INFO].file])
        sub = RemoteSubmission(self.conn, database_url)
        session.config.stash[SUBMISSION] = sub
        results: list[CheckResult] = []
        fault: GraderFault | None = None
        try:
            for item in items:
                self.conn.send(MayRun(item.name))
                proceed: Proceed = self.conn.recv()
                if proceed.skip_reason:
                    results.append(result_of(item.stash[INFO], 0.0, proceed.skip_reason))
                    continue
                runtestprotocol(item, log=False, nextitem=None)
                results.append(item.stash[RESULT])
                del item.stash[RESULT]
                fault = item.stash.get(FAULT, None)
                if fault is not None:
                    del item.stash[FAULT]
                    break
        finally:
            sub.close()
        # a fault of the grader's under a check voids the whole notebook: it is graded again
        self.conn.send(NotebookVoided(fault.kind, fault.detail) if fault else NotebookChecked(results))


def child_main(fd: int, files: list[str]) -> int:
    """``python -m pglab.grading.check_runner FD FILE...``: serve check runs until told to stop."""
    conn = Connection(fd)
    server = _ServeChecks(conn)
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            pytest.main(library_arguments(files), plugins=[server])
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return 0  # the grader went away: nothing to report to
    except BaseException as err:
        with contextlib.suppress(OSError):
            conn.send(RunnerFailed(f"{type(err).__name__}: {one_line(err)}"))
        return 1
    return 0


class CheckRunner:
    """The worker's side: a child pytest session, and the kernel its checks call into."""

    def __init__(self, files: list[Path]) -> None:
        self.files = [str(f.resolve()) for f in files if f.is_file()]
        parent, child = socket.socketpair()
        self.conn = Connection(os.dup(parent.fileno()))
        parent.close()
        fd = child.fileno()
        self.process = subprocess.Popen(
            child_command("pglab.grading.check_runner", str(fd), *self.files),
            pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=child_environment(), cwd=PACKAGE_HOME)
        child.close()
        self._ready = False

    def _send(self, message: RunnerMessage) -> None:
        try:
            self.conn.send(message)
        except OSError:
            self.close()
            raise GraderFault(FaultKind.CHECKS, f"its process ended (exit status {self.process.returncode})") from None

    def _receive(self, wait_s: float) -> RunnerMessage:
        if not self.conn.poll(wait_s):
            self.close()
            raise GraderFault(FaultKind.STUCK, f"the checks did not answer within {wait_s:.0f} s")
        try:
            message: RunnerMessage = self.conn.recv()
        except (EOFError, OSError):
            self.close()
            raise GraderFault(FaultKind.CHECKS, f"its process ended (exit status {self.process.returncode})") from None
        return message

    def _wait_ready(self) -> None:
        if self._ready:
            return
        message = self._receive(TIMEOUTS.checks_start_s)
        if not isinstance(message, RunnerReady):
            self.close()
            reason = message.reason if isinstance(message, RunnerFailed) else f"it sent {message!r}"
            raise ChecksDoNotLoad(f"the checks could not be loaded: {reason}")
        self._ready = True

    def run(self, files: list[Path], sub: Submission, not_run_reason: Any) -> list[CheckResult]:
        """Run the checks of ``files`` against ``sub``; ``not_run_reason()`` (before each check)
        says why it cannot run any more (the kernel died, the time is up), or ``""``."""
        self._wait_ready()
        wanted = [str(f.resolve()) for f in files if f.is_file()]
        self._send(CheckNotebook(wanted, sub.database_url))
        try:
            answer = self._converse(sub, not_run_reason)
        except BaseException:
            # whatever cut the conversation short (the learner's kernel gone under a check, a fault
            # of ours), the child is still in it, waiting for an answer: it must serve no one again
            self.process.kill()
            self.close()
            raise
        if isinstance(answer, NotebookVoided):
            raise GraderFault(answer.fault, answer.detail)
        return list(answer.results)

    def _converse(self, sub: Submission, not_run_reason: Any) -> NotebookChecked | NotebookVoided:
        """Answer the child's questions until it says how the notebook's checks ended."""
        while True:
            message = self._receive(TIMEOUTS.checks_answer_s)
            if isinstance(message, NotebookChecked | NotebookVoided):
                return message
            if isinstance(message, MayRun):
                self._send(Proceed(not_run_reason()))
            elif isinstance(message, Evaluate):
                self._send(_evaluate(sub, message))
            else:
                reason = message.reason if isinstance(message, RunnerFailed) else f"it sent {message!r}"
                raise GraderFault(FaultKind.INTERNAL, f"the check runner failed: {reason}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self.conn.closed

    def close(self) -> None:
        self.ask_to_stop()
        self.wait_stopped()

    def ask_to_stop(self) -> None:
        if not self.conn.closed:
            with contextlib.suppress(OSError):
                self.conn.send(Stop())
            self.conn.close()

    def wait_stopped(self) -> None:
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _evaluate(sub: Submission, request: Evaluate) -> Evaluated:
    """One ``sub.run`` for the child: the value, or the failure it ended in (the learner's errors
    are answers; a bug of ours is not carried, it stops the worker)."""
    try:
        return Evaluated(value=sub.run(request.code, request.timeout))
    except Exception as err:
        failure = failure_of(err)
        if failure is None:
            raise
        return Evaluated(failure=failure)


class CheckRunners:
    """One :class:`CheckRunner` per grading thread, started on its first notebook, replaced when it dies."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self._local = threading.local()
        self._all: list[CheckRunner] = []
        self._spare: list[CheckRunner] = []
        self._lock = threading.Lock()

    def start_ahead(self, count: int) -> None:
        """Start ``count`` runners now, so their start-up overlaps the first kernels' start."""
        with self._lock:
            for _ in range(count):
                runner = CheckRunner(self.files)
                self._spare.append(runner)
                self._all.append(runner)

    def for_this_thread(self) -> CheckRunner:
        runner: CheckRunner | None = getattr(self._local, "runner", None)
        if runner is None or not runner.alive:
            with self._lock:
                runner = None
                while self._spare and runner is None:
                    runner = self._spare.pop()
                    if not runner.alive:  # started ahead, then lost before its first notebook
                        runner.close()
                        runner = None
                if runner is None:
                    runner = CheckRunner(self.files)
                    self._all.append(runner)
            self._local.runner = runner
        return runner

    def close(self) -> None:
        """Every runner asked first, then waited for: each takes ~0.1 s to wind pytest down."""
        with self._lock:
            for runner in self._all:
                runner.ask_to_stop()
            for runner in self._all:
                runner.wait_stopped()
            self._all.clear()


if __name__ == "__main__":
    sys.exit(child_main(int(sys.argv[1]), sys.argv[2:]))
