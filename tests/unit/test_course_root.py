"""Due dates and extensions live in the gradebook of the course clone an instructor works in."""

from __future__ import annotations

from pathlib import Path

from pglab.grading.course_root import course_gradebook, nbgrader_course_folder
from pglab.settings import PROJECT_ROOT


def test_a_clone_with_the_courses_nbgrader_config_is_the_course_worked_in(tmp_path: Path) -> None:
    (tmp_path / "grader").mkdir()
    (tmp_path / "grader" / "nbgrader_config.py").write_text("c = get_config()\n")
    assert nbgrader_course_folder(tmp_path) == (tmp_path / "grader").resolve()
    assert course_gradebook(tmp_path) == (tmp_path / "grader" / "gradebook.db").resolve()


def test_elsewhere_it_is_the_installed_courses(tmp_path: Path) -> None:
    (tmp_path / "grader").mkdir()  # a grader/ folder that is not an nbgrader course
    assert course_gradebook(tmp_path) == PROJECT_ROOT / "grader" / "gradebook.db"
    assert course_gradebook(tmp_path / "nowhere") == PROJECT_ROOT / "grader" / "gradebook.db"
