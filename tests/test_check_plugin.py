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

from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.grading.pytest_plugin import assertion_message
from pglab.settings import PROJECT_ROOT
from tests.corpus.case import Case
from tests.test_grading_corpus import CASES

CHALLENGES = [c for notebooks in assignments().values() for c in notebooks]


def _correct(challenge: ChallengeNotebook) -> Case:
    return next(c for c in CASES if (c.assignment, c.notebook) == (challenge.assignment, challenge.notebook)
                and c.points == challenge.max_points() and c.raw is None and c.edit is None)


def _wrong(challenge: ChallengeNotebook) -> Case:
    return next(c for c in CASES if (c.assignment, c.notebook) == (challenge.assignment, challenge.notebook)
                and c.failing and c.reasons and not c.requires_root and not c.problem and c.edit is None)


def _pytest(challenge: ChallengeNotebook, notebook: Path) -> subprocess.CompletedProcess[str]:
    files = [str(p.relative_to(PROJECT_ROOT)) for p in challenge.check_files()]
    return subprocess.run([sys.executable, "-m", "pytest", *files, "--submission", str(notebook),
                           "-p", "no:cacheprovider", "-q"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)


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
        futures = {key: pool.submit(_pytest, challenge, path) for key, (challenge, path) in todo.items()}
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
    done = subprocess.run([sys.executable, "-m", "pytest", "grader/checks/core/test_beginner.py", "-p",
                           "no:cacheprovider"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "with --submission NOTEBOOK.ipynb" in done.stderr, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_notebook_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "beginner.ipynb"
    broken.write_text("{ not json")
    done = subprocess.run([sys.executable, "-m", "pytest", "grader/checks/core/test_beginner.py", "--submission",
                           str(broken), "-p", "no:cacheprovider"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "is not valid notebook JSON" in done.stderr and "Traceback" not in done.stdout + done.stderr


def test_the_message_is_the_assertions_own() -> None:
    got = [1, 2]
    with pytest.raises(AssertionError) as raised:
        assert got == [1, 3], "the second item is wrong:\nuse the price, not the id"
    assert assertion_message(str(raised.value)) == "the second item is wrong:\nuse the price, not the id"


def test_a_bare_assert_gets_pytests_short_explanation() -> None:
    got = [1, 2]
    with pytest.raises(AssertionError) as raised:
        assert len(got) == 3
    assert assertion_message(str(raised.value)) == "assert 2 == 3; where 2 = len([1, 2])"
    with pytest.raises(AssertionError) as raised:
        assert {"a": 1} == {"a": 2}
    assert assertion_message(str(raised.value)).startswith("assert {'a': 1} == {'a': 2}; ")
