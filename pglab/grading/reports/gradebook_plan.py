"""What a run must write into OUT's gradebook, decided without nbgrader; ``grades.csv`` from its export.

The grader turns its outcomes into plain entries (:class:`~pglab.messages.GradebookEntry`: each
grade cell's auto score, the late penalty, the extension), compares them with the ledger
(:mod:`.gradebook_ledger`) and asks nbgrader to write only what changed
(:class:`~pglab.messages.RecordGradebook`). The writing, the only part that needs nbgrader (a 0.7 s
import), happens in the gradebook writer's process (:mod:`.gradebook_writer`), started while the
run grades; this module never imports nbgrader.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports.gradebook_ledger import GradebookLedger, as_stored, entry_key, file_identity
from pglab.grading.reports.gradebook_writer import GradebookWriterProcess, record_gradebook
from pglab.grading.strategies import GradingStrategy, strategy_for
from pglab.messages import (
    GradebookAssignment,
    GradebookEntry,
    GradebookNotebook,
    GradebookRecorded,
    NotebookScores,
    RecordGradebook,
)

WRITING_CODE = Path(__file__).with_name("gradebook.py")  # what writes the gradebook: part of the ledger's key


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


@dataclass(frozen=True)
class GradebookPlan:
    """The run's gradebook: the request for the writer (None: the ledger's export is current)."""

    path: Path
    course_key: str
    ledger: GradebookLedger | None
    digests: dict[str, str]  # entry_key -> digest, of every submission of the run
    request: RecordGradebook | None

    def settle(self, recorded: GradebookRecorded | None) -> str:
        """The whole export once the writer answered (``recorded``), with the ledger saved for the next run."""
        if self.request is None:
            assert self.ledger is not None
            return self.ledger.export
        assert recorded is not None
        identity = file_identity(self.path)
        if identity is not None:
            entries = {**(self.ledger.entries if self.ledger else {}), **self.digests}
            GradebookLedger(identity, self.course_key, entries, recorded.export).save(self.path)
        return recorded.export


def record_submissions(path: Path, course: dict[str, list[ChallengeNotebook]], duedates: Mapping[str, datetime],
                       submissions: list[SubmissionRecord], writer: GradebookWriterProcess | None = None) -> str:
    """Bring the gradebook at ``path`` to ``submissions`` (:func:`plan_gradebook`), by ``writer``
    (or in this process without one); nbgrader's export of the whole gradebook."""
    plan = plan_gradebook(path, course, duedates, submissions)
    return plan.settle(record_gradebook(plan.request, writer) if plan.request is not None else None)


def plan_gradebook(path: Path, course: dict[str, list[ChallengeNotebook]], duedates: Mapping[str, datetime],
                   submissions: list[SubmissionRecord]) -> GradebookPlan:
    """What bringing the gradebook at ``path`` to ``submissions`` takes.

    While the gradebook is the file the last run left (the ledger vouches for it), only the
    submissions whose entry changed are written, and only their learners' rows exported again;
    otherwise the writer compares every submission with what the gradebook holds (so a re-run keeps
    any grades given by hand) and exports it whole. Before a request is made the ledger is dropped:
    a run cut off while the writer writes leaves none that vouches for a changed file.
    """
    strategies = strategies_of(course)
    entries = [(entry_key(s.student, s.assignment), entry_of(s, strategies)) for s in submissions]
    digests = {key: _entry_digest(entry) for key, entry in entries}
    registered = course_entries(course, duedates, strategies)
    course_key = _course_digest(registered)
    ledger = GradebookLedger.current(path, course_key)
    changed = tuple(entry for key, entry in entries if ledger is None or ledger.entries.get(key) != digests[key])
    if ledger is not None and not changed:
        return GradebookPlan(path, course_key, ledger, digests, None)
    GradebookLedger.forget(path)
    # absolute: the writer's process runs from pglab's own folder, and OUT may be given relative
    request = RecordGradebook(str(path.absolute()), registered, changed,
                              ledger.export if ledger is not None else None)
    return GradebookPlan(path, course_key, ledger, digests, request)


def strategies_of(course: dict[str, list[ChallengeNotebook]]) -> dict[tuple[str, str], GradingStrategy]:
    """How each notebook of the course is graded, by (assignment, notebook)."""
    return {(name, c.notebook): strategy_for(c) for name, notebooks in course.items() for c in notebooks}


def course_entries(course: dict[str, list[ChallengeNotebook]], duedates: Mapping[str, datetime],
                   strategies: Mapping[tuple[str, str], GradingStrategy]) -> tuple[GradebookAssignment, ...]:
    """The assignments, notebooks and their cells, as each notebook's grading strategy has them: one
    grade cell for a course challenge (its max = sum of checks); nbgrader's own for a notebook graded
    by its test cells (so formgrader can grade the ones graded by hand), plus one for the course's
    checks if it has any. ``duedates``: each assignment's due date (none: not due)."""
    return tuple(GradebookAssignment(name, duedates.get(name),
                                     tuple(GradebookNotebook(c.notebook,
                                                             tuple(strategies[(name, c.notebook)].gradebook_cells()))
                                           for c in notebooks))
                 for name, notebooks in course.items())


def entry_of(submission: SubmissionRecord, strategies: Mapping[tuple[str, str], GradingStrategy]) -> GradebookEntry:
    """The submission as the gradebook is to hold it: each grade cell's auto score, by its strategy."""
    return GradebookEntry(
        submission.student, submission.assignment, submission.timestamp, submission.extension,
        tuple(NotebookScores(o.notebook, submission.penalties.get(o.notebook, 0.0),
                             tuple(strategies[(submission.assignment, o.notebook)].auto_scores(o).items()))
              for o in submission.outcomes),
        submission.graded)


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


def _entry_digest(entry: GradebookEntry) -> str:
    """Everything the writer records of a submission."""
    if not entry.graded:
        return "not graded"
    penalties = sorted((n.notebook, n.late_penalty) for n in entry.notebooks if n.late_penalty)
    scores = [[n.notebook, sorted(n.auto_scores)] for n in entry.notebooks]
    return hashlib.sha256(json.dumps([str(as_stored(entry.timestamp)), str(entry.extension), penalties,
                                      scores]).encode()).hexdigest()


def _course_digest(registered: tuple[GradebookAssignment, ...]) -> str:
    """What the writer registers of the course, and the code and nbgrader that write it."""
    shape = [[a.name, str(a.duedate),
              [[n.name, [[cell.name, cell.kind.value, cell.max_score, cell.cell_type] for cell in n.cells]]
               for n in a.notebooks]]
             for a in sorted(registered, key=lambda a: a.name)]
    digest = hashlib.sha256(json.dumps([shape, importlib.metadata.version("nbgrader")], default=str).encode())
    digest.update(WRITING_CODE.read_bytes())
    return digest.hexdigest()
