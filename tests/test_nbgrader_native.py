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
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from pglab.errors import PglabError
from pglab.grading.batch import grade_folder
from pglab.grading.course_layout import RELEASE, SOURCE
from pglab.grading.database_copies import RunClaim, create_submission_database, drop_submission_database
from pglab.grading.timeouts import Limits
from tests.corpus.case import with_answer
from tests.corpus.cases_core import SEED_BEGINNER
from tests.support.nbgrader_course import CHEAPEST, SHOP_LEARNERS, cell, notebook, submit

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


SQUARES = notebook(
    cell("markdown", "# Squares\n\nWrite `square(x)`."),
    cell("code", 'with open("data.txt") as f:\n    GREETING = f.read().strip()', "setup", locked=True),
    cell("code", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION", "answer",
         solution=True),
    cell("code", "assert square(3) == 9", "test_visible", grade=True, points=1),
    cell("code", 'assert square(2) == 4\n### BEGIN HIDDEN TESTS\nassert square(-5) == 25, "negative numbers"\n'
                 "### END HIDDEN TESTS", "test_hidden", grade=True, points=2),
    cell("code", "sum([square(1) == 1, square(-2) == 4]) * 1.0", "test_partial", grade=True, points=2),
    cell("code", 'assert GREETING == "hello from the source folder"', "test_setup", grade=True, points=1),
    cell("code", 'def write_note():\n    ### BEGIN SOLUTION\n    with open("note.txt", "w") as f:\n'
                 '        f.write("written")\n    ### END SOLUTION\nwrite_note()', "answer_note", solution=True),
    cell("code", 'assert open("note.txt").read() == "written"', "test_side_effect", grade=True, points=1),
    cell("markdown", "Why do squares grow fast?", "question", locked=True),
    cell("markdown", "### BEGIN SOLUTION\nThey multiply.\n### END SOLUTION", "explain", solution=True, grade=True,
         points=1),
)
EXTRA_TEST = cell("code", "assert callable(get_products_in_price_range)", "test_extra", grade=True, points=1)
SQUARE = "def square(x):\n    return x * x"
NOTE = 'def write_note():\n    with open("note.txt", "w") as f:\n        f.write("written")\nwrite_note()'
# learner -> {grade_id: new source, or None to delete the cell}, applied to the released notebook
SQUARES_LEARNERS: dict[str, dict[str, str | None]] = {
    "unchanged": {},
    "correct": {"answer": SQUARE, "answer_note": NOTE, "explain": "Each step multiplies."},
    "cheater": {"answer": "def square(x):\n    return x + x", "answer_note": NOTE, "test_visible": "",
                "test_hidden": "pass", "setup": "GREETING = 'hacked'", "test_side_effect": None},
    "partial": {"answer": "def square(x):\n    return x * x if x >= 0 else -x * x", "answer_note": NOTE},
    "looper": {"answer": "def square(x):\n    while x == -5:\n        pass\n    return x * x", "answer_note": NOTE},
    "noisy": {"answer": "import sys\ndef square(x):\n    print('squaring', file=sys.stderr)\n    return x * x",
              "answer_note": NOTE},
}
class Graded:
    """One nbgrader course graded twice: by ``nbgrader autograde`` (one shared database, the
    instructor's process) and by ``pglab grade --source`` (a sandbox and a fresh database each)."""

    def __init__(self, root: Path, admin_url: str) -> None:
        source = root / "source"
        for assignment in ("ps1", "ps1_autotest"):
            shutil.copytree(USER_GUIDE / "source" / assignment, source / assignment)
        shutil.copy(USER_GUIDE / "autotests.yml", root)  # AUTOTEST templates at the course root
        for assignment, name, nb in (("basics", "squares", SQUARES), ("shop", "cheapest", CHEAPEST)):
            (source / assignment).mkdir()
            nbformat.write(nb, source / assignment / f"{name}.ipynb")
        (source / "basics" / "data.txt").write_text("hello from the source folder\n")
        mixed = nbformat.read(SOURCE / "core" / "beginner.ipynb", as_version=4)  # the course's checks, and
        mixed.cells.append(EXTRA_TEST)  # one test cell of nbgrader's own
        (source / "core").mkdir()
        nbformat.write(mixed, source / "core" / "beginner.ipynb")
        submitted = root / "submitted"
        shutil.copytree(USER_GUIDE / "submitted", submitted)
        course = nbgrader_course(root, source, submitted)
        shutil.copy(USER_GUIDE / "autotests.yml", course)
        nbgrader(course, "generate_assignment", "*", "--force")  # every assignment, one process
        for assignment, name, learners in (("basics", "squares", SQUARES_LEARNERS),
                                           ("shop", "cheapest", SHOP_LEARNERS)):
            for student, edits in learners.items():
                release = course / "release" / assignment / f"{name}.ipynb"
                submit(release, submitted, student, assignment, edits)
                submit(release, course / "submitted", student, assignment, edits)
        mixer = nbformat.from_dict(with_answer(RELEASE / "core" / "beginner.ipynb", SEED_BEGINNER))
        mixer.cells.append(EXTRA_TEST)
        for folder in (submitted, course / "submitted"):
            (folder / "mixer" / "core").mkdir(parents=True)
            nbformat.write(mixer, folder / "mixer" / "core" / "beginner.ipynb")
        for student, notebooks in (("solver", source / "ps1_autotest"), ("blank", course / "release" / "ps1_autotest")):
            for folder in (submitted, course / "submitted"):
                shutil.copytree(notebooks, folder / student / "ps1_autotest")
        self.pglab, self.out = grade_with_pglab(root, source, submitted)
        # nbgrader autograde on one shared database per command (a scratch copy of the course's, as
        # pglab makes them): the SQL homework on one, every other assignment on another
        claim = RunClaim(admin_url)
        try:
            for assignments in ("shop", "[!s]*"):
                shared = create_submission_database(admin_url, claim.label)
                try:
                    nbgrader(course, "autograde", assignments, "--force", env=dict(os.environ, DATABASE_URL=shared.url))
                finally:
                    drop_submission_database(admin_url, shared.name)
        finally:
            claim.close()
        self.nbgrader = {}
        for assignment in ("ps1", "ps1_autotest", "basics", "shop", "core"):
            self.nbgrader.update(gradebook_scores(course / "gradebook.db", assignment))
        self.course = course

    def of(self, students: object) -> tuple[Scores, Scores]:
        keys = {k for k in self.nbgrader if k[0] in students}  # type: ignore[operator]
        return {k: self.pglab[k] for k in keys}, {k: self.nbgrader[k] for k in keys}


@pytest.fixture(scope="module")
def graded(course_database, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    return Graded(tmp_path_factory.mktemp("nbgrader-native"), os.environ["PGLAB_ADMIN_URL"])


@pytest.mark.slow
def test_nbgraders_user_guide_course_gets_nbgraders_scores(graded: Graded) -> None:
    """ps1 with bitdiddle's and hacker's submissions, as nbgrader's documentation grades them."""
    got, expected = graded.of({"bitdiddle", "hacker"})
    assert set(expected) == {(s, n) for s in ("bitdiddle", "hacker") for n in ("problem1", "problem2")}
    assert_same_scores(got, expected)
    assert any(auto is None for _, cells in got.values() for auto in cells.values()), "no hand-graded cell"
    totals = {(r["student_id"], r["assignment"]): (float(r["score"]), float(r["max_score"]))
              for r in csv_rows(graded.out / "grades.csv")
              if r["assignment"] == "ps1" and r["student_id"] in ("bitdiddle", "hacker")}
    assert totals == {(s, "ps1"): (sum(expected[(s, n)][0] for n in ("problem1", "problem2")), 13.0)
                      for s in ("bitdiddle", "hacker")}
    rows = [r for r in csv_rows(graded.out / "checks.csv")
            if r["notebook"] == "problem1" and r["student_id"] == "hacker"]
    assert {r["check"] for r in rows if r["check"] != "(notebook)"} == set(expected[("hacker", "problem1")][1])
    assert (graded.out / "feedback" / "hacker" / "ps1" / "problem1.html").is_file()


@pytest.mark.slow
def test_formgrader_can_open_a_submission_to_grade_it_by_hand(graded: Graded) -> None:
    """OUT as nbgrader's course root: the graded notebook where formgrader looks for it, rendered by
    the exporter and template formgrader's submission view uses, and the gradebook rows it edits."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    path = graded.out / "autograded" / "hacker" / "ps1" / "problem1.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert any(cell.get("outputs") for cell in nb.cells), "the graded notebook has no outputs"
    with Gradebook(f"sqlite:///{graded.out / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook("problem1", "ps1", "hacker")
        to_grade = {grade.name for grade in submission.grades if grade.needs_manual_grade}
        comments = {comment.name for comment in submission.comments}
        resources = {"assignment_id": "ps1", "notebook_id": "problem1", "submission_id": submission.id,
                     "index": 0, "total": 1, "base_url": "", "student": "hacker", "last_name": None,
                     "first_name": None, "notebook_path": "/autograded/hacker/ps1/problem1.ipynb"}
    assert {"sum_of_squares_equation", "sum_of_squares_application"} <= to_grade
    assert "sum_of_squares_application" in comments  # the instructor's comment box
    exporter = HTMLExporter(template_name="formgrade", extra_template_basedirs=[handlers.template_path])
    html, _ = exporter.from_filename(str(path), resources=resources)
    assert "sum_of_squares_application" in html and "squares" in html


@pytest.mark.slow
def test_autotest_cells_are_instantiated_as_nbgrader_does(graded: Graded) -> None:
    """ps1_autotest (nbgrader's AUTOTEST example): its solution and its blank release."""
    got, expected = graded.of({"solver", "blank"})
    assert set(expected) == {(s, n) for s in ("solver", "blank") for n in ("problem1", "problem2")}
    assert_same_scores(got, expected)
    assert got[("solver", "problem1")][0] > got[("blank", "problem1")][0]


@pytest.mark.slow
def test_nbgrader_test_cells_and_the_course_checks_in_one_notebook(graded: Graded) -> None:
    """The course's beginner challenge (its checks run from outside the kernel by pglab, inside it
    by nbgrader) with one more test cell of nbgrader's own: the same points either way."""
    got, expected = graded.of({"mixer"})
    assert_same_scores(got, expected)
    assert got[("mixer", "beginner")] == (11.0, {"test_extra": 1.0, "checks": 10.0})


@pytest.mark.slow
def test_own_assignment_gets_nbgraders_outcomes(graded: Graded) -> None:
    """Restored test and locked cells, a deleted test cell, hidden tests, partial credit, stderr,
    an endless loop, a file beside the source and a file the notebook writes: nbgrader's scores."""
    got, expected = graded.of(SQUARES_LEARNERS)
    assert len(expected) == len(SQUARES_LEARNERS)
    assert_same_scores(got, expected)
    totals = {student: total for (student, _), (total, _) in got.items()}
    assert totals == {"unchanged": 1.0, "correct": 7.0, "cheater": 1.0, "partial": 4.0, "looper": 5.0, "noisy": 2.0}
    assert got[("correct", "squares")][1]["explain"] is None  # formgrader's to grade
    assert got[("unchanged", "squares")][1]["explain"] == 0.0  # no answer: nbgrader's 0
    rows = {(r["student_id"], r["check"]): r
            for r in csv_rows(graded.out / "checks.csv") if r["assignment"] == "basics"}
    partial = rows[("partial", "test_partial")]
    assert partial["points"] == "1" and "partial credit" in partial["message"]
    assert "stderr" in rows[("noisy", "test_visible")]["message"]
    assert "deleted" in rows[("cheater", "test_side_effect")]["message"]
    assert rows[("looper", "test_hidden")]["points"] == "0"
    assert "interrupted" in rows[("looper", "test_hidden")]["message"]
    for page in (graded.out / "feedback").glob("*/basics/squares.html"):
        html = page.read_text()
        assert "negative numbers" not in html and "square(-5)" not in html and "HIDDEN" not in html, page
    assert not list(graded.out.rglob("note.txt")), "a notebook's file landed in the outputs"
    assert (graded.course / "autograded" / "correct" / "basics" / "note.txt").is_file()  # nbgrader's run, for contrast


@pytest.mark.slow
def test_a_learner_who_drops_a_table_hurts_nobody_else(graded: Graded) -> None:
    got, shared = graded.of(SHOP_LEARNERS)
    assert {s: total for (s, _), (total, _) in got.items()} == {"adam": 0.0, "bea": 2.0, "carl": 2.0}
    assert {s: total for (s, _), (total, _) in shared.items()} == {"adam": 0.0, "bea": 0.0, "carl": 0.0}


def test_a_source_that_is_not_an_nbgrader_source_folder_is_one_line(tmp_path: Path) -> None:
    submitted = tmp_path / "submitted"
    (submitted / "alice" / "hw1").mkdir(parents=True)
    for source, says in ((tmp_path / "missing", "is not a folder"),
                         (submitted, "has no <assignment>/<notebook>.ipynb")):
        with pytest.raises(PglabError) as raised:
            grade_folder(submitted, tmp_path / "out", progress=False, source=source)
        assert says in str(raised.value) and "\n" not in str(raised.value)
    broken = tmp_path / "source" / "hw1"
    broken.mkdir(parents=True)
    (broken / "one.ipynb").write_text("{not json")
    with pytest.raises(PglabError, match="cannot be read as an nbgrader source notebook"):
        grade_folder(submitted, tmp_path / "out", progress=False, source=tmp_path / "source")
