"""`pglab bundle`: the learner copy has the course and nothing instructor-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.environment import clean_environ
from tests.support.lessons import exercise_cells, reference_answers


def _bundle(target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pglab.cli", "bundle", str(target)],
                          env=clean_environ(), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def learner_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("bundle") / "learner-copy"
    done = _bundle(target)
    assert done.returncode == 0, done.stderr
    return target


def test_bundle_has_the_course_and_no_instructor_material(learner_copy: Path, project_root: Path) -> None:
    target = learner_copy
    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    for needed in ("README.md", "pyproject.toml", "Makefile", "data/products.csv", "data/schema.sql",
                   "pglab/cli.py", "pglab/learner/challenge_setup.py", "docker-compose.yml", "environment.yml"):
        assert needed in files, needed
    assert any(f.startswith("notebooks/challenges/core/") for f in files)
    assert any(f.startswith("pglab/challenge_checks/core/test_") for f in files), "visible checks ship"
    assert not any(f.startswith(("solutions/", "grader/", "tests/", ".git/")) for f in files)
    for path in target.rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py", ".md", ".csv", ".db"):
            text = path.read_bytes()
            assert b"BEGIN HIDDEN TESTS" not in text and b"### BEGIN SOLUTION" not in text, path
    assert not list(target.rglob("gradebook*.db"))
    # Learners get the learner guide as their README, and no instructor guide.
    assert (target / "README.md").read_text() == (project_root / "docs" / "learner-guide.md").read_text()
    assert not (target / "docs" / "instructor-guide.md").exists()


def test_bundle_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep me")
    done = _bundle(tmp_path)
    assert done.returncode == 1 and "not empty" in done.stderr
    assert (tmp_path / "x").read_text() == "keep me"


def test_make_test_in_a_bundle_says_it_needs_the_full_course(learner_copy: Path) -> None:
    done = subprocess.run(["make", "test"], cwd=learner_copy, env=clean_environ(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "make test needs the full course" in done.stdout
    assert not (learner_copy / ".venv").exists(), "nothing is installed for a suite that is not there"


def test_bundle_has_the_exercises_but_not_their_reference_answers(learner_copy: Path, project_root: Path) -> None:
    import nbformat


    assert not (learner_copy / "grader").exists()
    exercises = learner_copy / "pglab" / "learner" / "exercises.py"
    assert exercises.is_file(), "the exercise checks run in the learner's kernel"
    lessons = sorted((learner_copy / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(lessons) == 9

    def normalized(text: str) -> str:
        return " ".join(text.split())

    notebooks = {lesson: nbformat.read(lesson, as_version=4) for lesson in lessons}
    shipped = " ".join(normalized(p.read_text(encoding="utf-8", errors="replace"))
                       for p in learner_copy.rglob("*") if p.is_file() and p.suffix in (".py", ".md"))
    shipped += " ".join(normalized(c.source) for nb in notebooks.values() for c in nb.cells)
    for lesson, nb in notebooks.items():
        answers = reference_answers(project_root / "notebooks" / lesson.name)
        for number, (starter, _, _) in exercise_cells(nb).items():
            source = nb.cells[starter].source
            assert "NotImplementedError" in source or "= ..." in source, f"{lesson.name} {number}: not a starter"
            assert normalized(answers[number]) not in shipped, f"the answer to Exercise {number} is in the bundle"
