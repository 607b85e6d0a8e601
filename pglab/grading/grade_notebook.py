"""Grade one submitted notebook: fresh database, sandboxed kernel, learner cells, then the checks.

Whatever happens inside (invalid JSON, an endless loop, a dead kernel, a dropped table) ends as a
:class:`NotebookOutcome` with points and reasons; only a fault of the grader's own set-up (the
database server is gone) escapes as an exception, and the batch reports that too.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pglab.grading.checks import CheckResult, run_check
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.database_copies import create_submission_database, drop_submission_database
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
    hidden_paths: tuple[Path, ...] = ()


def slot_user(slot: int) -> str:
    """As root, each parallel worker's kernels run as their own unprivileged user."""
    if os.geteuid() != 0:
        return ""
    name = f"pglab-grade{slot}"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    return name


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
                   context: GradingContext, slot: int = 0) -> NotebookOutcome:
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
    user = slot_user(slot)
    workdir = context.workspace / f"{challenge.notebook}-{secrets.token_hex(4)}"
    workdir.mkdir(mode=0o700, parents=True)
    shutil.copyfile(submitted, workdir / submitted.name)
    if user:
        entry = pwd.getpwnam(user)
        open_parents(workdir)
        open_parents(Path(os.path.realpath(sys.executable)))  # e.g. a pyenv Python under /root
        for path in (workdir, workdir / submitted.name):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    database = create_submission_database(context.admin_url, f"{slot}")
    session = KernelSession(workdir=workdir, env=kernel_environment(database.url, workdir),
                            limits=context.limits, user=user,
                            hidden_paths=context.hidden_paths)
    try:
        session.start()
        deadline = started + context.limits.submission_timeout_s
        for label, code in plan.code_cells:
            if time.monotonic() > deadline:
                outcome.notes.append(
                    f"stopped before {label}: the notebook used up its {context.limits.submission_timeout_s:.0f} s")
                break
            run = session.run_cell(code)
            outcome.cells.append(CellLog(label, run.status, run.output, run.error))
            if run.status == "timeout":
                outcome.notes.append(
                    f"{label} ran longer than {context.limits.cell_timeout_s:.0f} s and was interrupted")
            elif run.status == "died":
                outcome.notes.append(f"{label}: {run.error}")
                break
            elif run.status == "error":
                outcome.notes.append(f"{label} raised {run.error}")
            if run.truncated:
                outcome.notes.append(f"{label} printed more than {context.limits.output_chars} characters: cut")
        sub = KernelSubmission(session, database.url)
        for item in challenge.checks():
            if time.monotonic() > deadline:
                outcome.results.append(CheckResult(
                    item.name, item.description, 0.0, item.points, item.hidden,
                    f"not run: the notebook used up its {context.limits.submission_timeout_s:.0f} s"))
                continue
            if not session.alive:
                reason = session.death_reason or "the kernel is not running"
                outcome.results.append(CheckResult(item.name, item.description, 0.0, item.points,
                                                   item.hidden, f"not run: {reason}"))
                continue
            result = run_check(item, sub)
            if result.message.startswith("the check could not run (SandboxError"):
                result = CheckResult(result.name, result.description, 0.0, result.max_points,
                                     result.hidden, result.message.split(": ", 1)[1].rstrip(")"))
            outcome.results.append(result)
    except SandboxError as err:
        outcome.notes.append(str(err))
        done = {r.name for r in outcome.results}
        outcome.results.extend(
            CheckResult(c.name, c.description, 0.0, c.points, c.hidden, f"not run: {err}")
            for c in challenge.checks() if c.name not in done)
    finally:
        session.shutdown()
        drop_submission_database(context.admin_url, database.name)
        shutil.rmtree(workdir, ignore_errors=True)
    outcome.seconds = time.monotonic() - started
    return outcome
