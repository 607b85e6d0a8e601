"""The course's own nbgrader gradebook: where due dates and extensions live, as nbgrader keeps them.

An instructor sets a due date the nbgrader way (``nbgrader db assignment add core --duedate=...``
in ``grader/``, or formgrader), and ``pglab extend`` grants an extension the way nbgrader's
``Gradebook.grant_extension`` does, into the same file, so nbgrader's own commands and
``pglab grade`` read the same deadlines. This is the course's gradebook (``grader/gradebook.db``,
or for ``--source`` the one the course's ``nbgrader_config.py`` names, by default
``gradebook.db`` in the course root), not the one ``pglab grade`` writes into ``--out``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning

from pglab.errors import PglabError, one_line
from pglab.grading.course_layout import COURSE_GRADEBOOK
from pglab.grading.deadlines import Deadlines
from pglab.grading.nbgrader_config import CourseConfig
from pglab.grading.reports.gradebook import stamp_new_gradebook

SQLITE = "sqlite:///"


def course_gradebook_url(source: Path | None, config: CourseConfig) -> str:
    """The course's gradebook, as nbgrader run in its course root would open it."""
    if source is None:
        return f"{SQLITE}{COURSE_GRADEBOOK}"
    settings = config.config.get("CourseDirectory", {})
    if "db_url" in settings or "root" in settings:
        return str(config.preprocessor(CourseDirectory).db_url)
    return f"{SQLITE}{source.resolve().parent / 'gradebook.db'}"


def _sqlite_path(url: str) -> Path | None:
    return Path(url[len(SQLITE):]) if url.startswith(SQLITE) else None


def _open(url: str) -> Gradebook:
    try:
        return Gradebook(url)
    except Exception as err:
        raise PglabError(f"the course's gradebook {url} cannot be opened ({type(err).__name__}: {one_line(err)}): "
                         "fix it, or check it with nbgrader db upgrade") from None


def read_deadlines(url: str, assignments: Iterable[str], overrides: dict[str, datetime]) -> Deadlines:
    """The course gradebook's due dates and extensions for ``assignments``; ``overrides`` (``--due``)
    replace due dates. A course without a gradebook has neither."""
    wanted = set(assignments)
    duedates: dict[str, datetime] = {}
    extensions: dict[tuple[str, str], timedelta] = {}
    path = _sqlite_path(url)
    if path is None or path.is_file():
        gradebook = _open(url)
        try:
            for assignment in gradebook.assignments:
                if assignment.name not in wanted:
                    continue
                if assignment.duedate is not None:
                    duedates[assignment.name] = assignment.duedate
                for submission in assignment.submissions:
                    if submission.extension:
                        extensions[(submission.student_id, assignment.name)] = submission.extension
        finally:
            gradebook.close()
    return Deadlines({**duedates, **overrides}, extensions)


def grant_extension(url: str, student: str, assignment: str, hours: float) -> None:
    """``pglab extend``: nbgrader's ``grant_extension`` in the course's gradebook, creating the
    assignment, student and submission rows first as nbgrader would when they are missing (an
    extension is usually granted before the learner submits). ``hours`` 0 takes it back."""
    path = _sqlite_path(url)
    if path is not None:
        if not path.parent.is_dir():
            raise PglabError(f"the course's gradebook {path} cannot be made: {path.parent} is not a folder")
        stamp_new_gradebook(path)
    gradebook = _open(url)
    try:
        with warnings.catch_warnings():  # nbgrader's API trips SQLAlchemy 2's autoflush warnings
            warnings.simplefilter("ignore", SAWarning)
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                gradebook.add_assignment(assignment)
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(assignment, student)
            except MissingEntry:
                gradebook.add_submission(assignment, student)
            gradebook.grant_extension(assignment, student, hours=hours)
    finally:
        gradebook.close()
