"""Plain entries into an nbgrader gradebook, and its export, through nbgrader's own API.

Writing through nbgrader's API keeps ``nbgrader export`` and formgrader working on what
``pglab grade`` produced, and the CSV has exactly ``nbgrader export``'s columns. This is the only
part of the grader that needs nbgrader's gradebook; it imports none of the grader (it runs in the
gradebook writer's process, :mod:`.gradebook_writer`) and takes what to write as plain data
(:mod:`pglab.messages`), decided by :mod:`.gradebook_plan`. One writer writes one submission at a
time, so a run cut off cannot leave a submission half-written.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import tempfile
import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from nbgrader.api import (
    Assignment,
    BaseCell,
    Grade,
    Gradebook,
    MissingEntry,
    Notebook,
    SubmittedAssignment,
    SubmittedNotebook,
)
from nbgrader.plugins.export import CsvExportPlugin
from sqlalchemy import event
from sqlalchemy.exc import SAWarning

from pglab.grading.reports.gradebook_ledger import as_stored, splice_export
from pglab.messages import GradebookAssignment, GradebookCellKind, GradebookEntry, GradebookRecorded, RecordGradebook


def stamp_new_gradebook(path: Path) -> None:
    """Create a gradebook file stamped with nbgrader's schema revision, read in-process.

    nbgrader asks a new ``alembic heads`` subprocess for the revision whenever it creates a
    gradebook (one to three seconds for a constant); it skips that for a file that already has
    tables. Same stamp, from the same migration scripts, without patching nbgrader.
    """
    if path.exists():
        return
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (_alembic_head(),))


def _alembic_head() -> str:
    """The gradebook schema's revision (what ``alembic heads`` prints), read in-process."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
    if head is None:
        raise RuntimeError("nbgrader's migration scripts have no head revision")
    return head


@dataclass
class RecordedSubmission:
    """What the gradebook holds of one submission that a re-run compares with its outcomes."""

    timestamp: datetime | None
    extension: timedelta | None
    late: dict[str, float] = field(default_factory=dict)  # notebook -> late penalty (0.0: none)
    scores: dict[tuple[str, str], float | None] = field(default_factory=dict)  # (notebook, cell) -> auto score


def _without_disk_waits(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA synchronous = OFF")


class GradebookWriter:
    """One open gradebook for the whole run: opening nbgrader's Gradebook re-runs its schema set-up
    (SQLAlchemy DDL compilation), which cost more CPU per submission than grading it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stamp_new_gradebook(path)
        self.gradebook = Gradebook(f"sqlite:///{path}")
        # nbgrader commits after every call (918 commits to record a class of 300), and SQLite
        # waits for the disk at each (2.5 ms): 2.3 s of a class's outputs. Without those waits
        # the file still survives the process being killed (the rollback journal stays on); an
        # operating-system crash could damage it, and then `rm gradebook.db` and the same
        # command rebuild it from the stored results.
        event.listen(self.gradebook.engine, "connect", _without_disk_waits)
        self.gradebook.db.remove()
        self.gradebook.engine.dispose()  # the connection nbgrader opened goes; new ones get the pragma

    def register(self, assignments: tuple[GradebookAssignment, ...]) -> None:
        """The assignments (with their due dates), notebooks and their cells."""
        gb = self.gradebook
        for assignment in assignments:
            gb.update_or_create_assignment(assignment.name, duedate=assignment.duedate)
            for notebook in assignment.notebooks:
                gb.update_or_create_notebook(notebook.name, assignment.name)
                for cell in notebook.cells:
                    if cell.kind is GradebookCellKind.SOLUTION:
                        gb.update_or_create_solution_cell(cell.name, notebook.name, assignment.name)
                    else:
                        add = (gb.update_or_create_task_cell if cell.kind is GradebookCellKind.TASK
                               else gb.update_or_create_grade_cell)
                        add(cell.name, notebook.name, assignment.name, max_score=cell.max_score,
                            cell_type=cell.cell_type)

    def recorded(self) -> dict[tuple[str, str], RecordedSubmission]:
        """Every submission as the gradebook has it, by ``(student, assignment)``, in three queries.

        Asking nbgrader's API submission by submission lazy-loads each one's notebooks and grades:
        about 7 ms a submission, two seconds for a class of 300 on a re-run that changes one.
        """
        db = self.gradebook.db
        found: dict[tuple[str, str], RecordedSubmission] = {}
        for assignment, student, timestamp, extension in (
                db.query(Assignment.name, SubmittedAssignment.student_id, SubmittedAssignment.timestamp,
                         SubmittedAssignment.extension)
                .join(SubmittedAssignment, SubmittedAssignment.assignment_id == Assignment.id)):
            found[(student, assignment)] = RecordedSubmission(timestamp, extension)
        submitted_notebooks = (
            SubmittedNotebook.__table__
            .join(SubmittedAssignment.__table__, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment.__table__, SubmittedAssignment.assignment_id == Assignment.id)
            .join(Notebook.__table__, SubmittedNotebook.notebook_id == Notebook.id))
        for assignment, student, notebook, penalty in (
                db.query(Assignment.name, SubmittedAssignment.student_id, Notebook.name,
                         SubmittedNotebook.late_submission_penalty).select_from(submitted_notebooks)):
            found[(student, assignment)].late[notebook] = penalty or 0.0
        for assignment, student, notebook, cell, auto in (
                db.query(Assignment.name, SubmittedAssignment.student_id, Notebook.name, BaseCell.name,
                         Grade.auto_score)
                .select_from(Grade.__table__
                             .join(submitted_notebooks, Grade.notebook_id == SubmittedNotebook.id)
                             .join(BaseCell.__table__, Grade.cell_id == BaseCell.id))):
            found[(student, assignment)].scores[(notebook, cell)] = auto
        return found

    @staticmethod
    def matches(recorded: RecordedSubmission | None, entry: GradebookEntry) -> bool:
        """Already recorded exactly so: a re-run then leaves it alone (and keeps any manual grades).
        ``recorded``: the submission as :meth:`recorded` read it (None: not in the gradebook)."""
        if recorded is None:
            return False
        if recorded.timestamp != as_stored(entry.timestamp):
            return False
        if (recorded.extension or None) != (entry.extension or None):
            return False
        if any(recorded.late.get(n.notebook, 0.0) != n.late_penalty for n in entry.notebooks):
            return False
        return all(recorded.scores.get((n.notebook, name), -1.0) == auto
                   for n in entry.notebooks for name, auto in n.auto_scores)

    def record(self, entry: GradebookEntry) -> None:
        """The submission with its auto scores, its extension and each notebook's late penalty (as
        nbgrader's AssignLatePenalties stores it, none when 0)."""
        gb = self.gradebook
        # nbgrader's own API trips SQLAlchemy 2's autoflush warnings when it replaces a submission.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(entry.student)
            with contextlib.suppress(MissingEntry):  # first grading of this student: nothing to replace
                gb.remove_submission(entry.assignment, entry.student)
            gb.add_submission(entry.assignment, entry.student, timestamp=entry.timestamp, extension=entry.extension)
            for notebook in entry.notebooks:
                gb.find_submission_notebook(notebook.notebook, entry.assignment, entry.student
                                            ).late_submission_penalty = notebook.late_penalty or None
                for name, auto in notebook.auto_scores:
                    grade = gb.find_grade(name, notebook.notebook, entry.assignment, entry.student)
                    grade.auto_score = auto
                    grade.needs_manual_grade = auto is None
            gb.db.commit()

    def forget(self, student: str, assignment: str) -> None:
        """No grade for this submission (it was not graded this time): drop an older one, if any."""
        with warnings.catch_warnings(), contextlib.suppress(MissingEntry):
            warnings.simplefilter("ignore", SAWarning)
            self.gradebook.remove_submission(assignment, student)
            self.gradebook.db.commit()

    def export(self, students: Collection[str] = ()) -> str:
        """nbgrader's CSV export (its ``CsvExportPlugin``) of every learner, or of ``students`` only."""
        with tempfile.TemporaryDirectory() as scratch:
            plugin = CsvExportPlugin(to=str(Path(scratch) / "grades.csv"), student=sorted(students))
            plugin.log = logging.getLogger("pglab.gradebook")
            plugin.export(self.gradebook)
            return (Path(scratch) / "grades.csv").read_text(encoding="utf-8")

    def close(self) -> None:
        self.gradebook.close()


def write_gradebook(request: RecordGradebook) -> GradebookRecorded:
    """Do what ``request`` asks (see :class:`~pglab.messages.RecordGradebook`); the gradebook is
    closed before the export is returned, so the file's identity is final when the grader reads it."""
    path = Path(request.path)
    writer = GradebookWriter(path)
    try:
        whole = request.previous_export is None
        recorded: dict[tuple[str, str], RecordedSubmission] = {}
        if whole:
            writer.register(request.course)
            recorded = writer.recorded()
        for entry in request.entries:
            if not entry.graded:
                writer.forget(entry.student, entry.assignment)
            elif not whole or not writer.matches(recorded.get((entry.student, entry.assignment)), entry):
                writer.record(entry)
        export = None
        if request.previous_export is not None:
            export = splice_export(request.previous_export, writer.export({e.student for e in request.entries}))
        if export is None:
            export = writer.export()
    finally:
        writer.close()
    return GradebookRecorded(export)
