"""``pglab grade --source``: plain nbgrader assignments graded by their own test cells, nbgrader's way.

Every comparison here is against real ``nbgrader autograde`` on the same submissions: nbgrader's own
user-guide course (``ps1``, shipped inside the installed nbgrader package, used from there), and
small assignments written here in its spirit (restored test and locked cells, hidden tests, partial
credit, an endless loop, side-effect files, a SQL assignment whose first learner drops a table).
The outcomes must be nbgrader's, except where pglab's sandbox and fresh database per notebook make
learners independent of each other.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from pglab.grading.batch import grade_folder
from pglab.grading.database_copies import RunClaim, create_submission_database, drop_submission_database
from pglab.grading.kernel_session import Limits

USER_GUIDE = Path(__import__("nbgrader").__file__).parent / "docs" / "source" / "user_guide"
CELL_TIMEOUT_S = 4
LIMITS = Limits(cell_timeout_s=CELL_TIMEOUT_S, call_timeout_s=CELL_TIMEOUT_S, submission_timeout_s=60)

Scores = dict[tuple[str, str], tuple[float, dict[str, float | None]]]  # (student, notebook) -> total, cells


def nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> None:
    env = dict(env or os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # its alembic
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def nbgrader_course(root: Path, source: Path, submitted: Path) -> Path:
    """A scratch nbgrader course: its source/ and submitted/ copied from elsewhere, a config that
    times a cell out like pglab does."""
    course = root / "nbgrader-course"
    shutil.copytree(source, course / "source")
    shutil.copytree(submitted, course / "submitted")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.Execute.timeout = {CELL_TIMEOUT_S}\n"
        "c.CourseDirectory.root = __file__.rsplit('/', 1)[0]\n")
    return course


def autograde_with_nbgrader(course: Path, assignment: str, env: dict[str, str] | None = None) -> Scores:
    nbgrader(course, "generate_assignment", assignment, "--force", env=env)
    nbgrader(course, "autograde", assignment, "--force", env=env)
    return gradebook_scores(course / "gradebook.db", assignment)


def gradebook_scores(path: Path, assignment: str) -> Scores:
    found: Scores = {}
    with Gradebook(f"sqlite:///{path}") as gb:
        for submission in gb.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                found[(submission.student_id, notebook.name)] = (
                    float(notebook.score), {grade.name: grade.auto_score for grade in notebook.grades})
    return found


def grade_with_pglab(root: Path, source: Path, submitted: Path) -> tuple[Scores, Path]:
    out = root / "pglab-out"
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    summary = grade_folder(submitted, out, jobs=2, limits=LIMITS, progress=False, source=source)
    assert not summary.not_graded, summary.fault_line()
    assert {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()} == before, "submissions modified"
    scores: Scores = {}
    for assignment in sorted(p.name for p in source.iterdir() if p.is_dir()):
        scores.update(gradebook_scores(out / "gradebook.db", assignment))
    return scores, out


def assert_same_scores(got: Scores, expected: Scores) -> None:
    assert set(got) == set(expected)
    for key in sorted(expected):
        assert got[key] == expected[key], f"{key}: pglab {got[key]}, nbgrader autograde {expected[key]}"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_nbgraders_user_guide_course_gets_nbgraders_scores(course_database, tmp_path: Path) -> None:
    """ps1 with bitdiddle's and hacker's submissions, as nbgrader's documentation grades them."""
    source = tmp_path / "source"
    shutil.copytree(USER_GUIDE / "source" / "ps1", source / "ps1")
    submitted = USER_GUIDE / "submitted"
    course = nbgrader_course(tmp_path, source, submitted)
    expected = autograde_with_nbgrader(course, "ps1")
    assert set(expected) == {(s, n) for s in ("bitdiddle", "hacker") for n in ("problem1", "problem2")}

    got, out = grade_with_pglab(tmp_path, source, submitted)
    assert_same_scores(got, expected)
    assert any(auto is None for _, cells in got.values() for auto in cells.values()), "no hand-graded cell"
    totals = {(r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"]))
              for r in csv_rows(out / "grades.csv")}
    assert totals == {(s, "ps1"): (sum(expected[(s, n)][0] for n in ("problem1", "problem2")), 13.0)
                      for s in ("bitdiddle", "hacker")}
    rows = [r for r in csv_rows(out / "checks.csv") if r["notebook"] == "problem1" and r["student_id"] == "hacker"]
    assert {r["check"] for r in rows if r["check"] != "(notebook)"} == set(expected[("hacker", "problem1")][1])
    assert (out / "feedback" / "hacker" / "ps1" / "problem1.html").is_file()
