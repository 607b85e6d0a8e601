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

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from pglab.errors import PglabError, one_line
from pglab.grading.deadlines import Deadlines
from pglab.grading.nbgrader_config import SQLITE, has_gradebook, sqlite_path


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
    if has_gradebook(url):
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


def grant_extension(url: str, student: str, assignment: str, hours: float, register_with: str) -> None:
    """``pglab extend``: nbgrader's ``grant_extension`` in the course's gradebook, creating the
    student and submission rows first as nbgrader's autograde would when they are missing (an
    extension is often granted before the learner submits). ``hours`` 0 takes it back.

    A submission row made before nbgrader knows the assignment's notebooks would have none of
    them, and nbgrader (which never adds them later) could not autograde it: so the assignment
    must have been registered first, by ``register_with`` (the nbgrader command that does it)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise PglabError(f"there is no course gradebook {path} yet: run {register_with} first (it makes it and "
                         f"registers {assignment}'s notebooks, as nbgrader needs before it records a submission), "
                         "then this again")
    gradebook = _open(url)
    try:
        with warnings.catch_warnings():  # nbgrader's API trips SQLAlchemy 2's autoflush warnings
            warnings.simplefilter("ignore", SAWarning)
            try:
                gradebook.find_submission(assignment, student)
            except MissingEntry:
                try:
                    registered = bool(gradebook.find_assignment(assignment).notebooks)
                except MissingEntry:
                    registered = False
                if not registered:
                    raise PglabError(f"{assignment} has no notebooks in the course's gradebook "
                                     f"{url.removeprefix(SQLITE)} yet: run {register_with} first (it registers "
                                     "them, as nbgrader needs before it records a submission), then this again"
                                     ) from None
                gradebook.update_or_create_student(student)
                gradebook.add_submission(assignment, student)
            gradebook.grant_extension(assignment, student, hours=hours)
    finally:
        gradebook.close()
