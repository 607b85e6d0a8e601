"""Results into an nbgrader gradebook, and ``grades.csv`` out of it with nbgrader's own exporter.

Writing through nbgrader's API keeps ``nbgrader export`` and formgrader working on what
``pglab grade`` produced, and the CSV has exactly ``nbgrader export``'s columns. Only the main
thread writes, one submission at a time, so parallel grading cannot leave it half-written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy.exc import SAWarning

from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.grade_notebook import NotebookOutcome

GRADE_CELL = "checks"


def _alembic_on_path() -> None:
    """nbgrader migrates a new gradebook by running ``alembic``: find ours even without an activated venv."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class GradebookWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        _alembic_on_path()

    def register(self, assignments: dict[str, list[ChallengeNotebook]]) -> None:
        """The assignments, notebooks and one graded cell per notebook (its max = sum of checks)."""
        with Gradebook(self.url) as gb:
            for name, notebooks in assignments.items():
                gb.update_or_create_assignment(name)
                for challenge in notebooks:
                    gb.update_or_create_notebook(challenge.notebook, name)
                    gb.update_or_create_grade_cell(
                        GRADE_CELL, challenge.notebook, name,
                        max_score=challenge.max_points(), cell_type="code")

    def record(self, student: str, assignment: str, timestamp: datetime | None,
               outcomes: list[NotebookOutcome]) -> None:
        # nbgrader's own API trips SQLAlchemy 2's autoflush warnings when it replaces a submission.
        with warnings.catch_warnings(), Gradebook(self.url) as gb:
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            with contextlib.suppress(MissingEntry):  # first grading of this student: nothing to replace
                gb.remove_submission(assignment, student)
            submission = gb.add_submission(assignment, student, timestamp=timestamp)
            for outcome in outcomes:
                grade = gb.find_grade(GRADE_CELL, outcome.notebook, assignment, student)
                grade.auto_score = outcome.score
                grade.needs_manual_grade = False
            gb.db.commit()
            del submission

    def export_csv(self, destination: Path) -> None:
        plugin = CsvExportPlugin(to=str(destination))
        plugin.log = logging.getLogger("pglab.gradebook")
        with Gradebook(self.url) as gb:
            plugin.export(gb)
