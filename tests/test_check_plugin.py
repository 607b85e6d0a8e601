"""The challenge checks are plain pytest: ``pytest CHECKS --submission NOTEBOOK`` for every challenge.

A learner's notebook from the grading corpus is executed in the grading sandbox against its own
copy of the course database, and pytest runs the challenge's visible and hidden checks against it:
the reference answer passes all of them (exit 0), a wrong answer fails the checks the corpus says
it fails, with their messages (exit 1). The messages themselves come from the plugin's reading of
pytest's assertion report, tested here on live rewritten asserts.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pglab.checks import layout
from pglab.checks.plugin import run_here
from pglab.checks.submission import LocalSubmission
from pglab.errors import ChecksDoNotLoad
from pglab.grading.check_catalogue import check_catalogue
from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.settings import PROJECT_ROOT
from tests.corpus import CASES
from tests.corpus.case import Case

CHALLENGES = [c for notebooks in assignments().values() for c in notebooks]


def _correct(challenge: ChallengeNotebook) -> Case:
    return next(c for c in CASES if (c.assignment, c.notebook) == (challenge.assignment, challenge.notebook)
                and c.points == challenge.max_points() and c.raw is None and c.edit is None)


def _wrong(challenge: ChallengeNotebook) -> Case:
    return next(c for c in CASES if (c.assignment, c.notebook) == (challenge.assignment, challenge.notebook)
                and c.failing and c.reasons and not c.requires_root and not c.problem and c.edit is None)


def _pytest(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` as an instructor types it in the course folder."""
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout)


def _check_notebook(challenge: ChallengeNotebook, notebook: Path) -> subprocess.CompletedProcess[str]:
    files = [str(p.relative_to(PROJECT_ROOT)) for p in challenge.check_files()]
    return _pytest(*files, "--submission", str(notebook), "-q", timeout=600)


@pytest.fixture(scope="module")
def runs(course_database, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[tuple[str, str], subprocess.CompletedProcess[str]]:
    """Each challenge's correct and wrong notebook, through pytest, a few at a time."""
    root = tmp_path_factory.mktemp("plugin")
    todo = {}
    for challenge in CHALLENGES:
        for kind, case in (("correct", _correct(challenge)), ("wrong", _wrong(challenge))):
            todo[(challenge.notebook, kind)] = (challenge, case.write(root / kind))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(_check_notebook, challenge, path) for key, (challenge, path) in todo.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("challenge", CHALLENGES, ids=[c.notebook for c in CHALLENGES])
def test_a_correct_notebook_passes_every_check(runs, challenge: ChallengeNotebook) -> None:
    done = runs[(challenge.notebook, "correct")]
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert f"{len(challenge.checks())} passed" in output, output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("challenge", CHALLENGES, ids=[c.notebook for c in CHALLENGES])
def test_a_wrong_notebook_fails_with_the_checks_message(runs, challenge: ChallengeNotebook) -> None:
    case = _wrong(challenge)
    done = runs[(challenge.notebook, "wrong")]
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    failed = {line.split("::", 1)[1].split(" ", 1)[0] for line in output.splitlines()
              if line.startswith("FAILED ") and "::" in line}
    assert set(case.failing) <= failed, (case.failing, output[-3000:])
    for reason in case.reasons:
        assert reason in output, (reason, output[-3000:])


def test_checks_without_a_notebook_say_how_to_run_them() -> None:
    done = _pytest("grader/checks/core/test_beginner.py")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "with --submission NOTEBOOK.ipynb" in done.stderr, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_notebook_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "beginner.ipynb"
    broken.write_text("{ not json")
    done = _pytest("grader/checks/core/test_beginner.py", "--submission", str(broken))
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "is not valid notebook JSON" in done.stderr and "Traceback" not in done.stdout + done.stderr


CHECKS_OF_A_TINY_CHALLENGE = '''
import pytest


@pytest.fixture
def ten():
    return 10


@pytest.mark.points(1)
@pytest.mark.parametrize("n", [1, 2])
def test_doubles(sub, n):
    """doubles a number"""
    assert sub.call("double", n) == 2 * n, f"double({n}) is not {2 * n}"


@pytest.mark.points(2)
def test_bare_assert(sub, ten):
    assert sub.call("double", ten) == 21


@pytest.mark.points(1)
def test_reads_the_database(sub):
    assert sub.sql("SELECT count(*) > 0 AS some FROM products") == [{"some": True}]


@pytest.mark.points(1)
def test_learner_code_raises(sub):
    sub.call("broken")


@pytest.mark.points(1)
def test_an_error_in_the_checks_own_code(sub):
    {}["missing"]


@pytest.mark.points(1)
def test_uses_the_rows(sub):
    """returns the rows with their ids"""
    rows = sub.call("rows")
    assert [row["id"] for row in rows] == [1, 2], "return both rows, with their ids"


@pytest.fixture
def own_rows(sub):
    yield
    sub.sql("DELETE FROM no_such_table")  # a clean-up that fails


@pytest.mark.points(1)
def test_passes_but_cannot_clean_up(sub, own_rows):
    assert True
'''

# What learners really return instead of a list of rows, and what the check must then say
WRONG_RETURNS = {
    "forgets return": ("rows = [{'id': 1}, {'id': 2}]", "None (a function without `return` returns None)",
                       "TypeError: 'NoneType' object is not iterable"),
    "a dict": ("return {1: {'id': 1}, 2: {'id': 2}}", "a dict of 2 items", "TypeError"),
    "a generator": ("return ({'id': i} for i in (1, 2))", "a generator", "TypeError"),
    "a tuple of the wrong length": ("return ({'id': 1},)", "a tuple of 1 item", "return both rows"),
    "a string": ("return 'id 1, id 2'", "a str ('id 1, id 2')", "TypeError: string indices must be integers"),
}


def test_checks_run_in_the_learners_process_with_fixtures_parametrize_and_messages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, course_url: str) -> None:
    """The path of *Check your work* and of plain nbgrader: pytest in this very process."""
    monkeypatch.setattr(layout, "VISIBLE_CHECKS", tmp_path / "visible")
    monkeypatch.setattr(layout, "HIDDEN_CHECKS", tmp_path / "hidden")
    checks = tmp_path / "hidden" / "tiny" / "test_tiny.py"
    checks.parent.mkdir(parents=True)
    checks.write_text(CHECKS_OF_A_TINY_CHALLENGE)
    namespace: dict = {}
    exec("def double(x):\n    return 5 if x == 2 else 2 * x\n\ndef broken():\n    return 1 / 0\n\n"
         "def rows() -> list[dict]:\n    return [{'id': 1}, {'id': 2}]\n", namespace)
    sub = LocalSubmission(namespace, course_url)
    results = {r.name: r for r in run_here([checks], sub)}
    sub.close()
    assert list(results) == ["test_doubles[1]", "test_doubles[2]", "test_bare_assert", "test_reads_the_database",
                             "test_learner_code_raises", "test_an_error_in_the_checks_own_code", "test_uses_the_rows",
                             "test_passes_but_cannot_clean_up"]
    assert all(r.hidden for r in results.values()), "hidden follows from the file's folder"
    assert results["test_doubles[1]"].passed and results["test_doubles[1]"].description == "doubles a number [1]"
    assert (results["test_doubles[2]"].points, results["test_doubles[2]"].message) == (0.0, "double(2) is not 4")
    assert results["test_bare_assert"].max_points == 2
    assert results["test_bare_assert"].message.startswith("assert 20 == 21"), results["test_bare_assert"]
    assert results["test_reads_the_database"].passed
    assert results["test_learner_code_raises"].message == "your code raised ZeroDivisionError: division by zero"
    # never "a bug in the check": the grader runs every check on the reference solution first
    assert results["test_an_error_in_the_checks_own_code"].message == (
        "the check could not use what your code left behind (KeyError: 'missing')")
    assert results["test_uses_the_rows"].passed
    # a fixture's clean-up that fails fails the check, as a finally: in the check would
    cleanup = results["test_passes_but_cannot_clean_up"]
    assert cleanup.points == 0 and cleanup.message.startswith("the check's own query failed on your database "
                                                              "(UndefinedTable"), cleanup

    pointless = checks.with_name("test_pointless.py")
    pointless.write_text("def test_worth_nothing(sub):\n    pass\n")
    with pytest.raises(ChecksDoNotLoad, match=r"a check needs its points, e\.g\. @pytest\.mark\.points\(2\)"):
        run_here([pointless], LocalSubmission(namespace, course_url))


@pytest.mark.parametrize("body", WRONG_RETURNS, ids=list(WRONG_RETURNS))
def test_a_wrong_return_value_is_the_learners_with_what_came_back(
        body: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, course_url: str) -> None:
    """Whether the check asserted or its own code raised on the value, the learner gets 0 and a
    message naming the function, what it returned and what its signature promised."""
    code, what, reason = WRONG_RETURNS[body]
    monkeypatch.setattr(layout, "VISIBLE_CHECKS", tmp_path / "visible")
    monkeypatch.setattr(layout, "HIDDEN_CHECKS", tmp_path / "hidden")
    checks = tmp_path / "visible" / "tiny" / "test_tiny.py"
    checks.parent.mkdir(parents=True)
    checks.write_text(CHECKS_OF_A_TINY_CHALLENGE)
    namespace: dict = {}
    exec(f"def rows() -> list[dict]:\n    {code}\n", namespace)
    sub = LocalSubmission(namespace, course_url)
    try:
        (result,) = [r for r in run_here([checks], sub) if r.name == "test_uses_the_rows"]
    finally:
        sub.close()
    assert result.points == 0 and not result.hidden
    assert result.message.startswith("return both rows") or result.message.startswith(f"rows returned {what}"), result
    assert f"rows returned {what}; the check expected list[dict]" in result.message, result.message
    assert reason in result.message, result.message


def test_a_check_module_that_does_not_load_stops_grading_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "VISIBLE_CHECKS", tmp_path / "visible")
    monkeypatch.setattr(layout, "HIDDEN_CHECKS", tmp_path / "hidden")
    broken = tmp_path / "hidden" / "tiny" / "test_tiny.py"
    broken.parent.mkdir(parents=True)
    broken.write_text("import pytest\n\n@pytest.mark.points(1)\ndef test_typo(sub)\n    pass\n")
    with pytest.raises(ChecksDoNotLoad, match=r"could not be collected \(.*SyntaxError.*run `pytest --collect-only "):
        check_catalogue()
