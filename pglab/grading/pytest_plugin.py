"""pytest runs the course's checks: the ``sub`` fixture, points, and each test's outcome as a check result.

pytest loads this module through the ``pytest11`` entry point in ``pyproject.toml``. A *check* is a
test in a module under ``pglab/challenge_checks/`` (visible: learners run it too) or
``grader/checks/`` (hidden): where the file lives says which, and ``<assignment>/test_<notebook>.py``
says which challenge it checks. A check is plain pytest::

    @pytest.mark.points(2)
    def test_empty_range(sub):
        \"\"\"returns [] when no product is in range\"\"\"   # the line learners read in their feedback
        got = sub.call("get_products_in_price_range", 99_999.0, 99_999.5)
        assert got == [], f"with no products in range, return an empty list, not {got!r}"

``sub`` is the learner's work (:class:`~pglab.learner.submission.Submission`). Who provides it depends
on who runs pytest: ``pytest FILE --submission NOTEBOOK`` executes that notebook in a sandbox against
its own copy of the course database, exactly as ``pglab grade`` does; ``pglab grade`` runs one
long-lived pytest session per grading worker (:mod:`pglab.grading.check_runner`); the learner's
*Check your work* cell and plain ``nbgrader autograde`` run pytest inside the learner's kernel
(:func:`run_here`). Each outcome becomes a :class:`~pglab.grading.outcome.CheckResult` whose message is
the assertion's message, or pytest's short explanation of a bare ``assert``.

Nothing here imports zmq or jupyter_client at import time: the module is loaded in learners' kernels.
"""

from __future__ import annotations

import contextlib
import enum
import io
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from pglab.errors import GraderFault, one_line
from pglab.grading.outcome import CheckResult, SandboxError
from pglab.learner.submission import LearnerCodeError, Returned, Submission

INFO = pytest.StashKey["CheckInfo"]()  # set at collection on every check (and only on checks)
RESULT = pytest.StashKey[CheckResult]()
FAULT = pytest.StashKey[GraderFault]()  # the grader failed under a check: the notebook is not graded
SUBMISSION = pytest.StashKey[Submission]()  # set by whoever runs pytest with a submission in hand
PROVIDED = pytest.StashKey[bool]()  # whoever runs pytest will set SUBMISSION before each check
RUNNING_SUBMISSION = pytest.StashKey[Any]()  # --submission: the notebook's sandbox, for the session
MESSAGE_CHARS = 600


def check_roots() -> tuple[Path, Path]:
    """(visible, hidden) check folders of this course."""
    from pglab.grading.course_layout import HIDDEN_CHECKS, VISIBLE_CHECKS

    return VISIBLE_CHECKS.resolve(), HIDDEN_CHECKS.resolve()


def is_check_file(path: Path) -> bool:
    path = path.resolve()
    return any(path.is_relative_to(root) for root in check_roots()) and path.name.startswith("test_")


def is_hidden(path: Path) -> bool:
    return path.resolve().is_relative_to(check_roots()[1])


@dataclass(frozen=True)
class CheckInfo:
    """What is known of a check before it runs: enough for max points, zeros and feedback lines."""

    name: str
    description: str
    points: float
    hidden: bool
    file: str


def check_info(item: pytest.Item, points: float) -> CheckInfo:
    function = getattr(item, "function", None)
    doc = (function.__doc__ or "").strip() if function is not None else ""
    base = getattr(item, "originalname", item.name)
    description = doc.splitlines()[0].strip() if doc else base.removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        description += f" [{callspec.id}]"
    return CheckInfo(name=item.name, description=description, points=float(points),
                     hidden=is_hidden(Path(str(item.path))), file=str(Path(str(item.path)).resolve()))


# -- hooks ------------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pglab", "pglab challenge checks")
    group.addoption("--submission", metavar="NOTEBOOK", default=None,
                    help="a learner's notebook: execute it in a sandbox with its own copy of the course "
                         "database, as `pglab grade` does, and run these checks against it")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): what a pglab challenge check is worth (partial credit)")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if is_check_file(Path(str(item.path)))]
    for item in checks:
        marker = item.get_closest_marker("points")
        if marker is None or not marker.args or not isinstance(marker.args[0], (int, float)) or marker.args[0] <= 0:
            raise pytest.UsageError(f"{item.nodeid}: a check needs its points, e.g. @pytest.mark.points(2)")
        item.stash[INFO] = check_info(item, marker.args[0])
    notebook = config.getoption("submission")
    if not checks or config.option.collectonly or config.stash.get(PROVIDED, False):
        return
    if not notebook:
        raise pytest.UsageError("these are pglab checks: run them against a learner's notebook, "
                                "with --submission NOTEBOOK.ipynb")
    challenges = {challenge_of(Path(str(item.path))) for item in checks}
    if len(challenges) > 1:
        raise pytest.UsageError("--submission grades one notebook: give the check files of one challenge "
                                f"(these are for {', '.join(sorted('/'.join(c) for c in challenges))})")
    from pglab.grading.one_notebook import SandboxedSubmission  # the grader's kernels: only now

    ((assignment, name),) = challenges
    running = SandboxedSubmission(assignment, name, Path(notebook))
    config.add_cleanup(running.close)
    config.stash[RUNNING_SUBMISSION] = running
    running.submission()  # executes the notebook now: what goes wrong is a one-line UsageError


def challenge_of(path: Path) -> tuple[str, str]:
    """(assignment, notebook) a check file is about: ``<assignment>/test_<notebook>.py``."""
    return path.resolve().parent.name, path.stem.removeprefix("test_")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each check's result; a learner-side failure is reported by its message, not a traceback."""
    report = yield
    info = item.stash.get(INFO, None)
    if info is None:  # not a check: a test of some other project pytest runs
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            item.stash[RESULT] = result_of(info, info.points, "passed")
        else:
            sub = getattr(item, "funcargs", {}).get("sub")
            message, verdict = explain(call.excinfo, sub.returned if isinstance(sub, Submission) else None)
            item.stash[RESULT] = result_of(info, 0.0, message)
            if call.excinfo is not None and isinstance(call.excinfo.value, GraderFault):
                item.stash[FAULT] = call.excinfo.value
            elif verdict is Verdict.LEARNER and report.failed and report.when == "call":
                report.longrepr = message  # pytest's report says what to fix, as the feedback does
            elif verdict is Verdict.UNUSABLE_ANSWER and report.failed and report.when == "call":
                report.longrepr = f"{message}\n\nwhere the check's code stopped:\n{report.longrepr}"
    return report


def result_of(info: CheckInfo, points: float, message: str) -> CheckResult:
    return CheckResult(name=info.name, description=info.description, points=points, max_points=info.points,
                       hidden=info.hidden, message=message)


class Verdict(enum.Enum):
    """Whose doing a check's failure is, on a learner's work.

    Never the check's own: the grader runs every check on the course's reference solution before it
    grades anyone (:mod:`pglab.grading.reference_check`), so a check that fails on a learner's work but
    passes on the reference fails because of that work — even when the exception came from the
    check's code (it iterated over the ``None`` a function without ``return`` gave back).
    """

    LEARNER = "the learner's work does not do what the check expects"
    UNUSABLE_ANSWER = "the check's code could not use what the learner's work gave back"
    SKIPPED = "the check skipped itself"


def explain(excinfo: pytest.ExceptionInfo[BaseException] | None,
            returned: Returned | None = None) -> tuple[str, Verdict]:
    """The message a learner reads, and whose doing the failure is.

    ``returned``: the last value the learner's code gave this check. When it is not what the
    function's signature promises (``None`` for a list: a forgotten ``return``), the message says so,
    whatever the check's own words were.
    """
    message, verdict = _explain(excinfo, returned)
    if verdict is Verdict.LEARNER and returned is not None and returned.unexpected:
        message = f"{message} ({returned.note()})"
    return message[:MESSAGE_CHARS], verdict


def _explain(excinfo: pytest.ExceptionInfo[BaseException] | None,
             returned: Returned | None) -> tuple[str, Verdict]:
    if excinfo is None:
        return "the check did not run", Verdict.SKIPPED
    err = excinfo.value
    if isinstance(err, AssertionError):
        return assertion_message(str(err)), Verdict.LEARNER
    if isinstance(err, pytest.fail.Exception):
        return str(err.msg)[:MESSAGE_CHARS], Verdict.LEARNER
    if isinstance(err, pytest.skip.Exception):
        return f"skipped: {err.msg}"[:MESSAGE_CHARS], Verdict.SKIPPED
    if isinstance(err, LearnerCodeError):
        detail = one_line(err.message)
        return f"your code raised {err.type_name}" + (f": {detail}" if detail else ""), Verdict.LEARNER
    if isinstance(err, SandboxError):
        return str(err), Verdict.LEARNER
    if isinstance(err, psycopg2.Error):  # the check's own query, on the submission's database
        reason = one_line(err) or type(err).__name__
        return (f"the check's own query failed on your database ({type(err).__name__}: {reason}): "
                "did your code drop, change or lock a table?"), Verdict.LEARNER
    return unusable_answer(err, returned), Verdict.UNUSABLE_ANSWER


def unusable_answer(err: BaseException, returned: Returned | None) -> str:
    """What to fix when the check's code could not use the learner's answer: which function returned
    what, and what its signature promised."""
    reason = f"{type(err).__name__}: {one_line(err)}" if one_line(err) else type(err).__name__
    if returned is None:
        return f"the check could not use what your code left behind ({reason})"
    if returned.promised:
        return f"{returned.note()} ({reason})"
    return f"{returned.note()}, which the check could not use ({reason})"


def assertion_message(text: str) -> str:
    """The assertion's own message; for a bare ``assert``, pytest's short explanation.

    pytest's rewritten asserts raise ``"<message>\\nassert <explanation>"``: the message's own extra
    lines are indented, so the explanation starts at the first unindented ``assert`` line after it.
    """
    lines = text.splitlines() or [""]
    start = next((i for i in range(1, len(lines)) if lines[i].startswith("assert ")), None)
    if start is not None:
        message = "\n".join([lines[0], *(line.removeprefix("  ") for line in lines[1:start])])
        return message.strip()[:MESSAGE_CHARS]
    if not lines[0].startswith("assert"):
        return text.strip()[:MESSAGE_CHARS]  # AssertionError raised by hand, or an assert pytest did not rewrite
    shown = []
    for line in lines:
        line = line.strip().removeprefix("+").strip()
        if not line:
            continue
        if line.startswith(("Use -v", "Full diff", "Omitting")):
            break
        shown.append(line)
    return "; ".join(shown)[:MESSAGE_CHARS]


# -- the learner's work -----------------------------------------------------------------------

@pytest.fixture
def sub(request: pytest.FixtureRequest) -> Submission:
    """The learner's work: ``sub.call(function, *args)``, ``sub.run(code)``, ``sub.sql(query, params)``."""
    config = request.config
    given = config.stash.get(SUBMISSION, None)
    if given is None:
        running = config.stash.get(RUNNING_SUBMISSION, None)
        if running is None:
            pytest.fail("no learner's work to check: run pytest with --submission NOTEBOOK.ipynb", pytrace=False)
        given = running.submission()
    given.returned = None  # what an earlier check got back says nothing about this one
    return given


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    running = config.stash.get(RUNNING_SUBMISSION, None)
    if running is not None:
        for line in running.summary_lines():
            terminalreporter.write_line(line)


# -- running checks in this process -----------------------------------------------------------

class _Results:
    """Collects each check's result for :func:`run_here`, in the order pytest ran them."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.results: list[CheckResult] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SUBMISSION] = self.submission
        config.stash[PROVIDED] = True

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        if RESULT in item.stash:
            self.results.append(item.stash[RESULT])


class ChecksDidNotLoad(Exception):
    """A check module could not be imported or collected; ``str()`` is pytest's report."""


def run_here(files: list[Path], submission: Submission) -> list[CheckResult]:
    """Run the checks in ``files`` in this process against ``submission`` (the learner's kernel)."""
    collector = _Results(submission)
    existing = [str(f) for f in files if f.is_file()]
    if not existing:
        return []
    report = io.StringIO()
    with contextlib.redirect_stdout(report), contextlib.redirect_stderr(report):
        code = pytest.main(library_arguments(existing), plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise ChecksDidNotLoad(errors_in_report(report.getvalue()) or f"pytest exit status {int(code)}")
    return collector.results


def errors_in_report(report: str) -> str:
    """pytest's own error lines from its report (a usage error, a module that does not import)."""
    lines = [line for line in report.splitlines() if line.startswith(("E ", "ERROR", "INTERNALERROR"))]
    return one_line(" ".join(lines[-3:]))


def library_arguments(files: list[str]) -> list[str]:
    """pytest as a library: quiet, no cache folder, captured output, none of the project's addopts."""
    return ["-q", "-p", "pglab", "-p", "no:cacheprovider", "-p", "no:faulthandler", "-o", "addopts=",
            "--capture=sys", "--no-header", "--import-mode=importlib", *files]
