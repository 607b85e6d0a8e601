"""A run's first sandbox, made while the run is still finding out what it has to grade.

Before a run grades anything it reads every submission and stored result to see what changed (a
fifth of a second for a class of 300), checks which references passed, and only then entered the
grading context (template, fork server, check runners) and made its first sandbox (a database copy
and a kernel start, 0.6 s on two cores). A re-run of one learner waited for both, one after the
other. :class:`EarlySandbox` does the second on a thread as soon as the run knows its submissions,
while the main thread does the first; the run adopts what it made (:meth:`EarlySandbox.adopt`), or
closes it unused when nothing needs grading.

It decides nothing: what it made is what the run would have made, with the same errors, raised
where the run would have raised them (in :meth:`adopt`); when the run grades with other settings
than it started with, it is closed and the run starts as it always did.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from pathlib import Path

from pglab.db.provision import admin_url
from pglab.grading.head_start import HeadStart, head_start
from pglab.grading.sandbox import (
    GradingContext,
    Sandbox,
    UserLease,
    dispose_sandbox,
    grading_context,
    prepare_sandbox,
)
from pglab.grading.timeouts import Limits


@dataclass(frozen=True)
class ContextSettings:
    """What a grading context is entered with. An early one is made for every submitted notebook of
    the run, so it covers the few the run ends up grading: the same limits, sandbox and outputs,
    and at least their source folders (hidden from kernels) and check modules (collected by the
    check runners, which run only those a notebook asks for)."""

    limits: Limits
    bwrap: str | None
    sources: frozenset[Path]
    out: Path | None
    check_files: frozenset[Path]

    def covers(self, needed: ContextSettings) -> bool:
        return ((self.limits, self.bwrap, self.out) == (needed.limits, needed.bwrap, needed.out)
                and needed.sources <= self.sources and needed.check_files <= self.check_files)


@dataclass
class Adopted:
    """What the run takes over: the entered context (closed with ``stack``) and a ready sandbox."""

    context: GradingContext
    stack: contextlib.ExitStack
    made: tuple[Sandbox, UserLease] | None  # None: it could not be made (the pool makes one and reports why)


class EarlySandbox:
    """The grading context entered, one check runner started and one sandbox made, on a thread."""

    def __init__(self, settings: ContextSettings, ahead: HeadStart | None) -> None:
        self.settings = settings
        # The fork server runs in ``bwrap --die-with-parent``, and a process's parent, for that, is
        # the thread that started it: started on the early thread, it would die when the thread
        # ends. So it is launched here, on the run's own thread, unless the run brought one.
        self._stack = contextlib.ExitStack()
        if ahead is None or not ahead.fits(admin_url(), sandboxed=settings.bwrap is not None):
            ahead = head_start(unsafe_no_sandbox=settings.bwrap is None)
            if ahead is not None:  # closed last, whoever ends up holding the context
                self._stack.callback(ahead.close)
        self._ahead = ahead
        self._context: GradingContext | None = None
        self._made: tuple[Sandbox, UserLease] | None = None
        self._error: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._start, name="pglab-early-sandbox", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        if self._ahead is None:  # no fork server could be launched: the run starts its context itself
            return
        try:
            s = self.settings
            self._context = self._stack.enter_context(
                grading_context(s.limits, s.bwrap, set(s.sources), s.out, sorted(s.check_files), self._ahead))
        except BaseException as err:  # raised in adopt(), where the run would have raised it
            self._error = err
            return
        if self._context.check_runners is not None:
            self._context.check_runners.start_ahead(1)
        lease = None
        try:
            lease = UserLease()
            self._made = (prepare_sandbox(self._context, lease.name), lease)
        except BaseException:  # the pool makes its sandboxes as it always did, and reports what fails
            if lease is not None:
                lease.release()

    def adopt(self, settings: ContextSettings) -> Adopted | None:
        """What was made, for a run entering a context with ``settings``; None when they differ
        (it is closed: the run starts its own). Errors of entering the context are raised here."""
        self._thread.join()
        if self._ahead is None or not self.settings.covers(settings):
            self.close()
            return None
        if self._error is not None:
            error, self._error = self._error, None
            self.close()
            raise error
        assert self._context is not None
        self._taken = True
        return Adopted(self._context, self._stack, self._made)

    def close(self) -> None:
        """Undo what was made and not adopted: the sandbox, its user, the context."""
        self._thread.join()
        if self._taken:
            return
        self._taken = True
        try:
            if self._made is not None and self._context is not None:
                with contextlib.suppress(Exception):  # nothing was graded in it; the next run cleans up
                    dispose_sandbox(self._context, self._made[0])
        finally:
            if self._made is not None:
                self._made[1].release()
            self._stack.close()
