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
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from pglab.cli import main
from pglab.errors import PglabError
from pglab.grading.batch import grade_folder
from pglab.grading.course_layout import RELEASE, SOURCE
from pglab.grading.database_copies import RunClaim, create_submission_database, drop_submission_database
from pglab.grading.timeouts import Limits
from tests.corpus.case import with_answer
from tests.corpus.cases_core import SEED_BEGINNER
from tests.support.nbgrader_course import (
    CHEAPEST,
    SHOP_LEARNERS,
    cell,
    finish_nbgrader,
    nbgrader,
    notebook,
    start_nbgrader,
    submit,
)

USER_GUIDE = Path(__import__("nbgrader").__file__).parent / "docs" / "source" / "user_guide"
CELL_TIMEOUT_S = 4
LIMITS = Limits(cell_timeout_s=CELL_TIMEOUT_S, call_timeout_s=CELL_TIMEOUT_S, submission_timeout_s=60)

Scores = dict[tuple[str, str], tuple[float, dict[str, float | None]]]  # (student, notebook) -> total, cells


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


# A course in the style of the university courses pglab grade was tried on: its own nbgrader_config.py
# (a longer timeout, its own solution and hidden-test delimiters, its own code stub), random cell ids
# as nbgrader's toolbar makes them, a test cell mixing visible and hidden asserts, a hand-graded task.
COURSE_CONFIG = """c = get_config()
c.Execute.timeout = 15
c.ClearSolutions.begin_solution_delimeter = "ANSWER BEGINS"
c.ClearSolutions.end_solution_delimeter = "ANSWER ENDS"
c.ClearSolutions.code_stub = {"python": "# write your answer here\\nraise NotImplementedError('answer')"}
c.ClearHiddenTests.begin_test_delimeter = "SECRET TESTS START"
c.ClearHiddenTests.end_test_delimeter = "SECRET TESTS END"
"""
SLOW_S = 10.5  # longer than pglab's default cell limit (10 s), shorter than the course's (15 s)
POWERS = notebook(
    cell("markdown", "# Week 2: powers\n\nAnswer each question in the cell below it."),
    cell("markdown", "## Question 1: cubes\n\nWrite `cube(x)`.", "cell-5b1e0c7d2f6a9e31", locked=True),
    cell("code", "def cube(x):\n    ## ANSWER BEGINS\n    return x ** 3\n    ## ANSWER ENDS", "cell-014b5a8fe53ecfdf",
         solution=True),
    cell("code", "assert cube(2) == 8, 'cube(2) should be 8'\n## SECRET TESTS START\n"
                 "assert cube(-3) == -27, 'negative numbers'\n## SECRET TESTS END", "cell-9c3d1f0e6b2a4d87",
         grade=True, points=2),
    cell("markdown", "## Question 2: a total\n\nWrite `total(values)`; it may take its time.",
         "cell-2e7f4a9b0c1d3e58", locked=True),
    cell("code", "def total(values):\n    ## ANSWER BEGINS\n    return sum(values)\n    ## ANSWER ENDS",
         "cell-7a0b3c5d9e1f2a64", solution=True),
    cell("code", "assert total([1, 2, 3]) == 6", "cell-3f8e2d1c0b9a7e65", grade=True, points=1),
    cell("markdown", "## Question 3: plot\n\nPlot `cube` from -3 to 3 and say what you see.", "cell-8d4c2b0a1e3f5a76",
         locked=True, task=True, points=2),
)
CUBE, TOTAL, QUESTION_1 = "cell-014b5a8fe53ecfdf", "cell-7a0b3c5d9e1f2a64", "cell-9c3d1f0e6b2a4d87"
POWERS_LEARNERS: dict[str, dict[str, str | None]] = {
    "exact": {CUBE: "def cube(x):\n    return x ** 3", TOTAL: "def total(values):\n    return sum(values)"},
    "patient": {CUBE: "def cube(x):\n    return x * x * x",
                TOTAL: f"import time\ntime.sleep({SLOW_S})  # a long computation\ndef total(values):\n"
                       "    return sum(values)"},
    "visible": {CUBE: "def cube(x):\n    return x ** 2", TOTAL: "total = sum"},
    "hidden": {CUBE: "def cube(x):\n    return abs(x) ** 3", TOTAL: "total = sum"},
}


class Configured:
    """The course above, graded by ``nbgrader autograde`` and by ``pglab grade --source`` with no
    other flag: both read the course's nbgrader_config.py."""

    def __init__(self, root: Path) -> None:
        course = root / "course"
        (course / "source" / "week2").mkdir(parents=True)
        (course / "nbgrader_config.py").write_text(COURSE_CONFIG)
        nbformat.write(POWERS, course / "source" / "week2" / "powers.ipynb")
        nbgrader(course, "generate_assignment", "week2", "--force")
        release = course / "release" / "week2" / "powers.ipynb"
        self.release = nbformat.read(release, as_version=4)
        for student, edits in POWERS_LEARNERS.items():
            submit(release, course / "submitted", student, "week2", edits)
        self.out = root / "pglab-out"
        autograde = start_nbgrader(course, "autograde", "week2", "--force")  # side by side: both wait on the slow cell
        try:
            summary = grade_folder(course / "submitted", self.out, jobs=2, progress=False, source=course / "source")
        finally:
            finish_nbgrader(autograde, "autograde")
        assert not summary.not_graded, summary.fault_line()
        self.pglab = gradebook_scores(self.out / "gradebook.db", "week2")
        self.nbgrader = gradebook_scores(course / "gradebook.db", "week2")
        self.course = course

    def feedback(self, student: str) -> str:
        return (self.out / "feedback" / student / "week2" / "powers.html").read_text()


@pytest.fixture(scope="module")
def configured(course_database, tmp_path_factory: pytest.TempPathFactory) -> Configured:
    return Configured(tmp_path_factory.mktemp("nbgrader-configured"))


@pytest.mark.slow
def test_a_course_is_graded_by_its_own_nbgrader_config(configured: Configured) -> None:
    """The same score for every cell as nbgrader autograde on the course's config: the slow answer
    within the course's timeout (not pglab's 10 s), the course's delimiters and stub."""
    answer = next(c for c in configured.release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == CUBE)
    assert answer.source == "def cube(x):\n    # write your answer here\n    raise NotImplementedError('answer')"
    assert set(configured.nbgrader) == {(s, "powers") for s in POWERS_LEARNERS}
    assert_same_scores(configured.pglab, configured.nbgrader)
    assert {s: total for (s, _), (total, _) in configured.pglab.items()} == {
        "exact": 3.0, "patient": 3.0, "visible": 1.0, "hidden": 1.0}
    assert configured.pglab[("exact", "powers")][1]["cell-8d4c2b0a1e3f5a76"] is None  # the task: by hand


@pytest.mark.slow
def test_feedback_names_the_question_and_the_failing_visible_line(configured: Configured) -> None:
    visible, hidden = configured.feedback("visible"), configured.feedback("hidden")
    assert "Question 1: cubes: test cell 1 of 3" in visible
    assert "line 1, `assert cube(2) == 8, &#x27;cube(2) should be 8&#x27;`, raised AssertionError: " \
           "cube(2) should be 8" in visible
    assert "a hidden test raised AssertionError" in hidden
    for page in (visible, hidden, configured.feedback("exact"), configured.feedback("patient")):
        assert "negative numbers" not in page and "cube(-3)" not in page and "SECRET" not in page
        assert "cell-" not in page, "a cell named by its random id"
        task = page[page.index("Question 3: plot"):].split("</tr>")[0]
        assert "graded by your instructor" in task and "up to 2" in task and "✘" not in task
    assert "Question 2: a total: test cell 2 of 3" in configured.feedback("patient")


def test_a_source_that_matches_no_submission_exits_non_zero_with_one_line(
        configured: Configured, capsys: pytest.CaptureFixture[str]) -> None:
    course = configured.course
    for source, says in ((course, f"here --source {course / 'source'}"),  # the course root, not its source/
                         (USER_GUIDE / "source", "week2/powers.ipynb")):  # another course's source
        status = main(["grade", str(course / "submitted"), "--source", str(source), "--out", str(course / "o")])
        err = capsys.readouterr().err.strip()
        assert status == 1 and err.count("\n") == 0 and says in err, err
        assert str(source.resolve()) in err or str(source) in err
    assert not (course / "o" / "grades.csv").exists()


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
