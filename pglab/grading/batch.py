"""``pglab grade``: a folder of submissions in, grades, per-check results and feedback out.

Notebooks are graded in parallel (one sandboxed kernel and one fresh database each); results are
gathered on the main thread, which alone writes the outputs. Three rules shape the run:

- A fault of the grader (the database server down or restarted, a kernel that cannot start, a full
  disk, an unwritable ``--out``) is never a grade: the notebook is retried a bounded number of times
  and otherwise left *not graded* (no gradebook entry, no ``grades.csv`` row, a ``checks.csv`` row
  saying why) and the command exits non-zero. A fault that persists stops the run from starting
  more notebooks. A learner's own fault (code that raises, loops, kills its kernel) gets its zero.
- A re-run grades only what changed (:mod:`pglab.grading.result_store`); the class-wide outputs are
  rebuilt from all stored outcomes, identical to a full run's.
- Nothing waits forever, and a run killed at any moment is finished by the same command: the next
  run removes what it left (databases, roles, kernels, work folders) and grades what is missing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pglab.errors import FaultKind, GraderFault, PglabError
from pglab.grading import reference_check, timeouts
from pglab.grading.atomic_files import write_if_changed
from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.grading.database_copies import admin_connection, data_fingerprint
from pglab.grading.deadlines import Deadlines, parse_due, read_timestamp
from pglab.grading.early_sandbox import ContextSettings, EarlySandbox
from pglab.grading.grade_notebook import grade_notebook
from pglab.grading.head_start import HeadStart
from pglab.grading.kernels.bubblewrap import find_bwrap
from pglab.grading.late_penalties import LatePenalty, NotebookKey, late_penalties
from pglab.grading.late_policy import NO_PENALTY, LatePolicy
from pglab.grading.nbgrader_config import DEFAULTS, CourseConfig, course_gradebook_url, has_gradebook
from pglab.grading.outcome import NotebookOutcome, not_graded, not_submitted
from pglab.grading.phase_times import PhaseTimes, RunPhase
from pglab.grading.reference_check import ReferenceRecords
from pglab.grading.reports import feedback, outputs_digest
from pglab.grading.reports.class_report import PLOTS, write_class_report
from pglab.grading.reports.gradebook_plan import SubmissionRecord, grades_csv, record_submissions
from pglab.grading.reports.gradebook_writer import GradebookWriterProcess
from pglab.grading.reports.rows import (
    CheckRow,
    RowKind,
    SubmissionProblem,
    check_rows,
    checks_csv,
    grade_rows,
    listed_problems,
)
from pglab.grading.reports.similarity import KEPT_ANSWERS, ClassRanking, rank_similar
from pglab.grading.result_store import GRADER_REVISION, Fingerprints, OutputLock, ResultStore, write_atomically
from pglab.grading.sandbox import GradingContext, SandboxPool, grading_context
from pglab.grading.strategies import strategy_for
from pglab.grading.timeouts import Limits, limits_for
from pglab.settings import load_settings

ATTEMPTS = 3
# What report.html's "Problems noted" lists, by kind of row, as the summary line counts it
PROBLEM_KINDS = {RowKind.NOTEBOOK: "notebook(s) with notes (cells that raised, timed out, were restored or deleted)",
                 RowKind.SUBMISSION: "file(s) not graded", RowKind.NOT_GRADED: "notebook(s) not graded"}
BACKOFF_S = (1.0, 3.0)


@dataclass(frozen=True)
class Job:
    student: str
    challenge: ChallengeNotebook
    path: Path | None
    timestamp: datetime | None


@dataclass
class BatchSummary:
    outcomes: list[NotebookOutcome]  # every notebook in the outputs: graded now, kept, or not graded
    problems: list[SubmissionProblem]
    seconds: float
    graded_now: int = 0
    kept: int = 0
    retried: int = 0  # notebooks graded again, in this run, after a grader fault
    seconds_each: list[float] = field(default_factory=list)  # of the notebooks graded in this run
    not_graded: list[NotebookOutcome] = field(default_factory=list)
    stuck: bool = False  # a worker never came back: the process must exit without joining it
    phases: PhaseTimes = field(default_factory=PhaseTimes)  # the run's fixed cost (pglab.grading.phase_times)
    rows: list[CheckRow] = field(default_factory=list)  # checks.csv's, which report.html is made from
    outputs_written: bool = True  # False: the class-wide outputs were already those of this run
    late: list[LatePenalty] = field(default_factory=list)  # the notebooks handed in after their due date

    def problems_line(self) -> str:
        """What report.html lists under "Problems noted", counted by kind."""
        listed = listed_problems(self.rows)
        if not listed:
            return "no problem noted"
        counts = {kind: sum(1 for row in listed if row.kind is kind) for kind in RowKind}
        return "problems noted (see report.html): " + ", ".join(
            f"{count} {PROBLEM_KINDS[kind]}" for kind, count in counts.items() if count)

    def fault_line(self) -> str:
        """One line for an incomplete run: how many, why, and what to do."""
        reasons = sorted({n.fault_reason for n in self.not_graded})
        return (f"{len(self.not_graded)} notebook(s) were not graded ({'; '.join(reasons)}); "
                "nothing was recorded for them: fix that and run the same command again to grade them")


class Breaker:
    """Stops the run from starting more notebooks once a fault has proved persistent; counts the
    notebooks that needed another attempt."""

    def __init__(self) -> None:
        self.fault: GraderFault | None = None
        self.retried: set[tuple[str, str, str]] = set()

    def trip(self, fault: GraderFault) -> None:
        if self.fault is None:
            self.fault = fault


class ServerWatch:
    """After a database fault: wait, with back-off and a bound, for the server to answer again.

    One thread probes; the others share its verdict. A server that stays away for ``patience_s``
    is declared down for the rest of the run.
    """

    def __init__(self, admin_url: str, patience_s: float) -> None:
        self.admin_url = admin_url
        self.patience_s = patience_s
        self._lock = threading.Lock()
        self.down = False

    def wait_until_up(self) -> bool:
        with self._lock:
            if self.down:
                return False
            deadline = time.monotonic() + self.patience_s
            delay = 0.5
            while True:
                try:
                    with admin_connection(self.admin_url) as conn, conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    return True
                except GraderFault:
                    if time.monotonic() + delay > deadline:
                        self.down = True
                        return False
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)


def source_assignments(source: Path | None, config: CourseConfig = DEFAULTS) -> dict[str, list[ChallengeNotebook]]:
    """The assignments to grade: the course's, or those of an nbgrader source folder (graded with
    the course's nbgrader config)."""
    if source is None:
        return assignments()
    if not source.is_dir():
        raise PglabError(f"--source {source} is not a folder: give an nbgrader source folder "
                         "(<assignment>/<notebook>.ipynb, e.g. a course's source/)")
    found = assignments(source.resolve(), config)
    if not found:
        raise PglabError(f"--source {source} has no <assignment>/<notebook>.ipynb: give an nbgrader source folder "
                         f"(the one nbgrader generate_assignment reads, {_likely_source(source)})")
    for notebooks in found.values():
        for challenge in notebooks:
            try:  # each source read and prepared once, here (not in a worker), a broken one reported
                strategy_for(challenge).prepare()
            except Exception as err:
                raise PglabError(f"{challenge.source} cannot be read as an nbgrader source notebook "
                                 f"({type(err).__name__}: {err}): fix it and run the same command again") from None
    return found


def _likely_source(source: Path) -> str:
    """The fix to suggest for a ``--source`` that holds nothing submitted: its source/ folder, if it has one."""
    inner = source / "source"
    return f"here --source {inner}" if inner.is_dir() else "e.g. --source .../source"


def unmatched_source(source: Path, work: list[Job], problems: list[SubmissionProblem]) -> PglabError | None:
    """A ``--source`` that has no notebook for any notebook submitted (the course root, or another
    course's source, given by mistake): grading would record a zero for everyone."""
    if any(job.path is not None for job in work) or not problems:
        return None
    wanted = sorted({f"{p.assignment}/{p.notebook}.ipynb" for p in problems if p.notebook})
    shown = ", ".join(wanted[:3]) + (f" and {len(wanted) - 3} more" if len(wanted) > 3 else "")
    return PglabError(f"--source {source} has no notebook for what was submitted: looked in {source.resolve()} "
                      f"for <assignment>/<notebook>.ipynb ({shown or 'a notebook of each submitted assignment'}); "
                      f"give the course's nbgrader source folder, {_likely_source(source)}")


def course_deadlines(url: str, course: dict[str, list[ChallengeNotebook]], overrides: dict[str, datetime]
                     ) -> Deadlines:
    """Due dates and extensions from the course's gradebook, with ``--due`` over them; only
    ``--due``'s when the course has no gradebook."""
    if not has_gradebook(url):
        return Deadlines(overrides, {})
    # deferred: nbgrader's gradebook costs 0.6 s to import, which a course without one does without
    from pglab.grading.course_gradebook import read_deadlines

    return read_deadlines(url, course, overrides)


def discover(submitted: Path, course: dict[str, list[ChallengeNotebook]]
             ) -> tuple[list[Job], list[SubmissionProblem]]:
    jobs: list[Job] = []
    problems: list[SubmissionProblem] = []

    def problem(student: str, assignment: str, notebook: str, message: str) -> None:
        problems.append(SubmissionProblem(student, assignment, notebook, message))

    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if folder.name not in course:
                for stem in sorted(p.stem for p in folder.glob("*.ipynb")) or [""]:
                    problem(student_dir.name, folder.name, stem,
                            f"there is no assignment '{folder.name}' in this course "
                            f"(known: {', '.join(course)}): not graded")
                continue
            files = {p.stem: p for p in folder.glob("*.ipynb")}
            stamp = read_timestamp(folder)
            expected = {c.notebook: c for c in course[folder.name]}
            for name, challenge in expected.items():
                jobs.append(Job(student_dir.name, challenge, files.get(name), stamp))
            for extra in sorted(set(files) - set(expected)):
                problem(student_dir.name, folder.name, extra,
                        f"{extra}.ipynb is not a notebook of assignment '{folder.name}' "
                        f"(expected: {', '.join(f'{n}.ipynb' for n in expected)}): not graded")
    return jobs, problems


def grade_folder(submitted: Path, out: Path, jobs: int | None = None, limits: Limits | None = None,
                 progress: bool = True, students: tuple[str, ...] = (), regrade_all: bool = False,
                 db_wait_s: float = 60.0, unsafe_no_sandbox: bool = False,
                 source: Path | None = None, course_config: CourseConfig | None = None,
                 similarity: bool = True, due: tuple[str, ...] = (), late_policy: LatePolicy = NO_PENALTY,
                 ahead: HeadStart | None = None) -> BatchSummary:
    """Grade what needs grading in ``submitted``, then write the class-wide outputs in ``out``.

    ``students``: grade only these learners (again), keeping everyone else's stored results.
    ``regrade_all``: ignore stored results. ``db_wait_s``: how long a run waits for a database
    server that stopped answering before it gives up on the notebooks left.
    ``unsafe_no_sandbox``: run kernels without bubblewrap (otherwise its absence refuses the run).
    ``source``: an nbgrader source folder (``<assignment>/<notebook>.ipynb``) instead of the
    course's ``solutions/``, graded with ``course_config`` (by default the ``nbgrader_config.py``
    of the folder holding it, :func:`~pglab.grading.nbgrader_config_file.read_course_config`); without
    ``limits``, a cell then gets that config's timeout. ``similarity``: give ``report.html`` its
    "Similar answers" section (it changes no grade: False only leaves the section out). ``due``:
    ``ASSIGNMENT=WHEN`` due dates over the course gradebook's (:mod:`pglab.grading.course_gradebook`);
    ``late_policy``: what a late notebook loses (:mod:`pglab.grading.late_penalties`). ``ahead``: a
    fork server launched before the grader was imported (:mod:`pglab.grading.head_start`), adopted if
    the run grades; its caller closes it in any case.
    """
    started = time.monotonic()
    if not submitted.is_dir():
        raise PglabError(f"{submitted} is not a folder of submissions (<student>/<assignment>/*.ipynb)")
    config = DEFAULTS
    if source is not None and source.is_dir():
        # deferred: reading it imports nbgrader (0.6 s), which a run of the course's own challenges does without
        from pglab.grading.nbgrader_config_file import read_course_config

        config = course_config or read_course_config(source)
    limits = limits or limits_for(course_cell_timeout_s=config.cell_timeout_s if source is not None else None)
    timeouts.check(limits)  # contradicting --cell-timeout/--notebook-timeout: one line, nothing written
    course = source_assignments(source, config)
    deadlines = course_deadlines(course_gradebook_url(source, config), course, parse_due(due, course))
    work, problems = discover(submitted, course)
    wrong_source = unmatched_source(source, work, problems) if source is not None else None
    if wrong_source is not None:
        raise wrong_source
    unknown = sorted(set(students) - {job.student for job in work})
    if unknown:
        known = sorted({job.student for job in work})
        raise PglabError(f"no submissions from {', '.join(unknown)} in {submitted} "
                         f"(there are: {', '.join(known) or 'none'})")
    bwrap = None if unsafe_no_sandbox else find_bwrap()  # refuse before anything is written
    lock = OutputLock(out)
    try:
        lock.acquire()
    except GraderFault as fault:
        raise PglabError(f"{len(work)} notebook(s) were not graded ({fault}); nothing was recorded: "
                         "choose a writable --out and run the same command again") from None
    early = None
    try:
        submitted_jobs = [job for job in work if job.path is not None]
        if submitted_jobs:  # the first sandbox made while the run reads what changed
            early = EarlySandbox(context_settings(submitted_jobs, limits, bwrap, out), ahead)
        return _grade_locked(submitted, out, work, problems, course, limits, jobs, progress, students,
                             regrade_all, db_wait_s, started, bwrap, similarity, Penalising(deadlines, late_policy),
                             ahead, early)
    finally:
        try:
            if early is not None:
                early.close()  # nothing to grade, or a failure before grading: it was not adopted
        finally:
            lock.release()


def context_settings(jobs: list[Job], limits: Limits, bwrap: str | None, out: Path) -> ContextSettings:
    """The grading context for ``jobs``: their source folders are hidden from kernels, their check
    modules collected by the check runners."""
    challenges = {job.challenge for job in jobs}  # a class of 300 hands in 3 challenges 300 times
    return ContextSettings(limits, bwrap, frozenset(c.source_root for c in challenges), out,
                           frozenset(f for c in challenges for f in c.check_files()))


def _grade_locked(submitted: Path, out: Path, work: list[Job], problems: list[SubmissionProblem],
                  course: dict[str, list[ChallengeNotebook]], limits: Limits, jobs: int | None,
                  progress: bool, students: tuple[str, ...], regrade_all: bool, db_wait_s: float,
                  started: float, bwrap: str | None, similarity: bool, penalising: Penalising,
                  ahead: HeadStart | None = None, early: EarlySandbox | None = None) -> BatchSummary:
    times = PhaseTimes()
    reading = time.perf_counter()
    settings = load_settings()
    store = ResultStore(out)
    fingerprints = Fingerprints(data_fingerprint(settings.data_dir), limits)
    prints = {job: fingerprints.job(job.challenge, job.path) for job in work}
    kept: dict[Job, NotebookOutcome] = {}
    todo: list[Job] = []
    for job in work:
        stored = store.load(job.student, job.challenge.assignment, job.challenge.notebook)
        selected = job.student in students if students else True
        if stored is not None and not regrade_all and (
                (not selected) or (not students and stored[0] == prints[job])):
            kept[job] = stored[1]
        elif selected:
            todo.append(job)
    times.add(RunPhase.READ_SUBMISSIONS, time.perf_counter() - reading)
    grading = any(job.path is not None for job in todo)
    with contextlib.ExitStack() as stack:
        # A notebook to grade: the outputs are written at the end. The gradebook's writer imports
        # nbgrader now, in a process of its own on the other core; the answers are ranked now (from
        # the files, whatever the grades), while the first kernel starts, rather than after grading.
        writer = GradebookWriterProcess.start() if grading else None
        if writer is not None:
            stack.callback(writer.close)
        ranked = None
        if grading and similarity:
            with contextlib.suppress(GraderFault):  # OUT unwritable: said where the outputs are written
                ranked = rank_similar(_answers(work), kept=out / KEPT_ANSWERS)  # kept with the outputs
        breaker = Breaker()
        references = References(ReferenceRecords(settings.home / "references"), fingerprints.challenge)
        grading_context_stack = stack.enter_context(contextlib.ExitStack())  # closed here if grading raises
        fresh, stuck = _grade_jobs(todo, out, store, prints, limits, jobs, progress, db_wait_s, breaker, bwrap,
                                   references, times, grading_context_stack, ahead, early)
        stack.callback(WindDown(grading_context_stack.pop_all()).join)
        outcomes = {**kept, **fresh}
        ordered = [outcomes[job] for job in work if job in outcomes]
        summary = BatchSummary(outcomes=ordered, problems=problems, seconds=0.0,
                               graded_now=sum(1 for o in fresh.values() if o.is_grade), kept=len(kept),
                               not_graded=[o for o in ordered if not o.is_grade], stuck=stuck,
                               retried=len(breaker.retried),
                               seconds_each=sorted(o.seconds for o in fresh.values() if o.is_grade and o.seconds),
                               phases=times)
        late = penalising.penalties(work, outcomes)
        summary.late = list(late.values())
        in_outputs = [(store.digest(outcomes[job]), f"{job.timestamp}|{penalising.digest(job, late)}") for job in work
                      if job in outcomes]
        dues = penalising.deadlines.duedates  # grades.csv shows every assignment's, submitted to or not
        notebooks = [f"{c.assignment}/{c.notebook}|{dues.get(c.assignment)}" for nbs in course.values() for c in nbs]
        digest = outputs_digest.outputs_digest(in_outputs, problems, notebooks, GRADER_REVISION,
                                               [f"{job.student}:{prints[job]}" for job in work] if similarity else None)
        try:
            with times.timed(RunPhase.WRITE_OUTPUTS):
                if outputs_digest.outputs_current(out, digest, ordered):  # nothing changed: already written
                    summary.rows = check_rows(ordered, problems, late)
                    summary.outputs_written = False
                else:
                    outputs_digest.forget(out)
                    summary.rows = _write_outputs(out, work, outcomes, problems, course, penalising.deadlines, late,
                                                  similarity, writer, ranked)
                    outputs_digest.remember(out, digest)
        except GraderFault as fault:  # out became unwritable, or the disk filled up, at the very end
            summary.not_graded = [not_graded(o.student, o.assignment, o.notebook, [], fault) for o in ordered]
        summary.seconds = time.monotonic() - started
        return summary


@dataclass(frozen=True)
class Penalising:
    """The run's due dates, extensions and late policy: applied to outcomes once they are known
    (stored or fresh), so none of them is part of what a notebook's grading is cached by."""

    deadlines: Deadlines
    policy: LatePolicy

    def penalties(self, work: list[Job], outcomes: dict[Job, NotebookOutcome]) -> dict[NotebookKey, LatePenalty]:
        return late_penalties(((self.deadlines.lateness(job.student, job.challenge.assignment, job.timestamp),
                                outcomes[job]) for job in work if job in outcomes), self.policy)

    def digest(self, job: Job, late: dict[NotebookKey, LatePenalty]) -> str:
        """What of the deadlines a notebook's outputs show: its due date, extension and penalty."""
        lateness = self.deadlines.lateness(job.student, job.challenge.assignment, job.timestamp)
        penalty = late.get((job.student, job.challenge.assignment, job.challenge.notebook))
        return f"{lateness.duedate}|{lateness.extension}|{penalty.points if penalty else 0.0}|{self.policy}"


@dataclass(frozen=True)
class References:
    """Where the run remembers references that passed, and each challenge's fingerprint."""

    records: ReferenceRecords
    fingerprint: Callable[[ChallengeNotebook], str]


def default_jobs() -> int:
    """Two notebooks per core. Much of a notebook's time is waiting (learners' sleeps and slow
    queries, time limits running out, the database), during which a second notebook uses the core:
    measured on 2 cores, the test corpus (254 notebooks) took 107 s with 2 jobs, 84 s with 3, 72 s
    with 4, and a class of plain answers (120 notebooks) took the same with 2, 3 or 4 jobs."""
    return 2 * (os.cpu_count() or 1)


def _grade_jobs(todo: list[Job], out: Path, store: ResultStore, prints: dict[Job, str], limits: Limits,
                jobs: int | None, progress: bool, db_wait_s: float, breaker: Breaker, bwrap: str | None,
                references: References, times: PhaseTimes, stack: contextlib.ExitStack,
                ahead: HeadStart | None = None, early: EarlySandbox | None = None
                ) -> tuple[dict[Job, NotebookOutcome], bool]:
    """Grade ``todo`` in parallel; store each outcome as soon as it is known. Returns (outcomes, stuck).
    The grading context (check runners, fork server, workspace) is left in ``stack``, for the caller
    to close.

    First the checks of every challenge in ``todo`` run on its reference solution (unless they
    passed before, unchanged): one that fails raises :class:`ChecksFailTheReference` before any
    learner's notebook is graded or anything is stored.
    """
    results: dict[Job, NotebookOutcome] = {}
    for job in todo:
        if job.path is None:
            results[job] = not_submitted(job.student, job.challenge.assignment, job.challenge.notebook,
                                         job.challenge.graded_items())
    gradable = [job for job in todo if job.path is not None]
    if not gradable:
        for job, outcome in list(results.items()):
            _keep(job, outcome, store, prints, breaker)
        return results, False
    unchecked = reference_check.to_check((job.challenge for job in gradable), references.records,
                                         references.fingerprint)
    bar = _progress(len(todo), progress)
    needed = context_settings(gradable, limits, bwrap, out)  # hidden tests are in its source folders
    adopted = None
    try:
        with times.timed(RunPhase.START_SANDBOX):
            adopted = early.adopt(needed) if early is not None else None
            if adopted is not None:
                context = adopted.context
                stack.enter_context(adopted.stack)
            else:
                context = stack.enter_context(grading_context(limits, bwrap, set(needed.sources), out,
                                                              sorted(needed.check_files), ahead))
    except GraderFault as fault:
        bar.close()
        results.update({job: _not_graded(job, fault) for job in gradable})
        return results, False
    except BaseException:
        bar.close()
        raise
    workers = max(1, jobs or default_jobs())
    if context.check_runners is not None:  # an adopted context started one already
        context.check_runners.start_ahead(min(workers, len(gradable)) - (1 if adopted is not None else 0))
    watch = ServerWatch(context.admin_url, db_wait_s)
    sandboxes: SandboxPool | None = None
    stuck = False
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pglab-grade")
    try:
        try:
            sandboxes = SandboxPool(context, min(workers, len(gradable)), expected=len(gradable) + len(unchecked),
                                    made=adopted.made if adopted is not None else None)
        except GraderFault as fault:  # no sandbox user could be had: nothing can be graded now
            results.update({job: _not_graded(job, fault) for job in gradable})
            return results, False

        def run(job: Job) -> NotebookOutcome:
            assert sandboxes is not None and job.path is not None
            return _attempt(job, job.path, context, sandboxes, breaker, watch)

        def reference(challenge: ChallengeNotebook) -> NotebookOutcome:
            return run(Job(reference_check.REFERENCE, challenge, challenge.source, None))

        # The slowest a notebook can honestly take: waiting for its sandbox, its own budget, the
        # back-off between attempts, and the database's patience; beyond that the grader is stuck.
        stall_s = (ATTEMPTS * (limits.submission_timeout_s + 200.0) + sum(BACKOFF_S) + db_wait_s)
        if unchecked:
            bar.set_postfix_str(f"checking the checks on {len(unchecked)} reference solution(s)")
            try:
                with times.timed(RunPhase.REFERENCES):
                    reference_check.check_references(unchecked, reference, pool, stall_s, references.records,
                                                     references.fingerprint)
            except GraderFault as fault:
                stuck = fault.kind is FaultKind.STUCK
                results.update({job: _not_graded(job, fault) for job in gradable})
                return results, stuck
        for job, outcome in list(results.items()):  # not submitted: a grade, now that the checks are sound
            _keep(job, outcome, store, prints, breaker)
        bar.update(len(todo) - len(gradable))
        grading = time.perf_counter()
        pending: dict[Future[NotebookOutcome], Job] = {pool.submit(run, job): job for job in gradable}
        while pending:
            done, _ = wait(pending, timeout=stall_s, return_when=FIRST_COMPLETED)
            if not done:
                stuck = True
                stalled = GraderFault(FaultKind.STUCK, f"no notebook finished within {stall_s:.0f} s")
                for job in pending.values():
                    results[job] = _not_graded(job, stalled)
                break
            for future in done:
                job = pending.pop(future)
                outcome = future.result()
                results[job] = _keep(job, outcome, store, prints, breaker)
                bar.update(1)
                state = f"{outcome.score:g}/{outcome.max_points:g}" if outcome.is_grade else "not graded"
                bar.set_postfix_str(f"{job.student}/{job.challenge.notebook}: {state}")
        times.add(RunPhase.GRADING, time.perf_counter() - grading)
    finally:
        bar.close()
        pool.shutdown(wait=not stuck, cancel_futures=True)
        if sandboxes is not None and not stuck:
            sandboxes.close()
    return results, stuck


class WindDown:
    """A grading context's teardown on a thread of its own, started when the last notebook is graded:
    the check runners and the fork server winding down (0.1 s of waiting for processes to exit) and
    the workspace removed while the outputs are written; joined before the run returns."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self._stack = stack
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._close, name="pglab-wind-down")
        self._thread.start()

    def _close(self) -> None:
        try:
            self._stack.close()
        except BaseException as err:  # raised where the run joins it
            self._error = err

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _attempt(job: Job, path: Path, context: GradingContext, sandboxes: SandboxPool, breaker: Breaker,
             watch: ServerWatch) -> NotebookOutcome:
    """Grade one notebook, retrying grader faults that may pass (bounded, with back-off)."""
    last: GraderFault | None = None
    for attempt in range(ATTEMPTS):
        if breaker.fault is not None:
            return _not_graded(job, breaker.fault)
        try:
            return grade_notebook(job.student, job.challenge, path, context, sandboxes)
        except GraderFault as fault:
            last = fault
        except Exception as err:  # a bug of ours: never the learner's grade, and no retry
            return _not_graded(job, GraderFault(FaultKind.INTERNAL, f"{type(err).__name__}: {err}"))
        if not last.kind.retryable:
            breaker.trip(last)
            break
        if last.kind is FaultKind.DATABASE and not watch.wait_until_up():
            breaker.trip(GraderFault(FaultKind.DATABASE, f"no answer for {watch.patience_s:.0f} s ({last.detail})"))
            break
        if attempt < ATTEMPTS - 1:
            breaker.retried.add((job.student, job.challenge.assignment, job.challenge.notebook))
            time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    else:
        assert last is not None
        breaker.trip(last)  # it kept failing: the next notebooks would too
    assert last is not None
    return _not_graded(job, breaker.fault or last)


def _not_graded(job: Job, fault: GraderFault) -> NotebookOutcome:
    return not_graded(job.student, job.challenge.assignment, job.challenge.notebook, job.challenge.graded_items(),
                      fault)


def _keep(job: Job, outcome: NotebookOutcome, store: ResultStore, prints: dict[Job, str],
          breaker: Breaker) -> NotebookOutcome:
    """Store a grade the moment it is known (a killed run loses nothing graded); a grade that
    cannot be stored is not a grade."""
    if not outcome.is_grade:
        return outcome
    try:
        store.save(prints[job], outcome)
    except GraderFault as fault:
        breaker.trip(fault)
        return _not_graded(job, fault)
    return outcome


def _write_outputs(out: Path, work: list[Job], outcomes: dict[Job, NotebookOutcome],
                   problems: list[SubmissionProblem], course: dict[str, list[ChallengeNotebook]],
                   deadlines: Deadlines, late: dict[NotebookKey, LatePenalty], similarity: bool = True,
                   gradebook_writer: GradebookWriterProcess | None = None,
                   ranked: ClassRanking | None = None) -> list[CheckRow]:
    """Feedback pages, the gradebook, grades.csv and checks.csv for every notebook in the outputs
    (with the due dates, extensions and late penalties), then report.html (with its similar answers,
    unless ``similarity`` is False); the rows of checks.csv. The gradebook is written by
    ``gradebook_writer`` when there is one (and it answers); ``ranked``: the similar answers, when
    the run ranked them already."""
    by_submission: dict[tuple[str, str], list[Job]] = defaultdict(list)
    for job in work:
        if job in outcomes:
            by_submission[(job.student, job.challenge.assignment)].append(job)
    ungraded: set[tuple[str, str]] = set()
    for job, outcome in outcomes.items():
        if outcome.is_grade:
            feedback.write(outcome, out / "feedback", late.get((outcome.student, outcome.assignment, outcome.notebook)))
            if outcome.autograded:  # where nbgrader's formgrader opens it, with OUT as the course root
                where = out / "autograded" / outcome.student / outcome.assignment
                write_if_changed(where / f"{outcome.notebook}.ipynb", outcome.autograded.encode("utf-8"))
        else:
            feedback.page_path(outcome, out / "feedback").unlink(missing_ok=True)  # a stale page
            ungraded.add((job.student, job.challenge.assignment))
    submissions = []
    for (student, assignment), members in sorted(by_submission.items()):
        graded = [outcomes[job] for job in members]
        penalties = {o.notebook: late[(student, assignment, o.notebook)].points for o in graded
                     if (student, assignment, o.notebook) in late}
        submissions.append(SubmissionRecord(student, assignment, members[0].timestamp, tuple(graded),
                                            deadlines.extensions.get((student, assignment)), penalties,
                                            graded=(student, assignment) not in ungraded))
    export = record_submissions(out / "gradebook.db", course, deadlines.duedates, submissions, gradebook_writer)
    rows = check_rows([outcomes[job] for job in work if job in outcomes], problems, late)
    write_atomically(out / "checks.csv", checks_csv(rows))
    grades_text = grades_csv(export, ungraded)
    write_atomically(out / "grades.csv", grades_text.encode("utf-8"))
    grades = grade_rows(grades_text)
    similar = None
    if similarity:
        if ranked is None:
            ranked = rank_similar(_answers(work), kept=out / KEPT_ANSWERS)
        ranked.keep()
        similar = ranked.challenges
    write_class_report(out, grades, rows, similar, list(late.values()), out / PLOTS)
    return rows


def _answers(work: list[Job]) -> list[tuple[str, ChallengeNotebook, Path]]:
    """Every submitted notebook, for :func:`~pglab.grading.reports.similarity.class_similarity`."""
    return [(job.student, job.challenge, job.path) for job in work if job.path is not None]


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="grading", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True)
