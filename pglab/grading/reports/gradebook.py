"""Results into an nbgrader gradebook, and ``grades.csv`` out of it with nbgrader's own exporter.

Writing through nbgrader's API keeps ``nbgrader export`` and formgrader working on what
``pglab grade`` produced, and the CSV has exactly ``nbgrader export``'s columns. Only the main
thread writes, one submission at a time, so parallel grading cannot leave it half-written.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.metadata
import io
import json
import logging
import sqlite3
import tempfile
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
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

from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports.gradebook_ledger import GradebookLedger, entry_key, file_identity, splice_export
from pglab.grading.strategies import GradebookCellKind, GradingStrategy, strategy_for


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


def _as_stored(timestamp: datetime | None) -> datetime | None:
    """nbgrader keeps timestamps as naive UTC."""
    if timestamp is None or timestamp.tzinfo is None:
        return timestamp
    return timestamp.astimezone(timezone.utc).replace(tzinfo=None)


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
        self.strategies: dict[tuple[str, str], GradingStrategy] = {}  # (assignment, notebook): how it is graded

    def register(self, assignments: dict[str, list[ChallengeNotebook]],
                 duedates: Mapping[str, datetime] | None = None) -> None:
        """The assignments, notebooks and their cells, as each notebook's grading strategy has them:
        one grade cell for a course challenge (its max = sum of checks); nbgrader's own for a notebook
        graded by its test cells (so formgrader can grade the ones graded by hand), plus one for the
        course's checks if it has any. ``duedates``: each assignment's due date (none: not due)."""
        gb = self.gradebook
        for name, notebooks in assignments.items():
            gb.update_or_create_assignment(name, duedate=(duedates or {}).get(name))
            for challenge in notebooks:
                gb.update_or_create_notebook(challenge.notebook, name)
                strategy = self.strategies[(name, challenge.notebook)] = strategy_for(challenge)
                for cell in strategy.gradebook_cells():
                    if cell.kind is GradebookCellKind.SOLUTION:
                        gb.update_or_create_solution_cell(cell.name, challenge.notebook, name)
                    else:
                        add = (gb.update_or_create_task_cell if cell.kind is GradebookCellKind.TASK
                               else gb.update_or_create_grade_cell)
                        add(cell.name, challenge.notebook, name, max_score=cell.max_score, cell_type=cell.cell_type)

    def _auto_scores(self, assignment: str, outcome: NotebookOutcome) -> dict[str, float | None]:
        """Each grade cell's auto score (None: to be graded by hand)."""
        return self.strategies[(assignment, outcome.notebook)].auto_scores(outcome)

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

    def matches(self, recorded: RecordedSubmission | None, assignment: str, timestamp: datetime | None,
                outcomes: list[NotebookOutcome], extension: timedelta | None = None,
                penalties: Mapping[str, float] | None = None) -> bool:
        """Already recorded exactly so: a re-run then leaves it alone (and keeps any manual grades).
        ``recorded``: the submission as :meth:`recorded` read it (None: not in the gradebook)."""
        if recorded is None:
            return False
        if recorded.timestamp != _as_stored(timestamp) or (recorded.extension or None) != (extension or None):
            return False
        if any(recorded.late.get(o.notebook, 0.0) != (penalties or {}).get(o.notebook, 0.0) for o in outcomes):
            return False
        return all(recorded.scores.get((o.notebook, name), -1.0) == auto
                   for o in outcomes for name, auto in self._auto_scores(assignment, o).items())

    def record(self, student: str, assignment: str, timestamp: datetime | None, outcomes: list[NotebookOutcome],
               extension: timedelta | None = None, penalties: Mapping[str, float] | None = None) -> None:
        """The submission with its auto scores, its extension and each notebook's late penalty
        (notebook name -> points; as nbgrader's AssignLatePenalties stores it, none when 0)."""
        gb = self.gradebook
        # nbgrader's own API trips SQLAlchemy 2's autoflush warnings when it replaces a submission.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_student(student)
            with contextlib.suppress(MissingEntry):  # first grading of this student: nothing to replace
                gb.remove_submission(assignment, student)
            gb.add_submission(assignment, student, timestamp=timestamp, extension=extension)
            for outcome in outcomes:
                late = (penalties or {}).get(outcome.notebook, 0.0)
                gb.find_submission_notebook(outcome.notebook, assignment, student).late_submission_penalty = (
                    late or None)
                for name, auto in self._auto_scores(assignment, outcome).items():
                    grade = gb.find_grade(name, outcome.notebook, assignment, student)
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


@dataclass(frozen=True)
class SubmissionRecord:
    """What the gradebook is to hold of one submission after this run."""

    student: str
    assignment: str
    timestamp: datetime | None
    outcomes: tuple[NotebookOutcome, ...]
    extension: timedelta | None = None
    penalties: Mapping[str, float] = field(default_factory=dict)  # notebook -> late penalty points
    graded: bool = True  # False: not graded this time, so no entry (an older one is dropped)


def record_submissions(path: Path, course: dict[str, list[ChallengeNotebook]], duedates: Mapping[str, datetime],
                       submissions: list[SubmissionRecord]) -> str:
    """Bring the gradebook at ``path`` to ``submissions`` (each recorded unless it already is, so a
    re-run keeps any grades given by hand); returns nbgrader's export of the whole gradebook.

    Only the submissions that changed since the last run are written, and only their learners'
    rows exported again, while the gradebook is the file that run left (:mod:`.gradebook_ledger`);
    otherwise every submission is compared with what the gradebook holds and the export is whole.
    """
    strategies = {(name, c.notebook): strategy_for(c) for name, notebooks in course.items() for c in notebooks}
    keyed = [(entry_key(s.student, s.assignment), _entry_digest(s, strategies), s) for s in submissions]
    course_key = _course_digest(course, duedates, strategies)
    ledger = GradebookLedger.current(path, course_key)
    changed = [s for key, digest, s in keyed if ledger is None or ledger.entries.get(key) != digest]
    if ledger is not None and not changed:
        return ledger.export
    GradebookLedger.forget(path)
    writer = GradebookWriter(path)
    recorded: dict[tuple[str, str], RecordedSubmission] = {}  # read back only on the whole path
    try:
        if ledger is None:
            writer.register(course, duedates)
            recorded = writer.recorded()
        else:
            writer.strategies = strategies
        for submission in changed:
            if not submission.graded:
                writer.forget(submission.student, submission.assignment)
            elif ledger is not None or not writer.matches(
                    recorded.get((submission.student, submission.assignment)), submission.assignment,
                    submission.timestamp, list(submission.outcomes), submission.extension, submission.penalties):
                writer.record(submission.student, submission.assignment, submission.timestamp,
                              list(submission.outcomes), submission.extension, submission.penalties)
        export = None
        if ledger is not None:
            export = splice_export(ledger.export, writer.export({s.student for s in changed}))
        if export is None:
            export = writer.export()
    finally:
        writer.close()
    identity = file_identity(path)
    if identity is not None:
        entries = {**(ledger.entries if ledger else {}), **{key: digest for key, digest, _ in keyed}}
        GradebookLedger(identity, course_key, entries, export).save(path)
    return export


def grades_csv(export: str, ungraded: Collection[tuple[str, str]] = ()) -> str:
    """grades.csv: nbgrader's export without rows for ``(student, assignment)`` pairs that were not
    graded (nbgrader lists every assignment for every learner it knows, a missing one as 0)."""
    if not ungraded:
        return export
    rows = list(csv.reader(io.StringIO(export)))
    header = rows[0]
    student, assignment = header.index("student_id"), header.index("assignment")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([header, *(r for r in rows[1:] if (r[student], r[assignment]) not in ungraded)])
    return buffer.getvalue()


def _entry_digest(submission: SubmissionRecord, strategies: Mapping[tuple[str, str], GradingStrategy]) -> str:
    """Everything :meth:`GradebookWriter.record` writes of a submission."""
    if not submission.graded:
        return "not graded"
    scores = [[o.notebook, sorted(strategies[(submission.assignment, o.notebook)].auto_scores(o).items())]
              for o in submission.outcomes]
    return hashlib.sha256(json.dumps([str(_as_stored(submission.timestamp)), str(submission.extension),
                                      sorted(submission.penalties.items()), scores]).encode()).hexdigest()


def _course_digest(course: dict[str, list[ChallengeNotebook]], duedates: Mapping[str, datetime],
                   strategies: Mapping[tuple[str, str], GradingStrategy]) -> str:
    """What :meth:`GradebookWriter.register` writes, and the code and nbgrader that write it."""
    shape = [[name, str(duedates.get(name)),
              [[c.notebook, [[cell.name, cell.kind.value, cell.max_score, cell.cell_type]
                             for cell in strategies[(name, c.notebook)].gradebook_cells()]] for c in notebooks]]
             for name, notebooks in sorted(course.items())]
    digest = hashlib.sha256(json.dumps([shape, importlib.metadata.version("nbgrader")], default=str).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()
