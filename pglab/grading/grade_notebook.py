"""Grade one submitted notebook: fresh database, sandboxed kernel, learner cells, then the checks.

Whatever happens inside (invalid JSON, an endless loop, a dead kernel, a dropped table) ends as a
:class:`NotebookOutcome` with points and reasons; only a fault of the grader's own set-up (the
database server is gone) escapes as an exception, and the batch reports that too.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import queue
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pglab.grading.checks import CheckResult, run_check
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.database_copies import (
    SubmissionDatabase,
    create_submission_database,
    drop_submission_database,
)
from pglab.grading.kernel_forkserver import ForkServer
from pglab.grading.kernel_session import KernelSession, Limits, SandboxError
from pglab.grading.learner import KernelSubmission
from pglab.grading.notebook_cells import UnreadableNotebook, plan_execution, read_submission
from pglab.server import open_parents


@dataclass
class CellLog:
    label: str
    status: str
    output: str
    error: str = ""


@dataclass
class NotebookOutcome:
    student: str
    assignment: str
    notebook: str
    max_points: float
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cells: list[CellLog] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)


@dataclass(frozen=True)
class GradingContext:
    admin_url: str
    workspace: Path
    limits: Limits
    forkserver: ForkServer
    hidden_paths: tuple[Path, ...] = ()


USER_LOCKS = Path(tempfile.gettempdir()) / "pglab-grading-users"


class UserLease:
    """An unprivileged user held exclusively by this process (an flock), so that two grading runs
    on one machine never share a user: cleaning up after one kills every process of its user."""

    def __init__(self) -> None:
        self.name = ""
        self._lock: int | None = None
        if os.geteuid() != 0:
            return
        USER_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for index in range(1000):
            fd = os.open(USER_LOCKS / f"{index}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._lock = fd
            self.name = f"pglab-grade{index}"
            break
        else:
            raise OSError("no free grading user: 1000 are in use")
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name],
                           check=True, capture_output=True)

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def kernel_environment(database_url: str, workdir: Path) -> dict[str, str]:
    """A minimal environment: no instructor secrets, nothing but what the course needs."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "DATABASE_URL": database_url,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "PGLAB_GRADING": "1",
    }


@dataclass
class Sandbox:
    """A started kernel in an empty private folder, and a fresh database, waiting for a notebook."""

    workdir: Path
    user: str
    database: SubmissionDatabase
    session: KernelSession


def prepare_sandbox(context: GradingContext, user: str) -> Sandbox:
    workdir = context.workspace / f"sandbox-{secrets.token_hex(4)}"
    workdir.mkdir(mode=0o700, parents=True)
    if user:
        entry = pwd.getpwnam(user)
        open_parents(workdir)
        open_parents(Path(os.path.realpath(sys.executable)))  # e.g. a pyenv Python under /root
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
    database = create_submission_database(context.admin_url, secrets.token_hex(2))
    session = KernelSession(workdir=workdir, env=kernel_environment(database.url, workdir),
                            limits=context.limits, forkserver=context.forkserver, user=user,
                            hidden_paths=context.hidden_paths)
    try:
        session.start()
    except BaseException:
        drop_submission_database(context.admin_url, database.name)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return Sandbox(workdir=workdir, user=user, database=database, session=session)


def dispose_sandbox(context: GradingContext, sandbox: Sandbox) -> None:
    sandbox.session.shutdown()
    drop_submission_database(context.admin_url, sandbox.database.name)
    shutil.rmtree(sandbox.workdir, ignore_errors=True)


class SandboxPool:
    """Sandboxes made ahead of need, so a kernel boots while another notebook is being graded.

    Each sandbox has a user of its own from a fixed set (twice the workers: one grading, one
    warming up per worker), returned only after everything that user ran has been killed.
    """

    def __init__(self, context: GradingContext, workers: int) -> None:
        self.context = context
        self.leases = [UserLease() for _ in range(workers * 2)]
        self.users: queue.Queue[str] = queue.Queue()
        for lease in self.leases:
            self.users.put(lease.name)
        self.ready: queue.Queue[Sandbox | BaseException] = queue.Queue()
        self.preparer = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pglab-sandbox")
        self.closed = False
        for _ in range(workers):
            self.preparer.submit(self._prepare)

    def _prepare(self) -> None:
        user = self.users.get()
        try:
            self.ready.put(prepare_sandbox(self.context, user))
        except BaseException as err:
            self.users.put(user)
            self.ready.put(err)

    def take(self) -> Sandbox:
        item = self.ready.get()
        if not self.closed:
            self.preparer.submit(self._prepare)
        if isinstance(item, BaseException):
            raise item
        return item

    def give_back(self, sandbox: Sandbox) -> None:
        dispose_sandbox(self.context, sandbox)
        self.users.put(sandbox.user)

    def close(self) -> None:
        self.closed = True
        self.preparer.shutdown(wait=True)
        while not self.ready.empty():
            item = self.ready.get()
            if isinstance(item, Sandbox):
                dispose_sandbox(self.context, item)
        for lease in self.leases:
            lease.release()


def _zero(challenge: ChallengeNotebook, student: str, reason: str) -> NotebookOutcome:
    outcome = NotebookOutcome(student, challenge.assignment, challenge.notebook, challenge.max_points())
    outcome.notes.append(reason)
    outcome.results = [
        CheckResult(name=c.name, description=c.description, points=0.0, max_points=c.points,
                    hidden=c.hidden, message=f"not graded: {reason}")
        for c in challenge.checks()
    ]
    return outcome


def grade_notebook(student: str, challenge: ChallengeNotebook, submitted: Path,
                   context: GradingContext, sandboxes: SandboxPool) -> NotebookOutcome:
    started = time.monotonic()
    try:
        data = read_submission(submitted)
    except UnreadableNotebook as err:
        outcome = _zero(challenge, student, str(err))
        outcome.seconds = time.monotonic() - started
        return outcome
    plan = plan_execution(challenge.source, data)
    outcome = NotebookOutcome(student, challenge.assignment, challenge.notebook, challenge.max_points())
    outcome.notes.extend(plan.notes)
    sandbox = sandboxes.take()
    started = time.monotonic()  # the budget starts when this notebook's kernel is handed over
    try:
        copy = sandbox.workdir / submitted.name
        shutil.copyfile(submitted, copy)
        if sandbox.user:
            entry = pwd.getpwnam(sandbox.user)
            os.chown(copy, entry.pw_uid, entry.pw_gid)
        run_learner_cells(sandbox.session, plan.code_cells, context.limits, outcome, started)
        run_checks(sandbox, challenge, context.limits, outcome, started)
    except SandboxError as err:
        outcome.notes.append(str(err))
        done = {r.name for r in outcome.results}
        outcome.results.extend(
            CheckResult(c.name, c.description, 0.0, c.points, c.hidden, f"not run: {err}")
            for c in challenge.checks() if c.name not in done)
    finally:
        sandboxes.give_back(sandbox)
    outcome.seconds = time.monotonic() - started
    return outcome


def run_learner_cells(session: KernelSession, cells: list[tuple[str, str]], limits: Limits,
                      outcome: NotebookOutcome, started: float) -> None:
    deadline = started + limits.submission_timeout_s
    for label, code in cells:
        if time.monotonic() > deadline:
            outcome.notes.append(
                f"stopped before {label}: the notebook used up its {limits.submission_timeout_s:.0f} s")
            return
        run = session.run_cell(code)
        outcome.cells.append(CellLog(label, run.status, run.output, run.error))
        if run.status == "timeout":
            outcome.notes.append(f"{label} ran longer than {limits.cell_timeout_s:.0f} s and was interrupted")
        elif run.status == "died":
            outcome.notes.append(f"{label}: {run.error}")
            return
        elif run.status == "error":
            outcome.notes.append(f"{label} raised {run.error}")
        if run.truncated:
            outcome.notes.append(f"{label} printed more than {limits.output_chars} characters: cut")


def run_checks(sandbox: Sandbox, challenge: ChallengeNotebook, limits: Limits, outcome: NotebookOutcome,
               started: float) -> None:
    deadline = started + limits.submission_timeout_s
    sub = KernelSubmission(sandbox.session, sandbox.database.url)
    for item in challenge.checks():
        reason = ""
        if time.monotonic() > deadline:
            reason = f"not run: the notebook used up its {limits.submission_timeout_s:.0f} s"
        elif not sandbox.session.alive:
            reason = f"not run: {sandbox.session.death_reason or 'the kernel is not running'}"
        if reason:
            outcome.results.append(CheckResult(item.name, item.description, 0.0, item.points, item.hidden, reason))
            continue
        result = run_check(item, sub)
        if result.message.startswith("the check could not run (SandboxError"):
            result = CheckResult(result.name, result.description, 0.0, result.max_points,
                                 result.hidden, result.message.split(": ", 1)[1].rstrip(")"))
        outcome.results.append(result)
    sub.close()
