"""Every lesson notebook executes top to bottom, twice in one kernel, against a fresh database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pglab import course_db
from pglab.settings import PROJECT_ROOT, load_settings
from tests.conftest import clean_environ
from tests.notebook_runner import error_outputs, run_notebook_twice

LESSONS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_lessons_are_numbered_one_per_part() -> None:
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(numbers) + 1)), [p.name for p in LESSONS]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_twice_without_errors(notebook: Path, course_url: str, tmp_path: Path) -> None:
    course_db.reset_course_database(course_url, load_settings().data_dir)
    env = clean_environ(DATABASE_URL=course_url, MPLBACKEND="Agg",
                        PGLAB_HOME=os.environ.get("PGLAB_HOME", ""),
                        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                        PGLAB_NOTEBOOK_SCALE="1")
    first = run_notebook_twice(notebook, env)
    assert error_outputs(first) == []
