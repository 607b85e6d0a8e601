"""Typed messages at every process boundary of the grader, and whose doing a failure is.

Each boundary is encoded and decoded here and nowhere else:

- **the learner's kernel → the grader**: the answer to one evaluation (:class:`KernelAnswer`), one
  JSON string of its own MIME type, never pickle (the kernel runs the learner's code);
- **a check runner ⇄ its grading worker** (:mod:`pglab.grading.check_runner`): the dataclasses
  below, over a socket pair (both ends are the grader's own processes; a learner's values in them
  are JSON already);
- **the kernel fork server ⇄ the grader** (:mod:`pglab.grading.kernels.forkserver`): one JSON object
  per line (:class:`ForkRequest`, :class:`ForkAnswer`);
- **the check catalogue's child → the grader** (:mod:`pglab.grading.check_catalogue`): the checks it
  collected, or why it could not (:class:`Catalogue`);
- **the grader ⇄ its gradebook writer** (:mod:`pglab.grading.reports.gradebook_writer`): what nbgrader's
  gradebook is to hold, as plain data (:class:`RecordGradebook`), and nbgrader's export of it
  (:class:`GradebookRecorded`); the writer imports none of the grader.

Whose doing a failure is travels as a :class:`Blame`, never in message text. This module imports
only small things: the learner's kernel imports it to encode its answers.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pglab.checks import wire
from pglab.checks.results import CheckInfo, CheckResult
from pglab.checks.submission import CheckFailed, LearnerCodeError, SandboxError
from pglab.errors import FaultKind, GraderFault


class Blame(enum.Enum):
    """Whose doing a failure is: it decides between a grade (with a reason) and no grade at all."""

    LEARNER = "the learner's work"  # a check failed on it, or the learner's code raised
    LEARNERS_KERNEL = "the learner's kernel"  # it did not answer: a timeout, a dead kernel, a value too large
    CHECK = "the course's check"  # it fails on the course's own reference solution
    GRADER = "the grader"  # its own machinery (a GraderFault, of a FaultKind)

    @property
    def is_a_grade(self) -> bool:
        """The learner gets the points they earned (maybe 0, with the reason); otherwise no grade."""
        return self in (Blame.LEARNER, Blame.LEARNERS_KERNEL)


@dataclass(frozen=True)
class Failure:
    """An exception that crossed a process boundary: whose it was, its type and message."""

    blame: Blame
    type_name: str
    message: str
    fault: FaultKind | None = None  # for Blame.GRADER

    def exception(self) -> BaseException:
        """The exception again, on this side of the boundary."""
        if self.blame is Blame.GRADER:
            return GraderFault(self.fault or FaultKind.INTERNAL, self.message)
        if self.blame is Blame.LEARNERS_KERNEL:
            return SandboxError(self.message)
        if self.type_name == CheckFailed.__name__:
            return CheckFailed(self.message)
        return LearnerCodeError(self.type_name, self.message)


def failure_of(err: BaseException) -> Failure | None:
    """The :class:`Failure` that stands for ``err``; None for an exception no boundary carries (a bug)."""
    if isinstance(err, GraderFault):
        return Failure(Blame.GRADER, type(err).__name__, err.detail, err.kind)
    if isinstance(err, SandboxError):
        return Failure(Blame.LEARNERS_KERNEL, type(err).__name__, str(err))
    if isinstance(err, LearnerCodeError):
        return Failure(Blame.LEARNER, err.type_name, err.message)
    if isinstance(err, CheckFailed):
        return Failure(Blame.LEARNER, type(err).__name__, str(err))
    return None


# -- the learner's kernel -> the grader ---------------------------------------------------------

ANSWER_MIME = "application/x-pglab-answer+json"
ANSWER_CHARS = 4_000_000  # a value a check can use is far smaller; a hostile one must not fill the grader


@dataclass(frozen=True)
class KernelAnswer:
    """What one evaluation in the learner's kernel gave: a value, what their code raised, or nothing usable."""

    value: Any = None
    raised: tuple[str, str] | None = None  # (type name, message) of what the learner's code raised
    too_large: int = 0  # characters of JSON the value would have taken


def encode_answer(value: Any = None, raised: BaseException | None = None) -> str:
    """In the kernel: the answer as the grader reads it (a value too large is said, not sent)."""
    if raised is not None:
        text = wire.dumps({"error": [type(raised).__name__, str(raised)[:500]]})
    else:
        text = wire.dumps({"ok": value})
    return text if len(text) <= ANSWER_CHARS else json.dumps({"too_large": len(text)})


def decode_answer(text: object) -> KernelAnswer | None:
    """In the grader: the kernel's answer, or None when what came back is not one."""
    if not isinstance(text, str) or len(text) > ANSWER_CHARS:
        return KernelAnswer(too_large=len(text)) if isinstance(text, str) else None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "too_large" in data:
        return KernelAnswer(too_large=int(data["too_large"]) if isinstance(data["too_large"], int) else ANSWER_CHARS)
    if "error" in data and isinstance(data["error"], list) and len(data["error"]) == 2:
        return KernelAnswer(raised=(str(data["error"][0]), str(data["error"][1])))
    if "ok" in data:
        return KernelAnswer(value=data["ok"])
    return None


# -- a check runner <-> its grading worker --------------------------------------------------------

@dataclass(frozen=True)
class RunnerReady:
    """Child -> worker: every check module loaded; waiting for notebooks."""


@dataclass(frozen=True)
class RunnerFailed:
    """Child -> worker: the checks did not load, or the runner hit a bug of its own."""

    reason: str


@dataclass(frozen=True)
class CheckNotebook:
    """Worker -> child: run the checks of ``files`` (in this order) on the submission's database."""

    files: list[str]
    database_url: str


@dataclass(frozen=True)
class MayRun:
    """Child -> worker: may this check still run (the kernel alive, the time not up)?"""

    check: str


@dataclass(frozen=True)
class Proceed:
    """Worker -> child: run it, or (``skip_reason``) record 0 with that reason instead."""

    skip_reason: str = ""


@dataclass(frozen=True)
class Evaluate:
    """Child -> worker: run ``code`` beside the learner's namespace (``sub.run``/``sub.call``)."""

    code: str
    timeout: float | None


@dataclass(frozen=True)
class Evaluated:
    """Worker -> child: what the evaluation gave (JSON), or the failure it ended in."""

    value: Any = None
    failure: Failure | None = None


@dataclass(frozen=True)
class NotebookChecked:
    """Child -> worker: each check's result, in order."""

    results: list[CheckResult] = field(default_factory=list)


@dataclass(frozen=True)
class NotebookVoided:
    """Child -> worker: the grader failed under a check; the notebook must be graded again."""

    fault: FaultKind
    detail: str


@dataclass(frozen=True)
class Stop:
    """Worker -> child: no more notebooks."""


RunnerMessage = (RunnerReady | RunnerFailed | CheckNotebook | MayRun | Proceed | Evaluate | Evaluated
                 | NotebookChecked | NotebookVoided | Stop)


# -- the kernel fork server <-> the grader ---------------------------------------------------------

@dataclass(frozen=True)
class ForkRequest:
    """Grader -> fork server: start a kernel confined as ``confinement`` says, on that connection file."""

    connection_file: str
    env: dict[str, str]
    confinement: dict[str, Any]
    probe: bool = False  # only enter the namespaces once, to learn whether the machine allows them

    def line(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def read(cls, line: str) -> ForkRequest:
        data = json.loads(line)
        return cls(str(data["connection_file"]), dict(data["env"]), dict(data["confinement"]),
                   bool(data.get("probe", False)))


@dataclass(frozen=True)
class ForkAnswer:
    """Fork server (or a forked kernel) -> grader: the kernel's process ids, or why there is none.

    Also the server's first line: ``ready`` once it has loaded (and, in the sandbox, tried the
    namespaces once), or the error that keeps it from serving.
    """

    pid: int = 0
    init: int = 0  # PID 1 of the kernel's namespace; 0 without the sandbox
    error: str = ""
    ready: bool = False

    def line(self) -> str:
        return json.dumps({key: value for key, value in asdict(self).items() if value})

    @classmethod
    def read(cls, line: str | bytes, silent: str) -> ForkAnswer:
        """The answer in ``line``; ``silent`` is the error when there is none."""
        try:
            data = json.loads(line or "null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls(error=silent)
        return cls(pid=int(data.get("pid", 0)), init=int(data.get("init", 0)), error=str(data.get("error", "")),
                   ready=bool(data.get("ready", False)))


# -- the check catalogue's child -> the grader -----------------------------------------------------

@dataclass(frozen=True)
class Catalogue:
    """Every check collected, or (``error``) pytest's own words for why the modules did not load."""

    checks: list[CheckInfo] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        return json.dumps({"checks": [asdict(c) for c in self.checks], "error": self.error})

    @classmethod
    def read(cls, line: str) -> Catalogue:
        data = json.loads(line)
        return cls([CheckInfo(**entry) for entry in data["checks"]], str(data["error"]))


# -- the grader <-> its gradebook writer -------------------------------------------------------------

class GradebookCellKind(enum.Enum):
    GRADE = "grade"  # scored automatically (or, for a solution graded by hand, in formgrader)
    TASK = "task"  # nbgrader's "manually graded task": an instructor scores it
    SOLUTION = "solution"  # an answer cell formgrader shows, with no points of its own


@dataclass(frozen=True)
class GradebookCell:
    """One cell of a notebook as nbgrader's gradebook records it."""

    name: str
    kind: GradebookCellKind
    max_score: float = 0.0
    cell_type: str = "code"


@dataclass(frozen=True)
class GradebookNotebook:
    name: str
    cells: tuple[GradebookCell, ...]


@dataclass(frozen=True)
class GradebookAssignment:
    """An assignment as the gradebook registers it: its due date (None: not due) and notebooks."""

    name: str
    duedate: datetime | None
    notebooks: tuple[GradebookNotebook, ...]


@dataclass(frozen=True)
class NotebookScores:
    """One submitted notebook: its late penalty (points, 0.0: none) and each grade cell's auto score
    (None: left for grading by hand)."""

    notebook: str
    late_penalty: float
    auto_scores: tuple[tuple[str, float | None], ...]


@dataclass(frozen=True)
class GradebookEntry:
    """One submission as the gradebook is to hold it; ``graded`` False: it is to have none."""

    student: str
    assignment: str
    timestamp: datetime | None
    extension: timedelta | None
    notebooks: tuple[NotebookScores, ...]
    graded: bool = True


@dataclass(frozen=True)
class RecordGradebook:
    """Grader -> writer: bring the gradebook at ``path`` to ``entries``, then export it.

    ``previous_export`` None: the whole path (register ``course``, compare every entry with what the
    gradebook holds, write those that differ, export every learner). Otherwise the gradebook is the
    file the last run left, with that export: write every entry and splice their learners' rows in.
    """

    path: str
    course: tuple[GradebookAssignment, ...]
    entries: tuple[GradebookEntry, ...]
    previous_export: str | None


@dataclass(frozen=True)
class GradebookRecorded:
    """Writer -> grader: nbgrader's CSV export of the whole gradebook, after the gradebook was closed."""

    export: str


@dataclass(frozen=True)
class GradebookWriterReady:
    """Writer -> grader, once: nbgrader is imported, requests are read."""


@dataclass(frozen=True)
class GradebookNotRecorded:
    """Writer -> grader: the request failed (a full disk, an unwritable OUT, a damaged file)."""

    failure: Failure


GradebookMessage = RecordGradebook | GradebookRecorded | GradebookWriterReady | GradebookNotRecorded | Stop
