"""``pglab release-feedback``: the feedback pages of ``pglab grade`` out through nbgrader's own exchange.

nbgrader's ``release_feedback`` (``nbgrader/exchange/default/release_feedback.py``) takes every
``<course root>/<feedback_directory>/<student>/<assignment>/<notebook>.html`` and reads two files
beside it, ``timestamp.txt`` and ``submission_secret.txt``: the ones ``nbgrader submit`` wrote into
the learner's submission (and into the learner's own cache) and ``nbgrader collect`` copied into
``submitted/``. It puts the page into ``<exchange>/<course>/feedback/<md5(secret + notebook)>.html``,
a folder nobody but the instructor may list, so only a learner holding that submission's secret,
in their cache, can name the file: ``fetch_feedback`` computes the same hash for each submission
in the learner's cache and copies what it finds to ``<assignment>/feedback/<timestamp>/``.

``pglab grade --out OUT`` already writes the pages as ``OUT/feedback/<student>/<assignment>/``, so
OUT is the course root nbgrader is pointed at. This module chooses whose pages may go out and
puts the submission's two files beside them; nbgrader's own app then releases them. A page goes out
only when the gradebook shows it was graded from the submission now in ``submitted/`` (a learner
who submitted again after grading would otherwise get old feedback filed under their new
submission); a submission without a secret (not handed in through the exchange) cannot be fetched.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.utils import notebook_hash
from sqlalchemy.exc import SAWarning

from pglab.errors import PglabError, one_line
from pglab.grading.deadlines import read_timestamp
from pglab.grading.result_store import write_atomically

FEEDBACK = "feedback"  # pglab grade's OUT/feedback/, nbgrader's feedback_directory relative to OUT
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")  # what nbgrader's release_feedback reads


@dataclass(frozen=True)
class Ready:
    """One learner's pages for the assignment, and the submission they were graded from."""

    student: str
    pages: tuple[Path, ...]
    submission: Path  # submitted/<student>/<assignment>/
    secret: str

    def exchange_names(self) -> dict[str, str]:
        """Notebook -> the file name nbgrader's exchange gives its page (what fetch_feedback looks for)."""
        return {page.stem: f"{notebook_hash(secret=self.secret, notebook_id=page.stem)}.html" for page in self.pages}


@dataclass(frozen=True)
class Held:
    """A learner whose pages stay where they are, and why (one line)."""

    student: str
    reason: str


def graded_timestamps(gradebook: Path, assignment: str) -> dict[str, datetime | None]:
    """Student -> the timestamp of the submission the gradebook holds grades for (naive UTC)."""
    if not gradebook.is_file():
        raise PglabError(f"{gradebook} does not exist: run `pglab grade` first, with this --out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(f"sqlite:///{gradebook}") as gb:
            try:
                submissions = gb.find_assignment(assignment).submissions
            except Exception:  # nbgrader's MissingEntry: nothing of this assignment was graded
                return {}
            return {s.student.id: s.timestamp for s in submissions}


def submission_timestamp(folder: Path) -> datetime | None:
    """The submission's ``timestamp.txt`` as ``pglab grade`` read it (naive UTC); None without a readable
    one: such a submission was never graded from, so its pages are held back rather than refused."""
    try:
        return read_timestamp(folder)
    except PglabError:
        return None


def choose(assignment: str, out: Path, submitted: Path, graded: Mapping[str, datetime | None],
           students: tuple[str, ...] = ()) -> tuple[list[Ready], list[Held]]:
    """Whose feedback pages may be released: those graded from the submission now in ``submitted``."""
    root = out / FEEDBACK
    folders = sorted(p for p in root.glob(f"*/{assignment}") if p.is_dir()) if root.is_dir() else []
    by_student = {folder.parent.name: folder for folder in folders}
    unknown = [s for s in students if s not in by_student]
    if unknown:
        raise PglabError(f"no feedback page for {', '.join(unknown)} on {assignment} in {root}: "
                         "grade them first (`pglab grade ... --student NAME`)")
    ready: list[Ready] = []
    held: list[Held] = []
    for student, folder in by_student.items():
        if students and student not in students:
            continue
        pages = tuple(sorted(folder.glob("*.html")))
        submission = submitted / student / assignment
        secret_file = submission / "submission_secret.txt"
        if not pages:
            held.append(Held(student, "no feedback page (not graded this time)"))
        elif not submission.is_dir():
            held.append(Held(student, f"no submission in {submission}"))
        elif not secret_file.is_file() or not secret_file.read_text(errors="replace").strip():
            held.append(Held(student, f"{secret_file} is missing: this submission did not come through "
                                      "the exchange (`nbgrader submit`, then `nbgrader collect`), so it "
                                      "cannot be fetched"))
        elif student not in graded or graded[student] != submission_timestamp(submission):
            held.append(Held(student, f"the submission in {submission} is not the one graded: "
                                      "run `pglab grade` again first"))
        else:
            ready.append(Ready(student, pages, submission, secret_file.read_text(errors="replace")))
    return ready, held


def stage(ready: list[Ready], held: list[Held], assignment: str, out: Path) -> None:
    """Put each submission's ``timestamp.txt`` and ``submission_secret.txt`` beside its pages, as
    ``nbgrader generate_feedback`` does; take them away from held learners' pages, so that not even
    nbgrader's own ``release_feedback`` run on OUT releases a page under the wrong submission.

    nbgrader copies a page into the exchange with its mode, and the learner reads it there: a page an
    instructor's umask (077) left unreadable to others would be released but could not be fetched, so
    the pages to release are made readable (they are the learners' own feedback)."""
    for item in ready:
        for page in item.pages:
            page.chmod(stat.S_IMODE(page.stat().st_mode) | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        for name in SUBMISSION_FILES:
            write_atomically(out / FEEDBACK / item.student / assignment / name,
                             (item.submission / name).read_bytes())
    for kept in held:
        for name in SUBMISSION_FILES:
            (out / FEEDBACK / kept.student / assignment / name).unlink(missing_ok=True)


def release_command(assignment: str, out: Path, exclude: list[str]) -> list[str]:
    """``nbgrader release_feedback`` on OUT as the course root (the course's config still gives the
    course id and the exchange), skipping the held learners."""
    command = [sys.executable, "-m", "nbgrader", "release_feedback", assignment,
               f"--CourseDirectory.root={out.resolve()}", f"--CourseDirectory.feedback_directory={FEEDBACK}"]
    if exclude:
        command.append(f"--CourseDirectory.student_id_exclude={','.join(exclude)}")
    return command


def nbgrader_failure(log: str) -> str:
    """The line of nbgrader's log that says why it failed (its first CRITICAL or ERROR), without the prefix."""
    for level in ("CRITICAL", "ERROR"):
        for line in log.splitlines():
            found = re.match(rf"\[\w+ \| {level}\] (.*)", line)
            if found:
                return one_line(found.group(1))
    return one_line(log[-300:]) or "no output"


def release_feedback(assignment: str, out: Path, submitted: Path, course_dir: Path,
                     students: tuple[str, ...] = ()) -> tuple[list[Ready], list[Held]]:
    """Choose, stage, and release through nbgrader's exchange (run from ``course_dir``, where the
    course's ``nbgrader_config.py`` is). Returns who was released and who was held back."""
    if not course_dir.is_dir():
        raise PglabError(f"{course_dir} is not a folder: give --course-dir, the folder you run nbgrader in")
    if not submitted.is_dir():
        raise PglabError(f"{submitted} is not a folder: give --submitted, where `nbgrader collect` put the "
                         "submissions you graded")
    ready, held = choose(assignment, out, submitted, graded_timestamps(out / "gradebook.db", assignment), students)
    stage(ready, held, assignment, out)
    if not ready:
        return ready, held
    everyone = {p.parent.name for p in (out / FEEDBACK).glob(f"*/{assignment}")}
    exclude = sorted(everyone - {item.student for item in ready})
    done = subprocess.run(release_command(assignment, out, exclude), cwd=course_dir, capture_output=True,
                          text=True, env=dict(os.environ), timeout=600)
    if done.returncode != 0:
        raise PglabError(f"nbgrader release_feedback failed: {nbgrader_failure(done.stderr)}")
    return ready, held
