"""What grading one notebook ended in, as data: graded, not submitted, or not graded (a grader fault).

The state is typed, not read from message text: only a GRADED or NOT_SUBMITTED outcome is a grade
and reaches the gradebook and ``grades.csv``; a NOT_GRADED one (the database restarted, a kernel
could not start, the disk filled up) is reported and graded again by the next run. Outcomes are
stored as JSON between runs (:mod:`pglab.grading.result_store`), so the class-wide outputs of a run
that re-grades a few notebooks are built from the same records a full run would produce.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from pglab.checks.results import CheckResult
from pglab.errors import FaultKind, GraderFault


class Gradable(Protocol):
    """What scores points in a notebook: a course check, or one of nbgrader's test cells."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def points(self) -> float: ...
    @property
    def hidden(self) -> bool: ...


GRADE_CELL = "checks"  # the gradebook's grade cell for the course's checks (their sum)


class OutcomeState(enum.Enum):
    GRADED = "graded"
    NOT_SUBMITTED = "not submitted"
    NOT_GRADED = "not graded"


class CellStatus(enum.Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    DIED = "died"


class CellKind(enum.Enum):
    """Whose a cell that ran is: what feedback shows a learner, and whose errors become notes."""

    SETUP = "set-up"  # the source notebook's locked set-up, run before the submission's cells
    SUBMITTED = "submitted"  # a cell of the submitted notebook: the learner's own output
    TEST = "test"  # one of nbgrader's test cells: its errors are its score's message, never a note


@dataclass
class CellLog:
    label: str
    status: CellStatus
    output: str
    error: str = ""
    kind: CellKind = CellKind.SUBMITTED


def _kind_of_stored(cell: dict[str, Any]) -> CellKind:
    """A stored cell's kind; records written before kinds were stored said it only in the label."""
    if "kind" in cell:
        return CellKind(cell["kind"])
    label = str(cell["label"])
    return (CellKind.TEST if label.startswith("test cell") else
            CellKind.SUBMITTED if label.startswith("cell ") else CellKind.SETUP)


@dataclass
class NotebookOutcome:
    student: str
    assignment: str
    notebook: str
    max_points: float
    state: OutcomeState = OutcomeState.GRADED
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cells: list[CellLog] = field(default_factory=list)
    fault: FaultKind | None = None
    fault_reason: str = ""  # str(GraderFault): what kept it from being graded
    seconds: float = 0.0
    # nbgrader grade cell id -> auto score (None: graded by hand) for notebooks graded by their own
    # nbgrader test cells; empty for the course's challenges (one "checks" cell, the score).
    grade_cells: dict[str, float | None] = field(default_factory=dict)
    # the notebook as graded, with its outputs (nbgrader's autograded/ copy, which formgrader opens
    # to grade cells by hand), as notebook JSON; empty for the course's challenges
    autograded: str = ""
    # where this grading's time went (pglab.grading.phase_times): never stored, never part of a grade
    phases: dict[Any, float] = field(default_factory=dict, compare=False)

    @property
    def score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def is_grade(self) -> bool:
        return self.state is not OutcomeState.NOT_GRADED

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["phases"]
        data["state"] = self.state.value
        data["fault"] = self.fault.name if self.fault else None
        data["cells"] = [{**asdict(c), "status": c.status.value, "kind": c.kind.value} for c in self.cells]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotebookOutcome:
        return cls(
            student=data["student"], assignment=data["assignment"], notebook=data["notebook"],
            max_points=float(data["max_points"]), state=OutcomeState(data["state"]),
            results=[CheckResult(**r) for r in data["results"]], notes=list(data["notes"]),
            cells=[CellLog(c["label"], CellStatus(c["status"]), c["output"], c["error"], _kind_of_stored(c))
                   for c in data["cells"]],
            fault=FaultKind[data["fault"]] if data.get("fault") else None,
            fault_reason=str(data.get("fault_reason", "")), seconds=float(data["seconds"]),
            grade_cells=dict(data.get("grade_cells") or {}), autograded=str(data.get("autograded") or ""),
        )


def zero_outcome(student: str, assignment: str, notebook: str, checks: Sequence[Gradable], reason: str,
                 state: OutcomeState = OutcomeState.GRADED, check_message: str | None = None) -> NotebookOutcome:
    """Every check at zero for one reason: the one place a whole-notebook zero is built."""
    outcome = NotebookOutcome(student, assignment, notebook, sum(c.points for c in checks), state=state)
    outcome.notes.append(reason)
    message = reason if check_message is None else check_message
    outcome.results = [CheckResult(c.name, c.description, 0.0, c.points, c.hidden, message) for c in checks]
    return outcome


def not_submitted(student: str, assignment: str, notebook: str, checks: Sequence[Gradable]) -> NotebookOutcome:
    return zero_outcome(student, assignment, notebook, checks, f"{notebook}.ipynb was not submitted",
                        state=OutcomeState.NOT_SUBMITTED, check_message="not submitted")


def not_graded(student: str, assignment: str, notebook: str, checks: Sequence[Gradable],
               fault: GraderFault) -> NotebookOutcome:
    """No grade at all: the results list stays empty so nothing can be mistaken for points."""
    outcome = NotebookOutcome(student, assignment, notebook, sum(c.points for c in checks),
                              state=OutcomeState.NOT_GRADED, fault=fault.kind, fault_reason=str(fault))
    outcome.notes.append(f"not graded: {fault} (a fault of the grader, not of this notebook; "
                         "run the same pglab grade command again to grade it)")
    return outcome
