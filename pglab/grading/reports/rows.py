"""The rows every class-wide output is rendered from: typed, built from the graded outcomes.

``checks.csv``, ``report.html`` and ``grades-wide.csv`` are renderings of the same rows, so none of
them is read back to make another: whether a row is a check's points, a note on a whole notebook,
a file that could not be graded or a notebook the grader failed on is its :class:`RowKind`, not a
marker in its text, and a notebook that was not handed in says so in ``handed_in``, not in a
message's wording.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pglab.grading.late_penalties import LatePenalty, NotebookKey
from pglab.grading.outcome import NotebookOutcome, OutcomeState


class RowKind(enum.Enum):
    """What a row of ``checks.csv`` is; the value is what its ``check`` column shows for other kinds."""

    CHECK = "check"  # one check's (or one nbgrader test cell's) points: the column shows its name
    NOTEBOOK = "(notebook)"  # notes on a whole notebook: a cell that raised, ran too long, was cut
    SUBMISSION = "(submission)"  # a file that cannot be graded as a notebook of its assignment
    NOT_GRADED = "(not graded)"  # the grader failed on the notebook: no points at all, not zero
    LATE = "(late penalty)"  # points off a notebook handed in after its due date (negative points)


@dataclass(frozen=True)
class SubmissionProblem:
    """A submitted file that is not graded as a notebook of its assignment, and why."""

    student: str
    assignment: str
    notebook: str
    message: str


@dataclass(frozen=True)
class CheckRow:
    """One row of ``checks.csv``."""

    student: str
    assignment: str
    notebook: str
    kind: RowKind
    check: str  # the check's name; for other kinds, the kind's marker
    points: float | None  # None: not graded, no points at all
    max_points: float | None
    message: str
    handed_in: bool = True  # False: the notebook was not submitted (its checks' zeros say so)
    by_hand: bool = False  # an nbgrader cell left for the instructor: no points yet, and not a failure

    @property
    def notebook_key(self) -> str:
        return f"{self.assignment}/{self.notebook}"


@dataclass(frozen=True)
class GradeRow:
    """One learner's score for one assignment, as the gradebook holds it (hand-graded points included)."""

    assignment: str
    student: str
    last_name: str
    first_name: str
    score: float
    max_score: float


def check_rows(outcomes: Iterable[NotebookOutcome], problems: Iterable[SubmissionProblem],
               late: Mapping[NotebookKey, LatePenalty] | None = None) -> list[CheckRow]:
    """The rows of ``checks.csv``: the problems found in the submissions, then each notebook's rows,
    a late notebook's penalty last (its points negative, so a notebook's rows still add up to its score)."""
    rows = [CheckRow(p.student, p.assignment, p.notebook, RowKind.SUBMISSION, RowKind.SUBMISSION.value, 0.0, 0.0,
                     p.message) for p in problems]
    for outcome in sorted(outcomes, key=lambda o: (o.student, o.assignment, o.notebook)):
        where = (outcome.student, outcome.assignment, outcome.notebook)
        if not outcome.is_grade:
            rows.append(CheckRow(*where, RowKind.NOT_GRADED, RowKind.NOT_GRADED.value, None, None,
                                 "; ".join(outcome.notes)))
            continue
        handed_in = outcome.state is not OutcomeState.NOT_SUBMITTED
        if outcome.notes:
            rows.append(CheckRow(*where, RowKind.NOTEBOOK, RowKind.NOTEBOOK.value, 0.0, 0.0, "; ".join(outcome.notes),
                                 handed_in))
        rows += [CheckRow(*where, RowKind.CHECK, r.name, r.points, r.max_points, r.message, handed_in, r.by_hand)
                 for r in outcome.results]
        penalty = (late or {}).get(where)
        if penalty is not None:
            rows.append(CheckRow(*where, RowKind.LATE, RowKind.LATE.value, -penalty.points, 0.0, penalty.line()))
    return rows


def listed_problems(rows: Iterable[CheckRow]) -> list[CheckRow]:
    """The rows report.html lists under "Problems noted" (and ``pglab grade``'s summary counts):
    notes on notebooks handed in, files not graded, notebooks the grader failed on (late
    submissions have their own table)."""
    return [row for row in rows if row.kind not in (RowKind.CHECK, RowKind.LATE) and row.handed_in]


CHECKS_COLUMNS = ("student_id", "assignment", "notebook", "check", "points", "max_points", "message")


def checks_csv(rows: Iterable[CheckRow]) -> bytes:
    """``checks.csv``: one row per check of every notebook, with the notes and problems between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CHECKS_COLUMNS)
    for row in rows:
        writer.writerow([row.student, row.assignment, row.notebook, row.check, _number(row.points),
                         _number(row.max_points), row.message])
    return buffer.getvalue().encode("utf-8")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def grade_rows(nbgrader_export: str) -> list[GradeRow]:
    """The gradebook's scores from nbgrader's own CSV export (its ``CsvExportPlugin``), read once, here."""
    return [GradeRow(r["assignment"], r["student_id"], r.get("last_name") or "", r.get("first_name") or "",
                     float(r["score"] or 0), float(r["max_score"] or 0))
            for r in csv.DictReader(io.StringIO(nbgrader_export))]
