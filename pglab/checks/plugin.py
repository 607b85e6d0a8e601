"""pytest runs the course's checks: the ``sub`` fixture, points, and each test's outcome as a check result.

pytest loads this module through the ``pytest11`` entry point ``pglab`` in ``pyproject.toml``. A
*check* is a test in a module under ``pglab/challenge_checks/`` (visible: learners run it too) or
``grader/checks/`` (hidden): where the file lives says which, and ``<assignment>/test_<notebook>.py``
says which challenge it checks (:mod:`pglab.checks.layout`). A check is plain pytest::

    @pytest.mark.points(2)
    def test_empty_range(sub):
        \"\"\"returns [] when no product is in range\"\"\"   # the line learners read in their feedback
        got = sub.call("get_products_in_price_range", 99_999.0, 99_999.5)
        assert got == [], f"with no products in range, return an empty list, not {got!r}"

``sub`` is the learner's work (:class:`~pglab.checks.submission.Submission`), put in the config's
stash by whoever runs pytest: the learner's *Check your work* cell and plain ``nbgrader autograde``
(:func:`run_here`, in the learner's kernel), ``pglab grade``'s check runners, or the grader's
``--submission NOTEBOOK`` option (a plugin of its own, ``pglab.grading.submission_option``). Each
outcome becomes a :class:`~pglab.checks.results.CheckResult` whose message says what to fix
(:mod:`pglab.checks.verdicts`).

Nothing here imports the grader, zmq or jupyter_client: the module is loaded in learners' kernels.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Generator
from pathlib import Path

import pytest

from pglab.checks.layout import is_check_file, is_hidden
from pglab.checks.results import CheckInfo, CheckResult, result_of
from pglab.checks.submission import Submission
from pglab.checks.verdicts import explain
from pglab.errors import ChecksDoNotLoad, GraderFault, one_line
from pglab.messages import Blame

INFO = pytest.StashKey[CheckInfo]()  # set at collection on every check (and only on checks)
RESULT = pytest.StashKey[CheckResult]()
FAULT = pytest.StashKey[GraderFault]()  # the grader failed under a check: the notebook is not graded
SUBMISSION = pytest.StashKey[Submission]()  # set by whoever runs pytest with a submission in hand
PROVIDED = pytest.StashKey[bool]()  # whoever runs pytest will set SUBMISSION before each check
SUBMISSION_PLUGIN = "pglab_submission"  # the grader's --submission option: never loaded in a learner's kernel


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

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): what a pglab challenge check is worth (partial credit)")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not is_check_file(Path(str(item.path))):
            continue
        marker = item.get_closest_marker("points")
        if marker is None or not marker.args or not isinstance(marker.args[0], (int, float)) or marker.args[0] <= 0:
            raise pytest.UsageError(f"{item.nodeid}: a check needs its points, e.g. @pytest.mark.points(2)")
        item.stash[INFO] = check_info(item, marker.args[0])


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Checks need a learner's work: say how to give one, rather than fail every check.

    Here, not at collection: pytest runs ``pytest_collection_finish`` even when collection failed,
    and this line would hide the real error (a notebook that does not load)."""
    config = session.config
    if config.option.collectonly or SUBMISSION in config.stash or config.stash.get(PROVIDED, False):
        return
    if any(INFO in item.stash for item in session.items):
        raise pytest.UsageError("these are pglab checks: run them against a learner's notebook, "
                                "with --submission NOTEBOOK.ipynb")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each check's result; a learner-side failure is reported by its message, not a traceback.

    A fixture's clean-up that fails (the rows a check arranged cannot be removed: the learner's code
    holds a lock) fails a check that had passed, as a ``finally:`` in the check itself would.
    """
    report = yield
    info = item.stash.get(INFO, None)
    if info is None:  # not a check: a test of some other project pytest runs
        return report
    torn = report.when == "teardown" and report.failed and RESULT in item.stash and item.stash[RESULT].passed
    if report.when == "call" or (report.when == "setup" and not report.passed) or torn:
        if report.passed:
            item.stash[RESULT] = result_of(info, info.points, "passed")
        else:
            sub = getattr(item, "funcargs", {}).get("sub")
            why = explain(call.excinfo, sub.returned if isinstance(sub, Submission) else None)
            item.stash[RESULT] = result_of(info, 0.0, why.message)
            if why.blame is Blame.GRADER and call.excinfo is not None and isinstance(call.excinfo.value, GraderFault):
                item.stash[FAULT] = call.excinfo.value
            elif report.failed and report.when == "call":  # pytest's report says what to fix, as the feedback does
                report.longrepr = (f"{why.message}\n\nwhere the check's code stopped:\n{report.longrepr}"
                                   if why.in_check_code else why.message)
    return report


# -- the learner's work -----------------------------------------------------------------------

@pytest.fixture
def sub(request: pytest.FixtureRequest) -> Submission:
    """The learner's work: ``sub.call(function, *args)``, ``sub.run(code)``, ``sub.sql(query, params)``."""
    config = request.config
    given = config.stash.get(SUBMISSION, None)
    if given is None:
        pytest.fail("no learner's work to check: run pytest with --submission NOTEBOOK.ipynb", pytrace=False)
    given.returned = None  # what an earlier check got back says nothing about this one
    return given


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

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object,
                                                                                                   object]:
        outcome = yield  # set-up, call and tear-down: a clean-up that fails may still fail the check
        if RESULT in item.stash:
            self.results.append(item.stash[RESULT])
        return outcome


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
        raise ChecksDoNotLoad(errors_in_report(report.getvalue()) or f"pytest exit status {int(code)}")
    return collector.results


def errors_in_report(report: str) -> str:
    """pytest's own error lines from its report (a usage error, a module that does not import)."""
    lines = [line for line in report.splitlines() if line.startswith(("E ", "ERROR", "INTERNALERROR"))]
    return one_line(" ".join(lines[-3:]))


def library_arguments(files: list[str]) -> list[str]:
    """pytest as a library: quiet, no cache folder, captured output, none of the project's addopts,
    and no plugin but ours: whatever else the environment installed is loaded, and its modules
    assertion-rewritten, at every start otherwise (anyio's alone: 0.17 s of a check runner's 0.4 s)."""
    return ["-q", "--disable-plugin-autoload", "-p", "pglab", "-p", f"no:{SUBMISSION_PLUGIN}",
            "-p", "no:cacheprovider", "-p", "no:faulthandler",
            "-o", "addopts=",
            "--capture=sys", "--no-header", "--import-mode=importlib", *files]
