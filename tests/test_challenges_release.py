"""The student release is generated from solutions/ by nbgrader and kept in step with it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pglab.grading.course_layout import RELEASE, SOURCE, assignments
from pglab.grading.notebook_cells import nbgrader_meta


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.slow
def test_committed_release_matches_a_fresh_nbgrader_release(project_root: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(project_root / "solutions", course / "solutions")
    (course / "grader").mkdir()
    shutil.copy(project_root / "grader" / "nbgrader_config.py", course / "grader")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for name in assignments():
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
             f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}"],
            cwd=course / "grader", env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
    fresh = course / "notebooks" / "challenges"
    for generated in sorted(fresh.rglob("*.ipynb")):
        committed = RELEASE / generated.relative_to(fresh)
        assert committed.is_file(), f"{committed} is missing: run `make release` and commit it"
        assert committed.read_text() == generated.read_text(), f"{committed} is stale: run `make release`"
    committed_names = {p.relative_to(RELEASE) for p in RELEASE.rglob("*.ipynb")}
    assert committed_names == {p.relative_to(fresh) for p in fresh.rglob("*.ipynb")}


def test_release_keeps_signatures_and_hides_solutions_and_checks() -> None:
    for assignment, notebooks in assignments().items():
        for challenge in notebooks:
            released = _cells(challenge.release)
            text = json.dumps(released)
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
            assert "pglab.learner.nbgrader_score" not in text, "the hidden grading call leaked into the release"
            source_answer = next(c for c in _cells(challenge.source) if nbgrader_meta(c).get("grade_id") == "answer")
            release_answer = next(c for c in released if nbgrader_meta(c).get("grade_id") == "answer")
            first_line = _source(source_answer).splitlines()[0]
            assert first_line.startswith(("def ", "class ")), f"{assignment}/{challenge.notebook}"
            assert _source(release_answer).splitlines()[0] == first_line
            assert "raise NotImplementedError()" in _source(release_answer)


def test_points_in_notebooks_equal_the_checks_points() -> None:
    for notebooks in assignments().values():
        for challenge in notebooks:
            graded = [nbgrader_meta(c) for c in _cells(challenge.source) if nbgrader_meta(c).get("grade")]
            assert len(graded) == 1, f"{challenge.source}: one graded cell per notebook"
            assert graded[0]["points"] == challenge.max_points(), challenge.source
            visible = [c for c in challenge.checks(include_hidden=False)]
            assert visible and all(not c.hidden for c in visible), "each challenge has visible checks"
            assert any(c.hidden for c in challenge.checks()), "each challenge has hidden checks"


def test_every_source_notebook_has_a_release() -> None:
    sources = {p.relative_to(SOURCE) for p in SOURCE.rglob("*.ipynb")}
    assert sources == {p.relative_to(RELEASE) for p in RELEASE.rglob("*.ipynb")}
