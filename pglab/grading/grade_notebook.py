"""Grade one submitted notebook: fresh database, sandboxed kernel, learner cells, then the checks.

The same pipeline whichever way the challenge is graded; what differs (which cells run, the files
beside the notebook, what the cells score) is its strategy's (:mod:`pglab.grading.strategies`).
Whatever the learner's notebook does (invalid JSON, an endless loop, a dead kernel, a dropped table)
ends as a graded :class:`NotebookOutcome` with points and reasons. A fault of the grader's own
machinery (the database server stopped or restarted, a kernel could not start, the disk filled up)
escapes as a :class:`~pglab.errors.GraderFault` instead, so that the batch leaves the notebook
ungraded and tries it again rather than blaming the learner.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from pglab.errors import FaultKind, GraderFault
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.kernels.session import CellRun, KernelSession
from pglab.grading.kernels.submission import KernelSubmission
from pglab.grading.notebook_cells import PlannedCell, UnreadableNotebook, read_submission
from pglab.grading.outcome import CellKind, CellLog, CellStatus, NotebookOutcome, zero_outcome
from pglab.grading.phase_times import NotebookPhase
from pglab.grading.sandbox import GradingContext, Sandbox, SandboxPool, disk_fault, give_to
from pglab.grading.strategies import strategy_for
from pglab.grading.timeouts import Limits


def grade_notebook(student: str, challenge: ChallengeNotebook, submitted: Path,
                   context: GradingContext, sandboxes: SandboxPool) -> NotebookOutcome:
    started = time.monotonic()
    try:
        data = read_submission(submitted)
    except UnreadableNotebook as err:
        outcome = zero_outcome(student, challenge.assignment, challenge.notebook, challenge.graded_items(),
                               str(err), check_message=f"not graded: {err}")
        outcome.seconds = time.monotonic() - started
        return outcome
    with submission_in_sandbox(student, challenge, submitted, data, context, sandboxes) as (
            sandbox, outcome, started):
        run_checks(sandbox, challenge, context, outcome, started)
    outcome.seconds = time.monotonic() - started
    return outcome


@contextlib.contextmanager
def submission_in_sandbox(student: str, challenge: ChallengeNotebook, submitted: Path, data: dict,
                          context: GradingContext, sandboxes: SandboxPool
                          ) -> Iterator[tuple[Sandbox, NotebookOutcome, float]]:
    """A sandbox in which the learner's cells (and nbgrader's test cells) have run, ready for the checks.

    With it come the outcome so far (notes, cell logs, nbgrader's scores) and the moment the kernel
    was handed over, from which the notebook's time budget counts.
    """
    strategy = strategy_for(challenge)
    plan = strategy.plan(data)
    outcome = NotebookOutcome(student, challenge.assignment, challenge.notebook, challenge.max_points())
    outcome.notes.extend(plan.notes)
    waited = time.perf_counter()
    sandbox = sandboxes.take()
    times = sandbox.times
    times.add(NotebookPhase.WAIT_FOR_SANDBOX, time.perf_counter() - waited)
    started = time.monotonic()  # the budget starts when this notebook's kernel is handed over
    try:
        try:
            for path, where in strategy.files_beside(submitted.parent):
                copy_into(sandbox, path, where)
            copy_into(sandbox, submitted, Path(submitted.name))
        except OSError as err:
            raise disk_fault(err) from None
        cpu = sandbox.session.cpu_seconds()
        with times.timed(NotebookPhase.LEARNER_CELLS):
            runs = run_learner_cells(sandbox.session, plan.cells, context.limits, outcome, started)
        times.add(NotebookPhase.LEARNER_CELLS_CPU, sandbox.session.cpu_seconds() - cpu)
        why_not_run = (f"not run: {sandbox.session.death_reason or 'the kernel is not running'}"
                       if not sandbox.session.alive else
                       f"not run: the notebook used up its {context.limits.submission_timeout_s:.0f} s")
        strategy.score_cells(plan, runs, why_not_run, outcome)
        cpu = sandbox.session.cpu_seconds()
        with times.timed(NotebookPhase.CHECKS):
            yield sandbox, outcome, started
        times.add(NotebookPhase.CHECKS_KERNEL_CPU, sandbox.session.cpu_seconds() - cpu)
    finally:
        with times.timed(NotebookPhase.CLEAN_UP):
            sandboxes.give_back(sandbox)
        outcome.phases = dict(times.seconds)


def copy_into(sandbox: Sandbox, path: Path, where: Path) -> None:
    """``path`` into the sandbox's folder at ``where`` (relative), owned by the sandbox's user."""
    target = sandbox.workdir / where
    for parent in reversed(target.relative_to(sandbox.workdir).parents[:-1]):
        if not (sandbox.workdir / parent).is_dir():
            (sandbox.workdir / parent).mkdir()
            give_to(sandbox, sandbox.workdir / parent)
    target.unlink(missing_ok=True)
    shutil.copyfile(path, target)
    give_to(sandbox, target)


def run_learner_cells(session: KernelSession, cells: list[PlannedCell], limits: Limits,
                      outcome: NotebookOutcome, started: float) -> dict[str, CellRun]:
    """Run the cells in order within the notebook's budget; each run, by label.

    A test cell's own errors are its score's message, not a note: a note is shown in feedback,
    and a hidden test's error must not be.
    """
    deadline = started + limits.submission_timeout_s
    runs: dict[str, CellRun] = {}
    for label, code, kind in cells:
        if time.monotonic() > deadline:
            outcome.notes.append(
                f"stopped before {label}: the notebook used up its {limits.submission_timeout_s:.0f} s")
            break
        run = runs[label] = session.run_cell(code)
        outcome.cells.append(CellLog(label, run.status, run.output, run.error, kind))
        if run.status is CellStatus.TIMEOUT:
            outcome.notes.append(f"{label} ran longer than {limits.cell_timeout_s:.0f} s and was interrupted")
        elif run.status is CellStatus.DIED:
            outcome.notes.append(f"{label}: {run.error}")
            break
        elif run.status is CellStatus.ERROR and kind is not CellKind.TEST:
            outcome.notes.append(f"{label} raised {run.error}")
        if run.truncated:
            outcome.notes.append(f"{label} printed more than {limits.output_chars} characters: cut")
    return runs


def run_checks(sandbox: Sandbox, challenge: ChallengeNotebook, context: GradingContext,
               outcome: NotebookOutcome, started: float) -> None:
    """The challenge's checks, in this thread's pytest session, against the learner's kernel."""
    limits = context.limits
    deadline = started + limits.submission_timeout_s

    def not_run_reason() -> str:
        if time.monotonic() > deadline:
            return f"not run: the notebook used up its {limits.submission_timeout_s:.0f} s"
        if not sandbox.session.alive:
            return f"not run: {sandbox.session.death_reason or 'the kernel is not running'}"
        return ""

    if not challenge.checks():
        return
    if context.check_runners is None:
        raise GraderFault(FaultKind.INTERNAL, "the checks have no pytest session to run in")
    sub = KernelSubmission(sandbox.session, sandbox.database.url)
    try:
        results = context.check_runners.for_this_thread().run(challenge.check_files(), sub, not_run_reason)
    finally:
        sub.close()
    outcome.results.extend(results)
