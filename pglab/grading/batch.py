"""``pglab grade``: a folder of submissions in, grades, per-check results and feedback out.

Notebooks are graded in parallel (one sandboxed kernel and one fresh database each); results are
gathered on the main thread, which alone writes the gradebook and the CSV files. A submission that
cannot be graded gets zero with its reason; the batch always finishes.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pglab.errors import PglabError
from pglab.grading import feedback
from pglab.grading.checks import CheckResult
from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.grading.database_copies import drop_leftovers, ensure_template
from pglab.grading.grade_notebook import GradingContext, NotebookOutcome, SandboxPool, grade_notebook
from pglab.grading.gradebook import GradebookWriter
from pglab.grading.kernel_forkserver import ForkServer
from pglab.grading.kernel_session import Limits
from pglab.settings import PROJECT_ROOT, load_settings

CHECKS_COLUMNS = ("student_id", "assignment", "notebook", "check", "points", "max_points", "message")


@dataclass(frozen=True)
class Job:
    student: str
    challenge: ChallengeNotebook
    path: Path | None
    timestamp: datetime | None


@dataclass
class BatchSummary:
    outcomes: list[NotebookOutcome]
    problems: list[dict[str, str]]
    seconds: float


def admin_url() -> str:
    """A URL allowed to create databases and roles: the embedded server's, or PGLAB_ADMIN_URL."""
    explicit = os.environ.get("PGLAB_ADMIN_URL")
    if explicit:
        return explicit
    settings = load_settings()
    if settings.external:
        raise PglabError(
            f"{settings.describe_external()} is set, but grading needs to create a database per "
            "submission: set PGLAB_ADMIN_URL to a superuser URL on that server, or unset it to grade "
            "on the embedded server")
    from pglab.provision import embedded_server

    return embedded_server(settings).start().admin_url()


def _timestamp(folder: Path) -> datetime | None:
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        text = stamp.read_text(errors="replace").strip().replace(" UTC", "+00:00")
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def discover(submitted: Path, course: dict[str, list[ChallengeNotebook]]
             ) -> tuple[list[Job], list[dict[str, str]]]:
    jobs: list[Job] = []
    problems: list[dict[str, str]] = []

    def problem(student: str, assignment: str, notebook: str, message: str) -> None:
        problems.append({"student_id": student, "assignment": assignment, "notebook": notebook,
                         "check": "(submission)", "points": "0", "max_points": "0", "message": message})

    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if folder.name not in course:
                for stem in sorted(p.stem for p in folder.glob("*.ipynb")) or [""]:
                    problem(student_dir.name, folder.name, stem,
                            f"there is no assignment '{folder.name}' in this course "
                            f"(known: {', '.join(course)}): not graded")
                continue
            files = {p.stem: p for p in folder.glob("*.ipynb")}
            expected = {c.notebook: c for c in course[folder.name]}
            for name, challenge in expected.items():
                jobs.append(Job(student_dir.name, challenge, files.get(name), _timestamp(folder)))
            for extra in sorted(set(files) - set(expected)):
                problem(student_dir.name, folder.name, extra,
                        f"{extra}.ipynb is not a notebook of assignment '{folder.name}' "
                        f"(expected: {', '.join(f'{n}.ipynb' for n in expected)}): not graded")
    return jobs, problems


def _missing(job: Job) -> NotebookOutcome:
    outcome = NotebookOutcome(job.student, job.challenge.assignment, job.challenge.notebook,
                              job.challenge.max_points())
    outcome.notes.append(f"{job.challenge.notebook}.ipynb was not submitted")
    outcome.results = [CheckResult(c.name, c.description, 0.0, c.points, c.hidden, "not submitted")
                       for c in job.challenge.checks()]
    return outcome


def _grader_fault(job: Job, err: BaseException) -> NotebookOutcome:
    outcome = _missing(job)
    reason = f"the grader failed on this notebook ({type(err).__name__}: {err}); grade it again"
    outcome.notes = [reason]
    outcome.results = [CheckResult(r.name, r.description, 0.0, r.max_points, r.hidden, reason)
                       for r in outcome.results]
    return outcome


def grade_folder(submitted: Path, out: Path, jobs: int | None = None,
                 limits: Limits | None = None, progress: bool = True) -> BatchSummary:
    started = time.monotonic()
    if not submitted.is_dir():
        raise PglabError(f"{submitted} is not a folder of submissions (<student>/<assignment>/*.ipynb)")
    course = assignments()
    work, problems = discover(submitted, course)
    url = admin_url()
    settings = load_settings()
    ensure_template(url, settings.data_dir)
    drop_leftovers(url)
    out.mkdir(parents=True, exist_ok=True)
    gradebook = GradebookWriter(out / "gradebook.db")
    gradebook.register(course)
    workspace = Path(tempfile.mkdtemp(prefix="pglab-grading-"))
    workspace.chmod(0o711)
    hidden = tuple(p for p in (PROJECT_ROOT / "solutions", PROJECT_ROOT / "grader", PROJECT_ROOT / ".git",
                               PROJECT_ROOT / "tests", settings.home, out.resolve(), submitted.resolve())
                   if p.is_dir())
    forkserver = ForkServer()
    context = GradingContext(admin_url=url, workspace=workspace, limits=limits or Limits(),
                             forkserver=forkserver, hidden_paths=hidden)
    workers = max(1, jobs or os.cpu_count() or 1)
    needs_kernel = sum(1 for job in work if job.path is not None)
    sandboxes = SandboxPool(context, min(workers, max(needs_kernel, 1))) if needs_kernel else None

    def run(job: Job) -> NotebookOutcome:
        if job.path is None or sandboxes is None:
            return _missing(job)
        return grade_notebook(job.student, job.challenge, job.path, context, sandboxes)

    outcomes: list[NotebookOutcome] = []
    pending: dict[tuple[str, str], int] = defaultdict(int)
    for job in work:
        pending[(job.student, job.challenge.assignment)] += 1
    by_submission: dict[tuple[str, str], list[NotebookOutcome]] = defaultdict(list)
    timestamps = {(j.student, j.challenge.assignment): j.timestamp for j in work}
    bar = _progress(len(work), progress)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run, job): job for job in work}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    outcome = future.result()
                except Exception as err:  # a grader fault on one notebook must not stop the batch
                    outcome = _grader_fault(job, err)
                outcomes.append(outcome)
                key = (job.student, job.challenge.assignment)
                by_submission[key].append(outcome)
                feedback.write(outcome, out / "feedback")
                if len(by_submission[key]) == pending[key]:
                    gradebook.record(job.student, key[1], timestamps[key] or datetime.now(timezone.utc),
                                     by_submission[key])
                bar.update(1)
                bar.set_postfix_str(f"{job.student}/{job.challenge.notebook}: "
                                    f"{outcome.score:g}/{outcome.max_points:g}")
    finally:
        bar.close()
        if sandboxes is not None:
            sandboxes.close()
        forkserver.close()
        shutil.rmtree(workspace, ignore_errors=True)
    _write_checks_csv(out / "checks.csv", outcomes, problems)
    gradebook.export_csv(out / "grades.csv")
    gradebook.close()
    return BatchSummary(outcomes=outcomes, problems=problems, seconds=time.monotonic() - started)


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="notebook", desc="grading", disable=not enabled, file=sys.stderr,
                dynamic_ncols=True)


def _write_checks_csv(path: Path, outcomes: list[NotebookOutcome], problems: list[dict[str, str]]) -> None:
    rows = list(problems)
    for outcome in sorted(outcomes, key=lambda o: (o.student, o.assignment, o.notebook)):
        base = {"student_id": outcome.student, "assignment": outcome.assignment, "notebook": outcome.notebook}
        if outcome.notes:
            rows.append({**base, "check": "(notebook)", "points": "0", "max_points": "0",
                         "message": "; ".join(outcome.notes)})
        for result in outcome.results:
            rows.append({**base, "check": result.name, "points": f"{result.points:g}",
                         "max_points": f"{result.max_points:g}", "message": result.message})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CHECKS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
