"""Feedback back to learners through nbgrader's real exchange, on one machine, without a hub.

A small class: the instructor releases ``core`` with nbgrader's own commands; two learners, each
with their own home and nbgrader cache, fetch it and submit (alice answers the beginner challenge,
bob hands it in as released); the instructor collects, grades with ``pglab grade`` and runs
``pglab release-feedback core``. Each learner's ``nbgrader fetch_feedback core`` then brings their
own pages, with their score and without the hidden checks' code, and nothing of the other's. alice
submits again; until it is graded her feedback is held back, and once graded the new page is
released and fetched beside the old one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus.case import with_answer
from tests.corpus.cases_core import SEED_BEGINNER, SEED_INTERMEDIATE
from tests.support.environment import clean_environ

COURSE_ID = "pglab"  # grader/nbgrader_config.py's course id


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


class Learner:
    """A learner with their own home (where the Assignments panel fetches to) and nbgrader cache."""

    def __init__(self, name: str, root: Path, exchange: Path) -> None:
        self.name, self.home, self.exchange = name, root / name, exchange
        self.home.mkdir()
        self.env = clean_environ(HOME=str(self.home))
        self.env.pop("PGLAB_EXCHANGE", None)
        self.env.pop("PGLAB_ADMIN_URL", None)

    def nbgrader(self, *args: str, student: str = "") -> str:
        """An nbgrader command as this learner (``student``: under another learner's id)."""
        return _run([sys.executable, "-m", "nbgrader", *args, f"--course={COURSE_ID}",
                     f"--student={student or self.name}",
                     f"--Exchange.root={self.exchange}", f"--Exchange.cache={self.home / '.nbgrader_cache'}"],
                    self.home, self.env)

    def answer(self, notebook: str, answer: str) -> None:
        path = self.home / "core" / f"{notebook}.ipynb"
        path.write_text(json.dumps(with_answer(path, answer)))

    def feedback(self) -> dict[str, dict[str, str]]:
        """Submission timestamp -> notebook -> the fetched page."""
        root = self.home / "core" / "feedback"
        return {stamp.name: {page.stem: page.read_text() for page in stamp.glob("*.html")}
                for stamp in sorted(root.iterdir())} if root.is_dir() else {}


def _score(page: str) -> str:
    found = re.search(r"Score: <b>([^<]*)</b>", page)
    assert found, page[:500]
    return found.group(1)


@pytest.mark.slow
def test_feedback_goes_back_through_the_exchange(project_root: Path, course_url: str, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(project_root / "solutions" / "core", course / "solutions" / "core")
    (course / "grader").mkdir()
    shutil.copy(project_root / "grader" / "nbgrader_config.py", course / "grader")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    teacher = dict(os.environ, PGLAB_EXCHANGE=str(exchange),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    grader = course / "grader"
    _run([sys.executable, "-m", "nbgrader", "generate_assignment", "core", "--force"], grader, teacher)
    _run([sys.executable, "-m", "nbgrader", "release_assignment", "core"], grader, teacher)

    alice, bob = (Learner(name, tmp_path, exchange) for name in ("alice", "bob"))
    for learner in (alice, bob):
        learner.nbgrader("fetch_assignment", "core")
    alice.answer("beginner", SEED_BEGINNER)
    for learner in (alice, bob):
        learner.nbgrader("submit", "core")

    def collect_grade_release() -> str:
        _run([sys.executable, "-m", "nbgrader", "collect", "--update", "core"], grader, teacher)
        _run([sys.executable, "-m", "pglab.cli", "grade", "grader/submitted", "--out", "grader/grades", "--quiet"],
             course, teacher)
        return _run([sys.executable, "-m", "pglab.cli", "release-feedback", "core"], course, teacher)

    released = collect_grade_release()
    assert "released 6 feedback page(s) of 2 learner(s) on core" in released, released
    # nbgrader's outbound feedback folder: nobody but the instructor may list it, so a page is reached
    # only by the name hashed from the submission's secret.
    outbound = exchange / COURSE_ID / "feedback"
    assert stat.S_IMODE(outbound.stat().st_mode) & 0o044 == 0, oct(outbound.stat().st_mode)
    assert len(list(outbound.glob("*.html"))) == 6

    for learner in (alice, bob):
        learner.nbgrader("fetch_feedback", "core")
    (first_stamp, first), = alice.feedback().items()
    (bob_stamp, bob_pages), = bob.feedback().items()
    assert sorted(first) == sorted(bob_pages) == ["advanced", "beginner", "intermediate"]
    assert _score(first["beginner"]) == "10 / 10" and _score(bob_pages["beginner"]).startswith("0 / ")
    assert _score(first["intermediate"]).startswith("0 / ")
    for page in [*first.values(), *bob_pages.values()]:
        assert "hidden check" in page  # hidden checks appear by their description only, never their code
        assert "zz-grader-" not in page and "grader probe" not in page and "def test_" not in page
    assert first["beginner"] != bob_pages["beginner"]
    assert first["beginner"] == (grader / "grades" / "feedback" / "alice" / "core" / "beginner.html").read_text()

    # bob asking for alice's feedback gets his own again: his cache holds only his submission's secret.
    shutil.rmtree(bob.home / "core" / "feedback")
    bob.nbgrader("fetch_feedback", "core", student="alice")
    assert bob.feedback() == {bob_stamp: bob_pages}

    # alice submits again; until that submission is graded her old page is not released under it.
    alice.answer("intermediate", SEED_INTERMEDIATE)
    alice.nbgrader("submit", "core")
    _run([sys.executable, "-m", "nbgrader", "collect", "--update", "core"], grader, teacher)
    held = subprocess.run([sys.executable, "-m", "pglab.cli", "release-feedback", "core", "--student", "alice"],
                          cwd=course, env=teacher, capture_output=True, text=True, timeout=600)
    assert held.returncode == 1 and "alice's feedback was not released" in held.stderr, held
    assert "run `pglab grade` again first" in held.stderr and "Traceback" not in held.stderr
    assert len(list(outbound.glob("*.html"))) == 6

    released = collect_grade_release()
    assert "released 6 feedback page(s) of 2 learner(s)" in released, released
    alice.nbgrader("fetch_feedback", "core")
    pages = alice.feedback()
    assert len(pages) == 2 and pages[first_stamp] == first, "the first submission's feedback changed"
    (second_stamp,) = set(pages) - {first_stamp}
    second = pages[second_stamp]
    assert _score(second["beginner"]) == "10 / 10" and not _score(second["intermediate"]).startswith("0 / ")
    assert second["intermediate"] == (grader / "grades" / "feedback" / "alice" / "core" / "intermediate.html"
                                      ).read_text()
    assert bob_stamp != second_stamp
