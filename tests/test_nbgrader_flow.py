"""The standard nbgrader commands on this course: release, autograde, feedback, export.

Instructors who prefer nbgrader's own commands get the same points (the hidden part of each graded
cell calls the same checks, inside the kernel) and feedback that does not show the hidden tests.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus.case import with_answer
from tests.corpus.cases_core import SEED_ADVANCED, SEED_BEGINNER, SEED_INTERMEDIATE


def _nbgrader(course: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course / "grader", env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_release_submit_autograde_feedback_export(project_root: Path, course_url: str, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(project_root / "solutions", course / "solutions", ignore=shutil.ignore_patterns("extra"))
    (course / "grader").mkdir()
    shutil.copy(project_root / "grader" / "nbgrader_config.py", course / "grader")
    env = dict(os.environ, DATABASE_URL=course_url,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    _nbgrader(course, "generate_assignment", "core", "--force", env=env)

    answers = {"beginner": SEED_BEGINNER, "intermediate": SEED_INTERMEDIATE, "advanced": SEED_ADVANCED}
    submission = course / "grader" / "submitted" / "alice" / "core"
    submission.mkdir(parents=True)
    for name, answer in answers.items():
        nb = with_answer(course / "notebooks" / "challenges" / "core" / f"{name}.ipynb", answer)
        (submission / f"{name}.ipynb").write_text(json.dumps(nb))
    (submission / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    bob = course / "grader" / "submitted" / "bob" / "core"
    shutil.copytree(course / "notebooks" / "challenges" / "core", bob)  # the untouched release

    _nbgrader(course, "autograde", "core", "--force", env=env)
    _nbgrader(course, "generate_feedback", "core", "--force", env=env)
    _nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"), env=env)

    with (tmp_path / "grades.csv").open() as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores == {"alice": 32.0, "bob": 0.0}
    for page in (course / "grader" / "feedback" / "alice" / "core").glob("*.html"):
        html = page.read_text()
        assert "nbgrader_score" not in html and "BEGIN HIDDEN" not in html, f"{page} shows the hidden tests"
    assert len(list((course / "grader" / "feedback" / "alice" / "core").glob("*.html"))) == 3


@pytest.mark.slow
def test_learner_self_check_says_what_to_fix_without_naming_hidden_checks(course_url: str, tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    from pglab.grading.course_layout import RELEASE

    def run(answer: str | None) -> str:
        nb = nbformat.read(RELEASE / "core" / "beginner.ipynb", as_version=4)
        keep = []
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id == "answer" and answer is not None:
                cell.source = answer
            if cell.cell_type == "code" and grade_id in ("setup", "answer", "self_check"):
                keep.append(cell)
        nb.cells = keep
        saved = dict(os.environ)
        os.environ["DATABASE_URL"] = course_url
        try:
            NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")

    stub = run(None)
    assert "0 of 1 visible checks pass" in stub and "what to fix" in stub and "NotImplementedError" in stub
    done = run(SEED_BEGINNER)
    assert "1 of 1 visible checks pass" in done and "All visible checks pass" in done
    for hidden_name in ("exactly at min_price", "parameters", "empty"):
        assert hidden_name not in done and hidden_name not in stub
