"""A course's own nbgrader_config.py, read as nbgrader reads it: what pglab takes from it, what it
says it cannot honour, and the limits a run gets (flags first, then the course's, then pglab's);
and a test cell named by the question it checks, never by its random id."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests

from pglab.errors import PglabError
from pglab.grading.nbgrader_cells import test_cells as graded_cells
from pglab.grading.nbgrader_config import DEFAULTS, course_gradebook_url
from pglab.grading.nbgrader_config_file import read_course_config
from pglab.grading.nbgrader_preprocessing import plan_nbgrader, release_source, source_files
from pglab.grading.timeouts import Limits, limits_for
from tests.support.doc_walkthrough import sample_pattern, sample_starting
from tests.support.nbgrader_course import cell, notebook

INSTRUCTOR_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "instructor-guide.md"

CONFIG = """c = get_config()
c.ExecutePreprocessor.timeout = 45
c.ClearSolutions.begin_solution_delimeter = "BEGIN ANSWER"
c.ClearSolutions.end_solution_delimeter = "END ANSWER"
c.ClearSolutions.code_stub = {"python": "# your answer\\npass"}
c.ClearHiddenTests.begin_test_delimeter = "SECRET START"
c.ClearHiddenTests.end_test_delimeter = "SECRET END"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "__pycache__", "*.secret"]
c.NbGrader.course_directory = "/somewhere/else"  # nbgrader's outdated name for CourseDirectory.root
"""


def course(root: Path, config: str = CONFIG) -> Path:
    """A course root with the config above and source/week1/squares.ipynb written for it."""
    (root / "source" / "week1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(config)
    nbformat.write(notebook(
        cell("markdown", "Some words about the week."),
        cell("markdown", "## Part A: squares\n\nWrite `square(x)`."),
        cell("code", "def square(x):\n    ### BEGIN ANSWER\n    return x * x\n    ### END ANSWER", "answer",
             solution=True),
        cell("code", "assert square(2) == 4\n# SECRET START\nassert square(-5) == 25\n# SECRET END", "t1",
             grade=True, points=2),
        cell("code", "assert square(0) == 0", "t2", grade=True, points=1),
        cell("code", "x = 1", "t3", grade=True, points=1),  # no answer above it after the first test
        cell("markdown", "Why?", "why", locked=True),
        cell("markdown", "### BEGIN ANSWER\nBecause.\n### END ANSWER", "explain", solution=True, grade=True,
             points=1),
    ), root / "source" / "week1" / "squares.ipynb")
    (root / "source" / "week1" / "data.csv").write_text("1\n")
    (root / "source" / "week1" / "key.secret").write_text("42\n")
    return root / "source"


def test_the_courses_config_is_read_by_nbgraders_loader(tmp_path: Path) -> None:
    source = course(tmp_path)
    config = read_course_config(source)
    assert config.path == tmp_path / "nbgrader_config.py"
    assert config.cell_timeout_s == 45.0
    assert config.hidden_tests == ("SECRET START", "SECRET END")
    assert config.config.CourseDirectory.root == "/somewhere/else"  # nbgrader's own renaming applied
    assert config.unhonoured == ()
    assert read_course_config(source, tmp_path / "nbgrader_config.py") == config  # --config FILE: the same
    assert DEFAULTS.cell_timeout_s == 30.0  # nbgrader's default, not pglab's 10 s
    assert config.ignore == (".ipynb_checkpoints", "__pycache__", "*.secret")
    assert course_gradebook_url(source, config) == "sqlite:////somewhere/else/gradebook.db"
    assert course_gradebook_url(source, DEFAULTS) == f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_without_a_config_the_values_are_nbgraders_defaults(tmp_path: Path) -> None:
    """pglab keeps nbgrader's defaults as values (so a run reads them without importing nbgrader):
    they are what nbgrader's classes make of an empty config, and of a config file that sets nothing."""
    assert DEFAULTS.cell_timeout_s == float(Execute().timeout)
    hidden = ClearHiddenTests()
    assert DEFAULTS.hidden_tests == (hidden.begin_test_delimeter, hidden.end_test_delimeter)
    assert DEFAULTS.ignore == tuple(CourseDirectory().ignore)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    (tmp_path / "source").mkdir()
    empty = read_course_config(tmp_path / "source")
    assert (empty.cell_timeout_s, empty.hidden_tests, empty.ignore, empty.gradebook_url) == (
        DEFAULTS.cell_timeout_s, DEFAULTS.hidden_tests, DEFAULTS.ignore, "")


def test_the_release_is_made_with_the_courses_delimiters_and_stub(tmp_path: Path) -> None:
    source = course(tmp_path)
    path, config = source / "week1" / "squares.ipynb", read_course_config(source)
    answer = release_source(path, config).cells[2]
    assert answer.source == "def square(x):\n    # your answer\n    pass"  # the course's region, the course's stub
    assert release_source(path).cells[2].source == "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's
    hidden = {t.grade_id: t.hidden for t in graded_cells(path, config)}
    assert hidden == {"t1": True, "t2": False, "t3": False, "explain": False}
    assert [p.name for p in source_files(source / "week1", config)] == ["data.csv"]
    assert [p.name for p in source_files(source / "week1")] == ["data.csv", "key.secret"]


def test_a_test_cell_is_named_by_the_question_it_checks(tmp_path: Path) -> None:
    path = course(tmp_path) / "week1" / "squares.ipynb"
    names = [t.description for t in graded_cells(path)]
    assert names == ["Part A: squares: test cell 1 of 4", "Part A: squares: test cell 2 of 4",
                     "Part A: squares: test cell 3 of 4", "Why?: answer 4 of 4"]
    plan = plan_nbgrader(path, nbformat.reads(nbformat.writes(release_source(path)), as_version=4))
    assert [label for _, label in plan.runs if "test cell" in label] == names[:3]
    lone = tmp_path / "lone.ipynb"
    nbformat.write(notebook(cell("code", "assert True", "cell-014b5a8fe53ecfdf", grade=True, points=1)), lone)
    assert [t.description for t in graded_cells(lone)] == ["test cell 1 of 1"]


def test_what_pglab_cannot_honour_is_one_line_each(tmp_path: Path) -> None:
    source = course(tmp_path, CONFIG + "c.Execute.interrupt_on_timeout = False\n"
                                       "c.LateSubmissionPlugin.penalty_method = 'zero'\n"
                                       "c.Exchange.root = '/srv/exchange'\n")
    lines = read_course_config(source).unhonoured_lines()
    assert len(lines) == 2 and all("\n" not in line and "is not honoured" in line for line in lines)
    assert "Execute.interrupt_on_timeout = False" in lines[0] and "late penalties" in lines[1]
    shown = sample_starting(INSTRUCTOR_GUIDE, "pglab: /home/you/ds101/nbgrader_config.py: LateSubmission")
    assert sample_pattern(shown.replace("/home/you/ds101", str(tmp_path))).fullmatch(f"pglab: {lines[1]}"), lines[1]
    none = course(tmp_path / "unlimited", "c = get_config()\nc.Execute.timeout = None\n")
    config = read_course_config(none)
    assert config.cell_timeout_s == 0 and "Execute.timeout = None" in config.unhonoured_lines()[0]


@pytest.mark.parametrize(("config", "says"), [("c = get_config(\n", "SyntaxError"),
                                              ("c = get_config()\nimport nosuchmodule\n", "ModuleNotFoundError"),
                                              ("c = get_config()\nc.IncludeHeaderFooter.header = 'h.ipynb'\n",
                                               "IncludeHeaderFooter.header")])
def test_a_config_that_cannot_be_used_is_one_line(tmp_path: Path, config: str, says: str) -> None:
    source = course(tmp_path, config)
    with pytest.raises(PglabError) as raised:
        read_course_config(source)
    assert says in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(PglabError, match="--config .* is not a file"):
        read_course_config(source, tmp_path / "missing.py")


def test_flags_win_over_the_course_which_wins_over_pglab() -> None:
    assert limits_for() == Limits()
    assert limits_for(course_cell_timeout_s=30) == Limits(cell_timeout_s=30, call_timeout_s=30)
    assert limits_for(5, course_cell_timeout_s=30) == Limits(cell_timeout_s=5, call_timeout_s=5)
    assert limits_for(course_cell_timeout_s=300).submission_timeout_s == 300  # never shorter than a cell
    assert limits_for(None, 60, 300).cell_timeout_s == 300  # given both: as given (refused at start)
    assert limits_for(course_cell_timeout_s=0).cell_timeout_s == Limits().submission_timeout_s  # no limit


def test_the_courses_header_comes_first_in_the_release(tmp_path: Path) -> None:
    own_root = "\n".join(line for line in CONFIG.splitlines() if "course_directory" not in line)
    source = course(tmp_path, own_root + "\nc.IncludeHeaderFooter.header = 'source/header.ipynb'\n")
    nbformat.write(notebook(cell("markdown", "# Numerical methods, 2026", "course-header", locked=True)),
                   source / "header.ipynb")
    path, config = source / "week1" / "squares.ipynb", read_course_config(source)
    assert config.course_file("header") == source / "header.ipynb"
    released = release_source(path, config)
    assert released.cells[0].source == "# Numerical methods, 2026"
    assert len(released.cells) == len(release_source(path).cells) + 1
