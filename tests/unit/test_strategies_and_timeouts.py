"""The two ways of grading a challenge behind one interface, and the grader's bounds checked at start."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from pglab.checks.results import CheckResult
from pglab.errors import SettingsError
from pglab.grading.course_layout import SOURCE, ChallengeNotebook
from pglab.grading.outcome import GRADE_CELL, NotebookOutcome
from pglab.grading.strategies import CourseChecks, GradebookCellKind, strategy_for
from pglab.grading.strategies.nbgrader_tests import NbgraderTests
from pglab.grading.timeouts import TIMEOUTS, GraderTimeouts, Limits, check


def nbgrader_source(folder: Path) -> ChallengeNotebook:
    """week1/squares.ipynb: an answer cell and a test cell worth 2 points, and a data file beside them."""
    answer = nbformat.v4.new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                                       metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                                                              "grade_id": "square", "schema_version": 3}})
    test = nbformat.v4.new_code_cell("assert square(3) == 9", metadata={"nbgrader": {
        "solution": False, "grade": True, "locked": True, "grade_id": "test_square", "points": 2,
        "schema_version": 3}})
    (folder / "week1").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[answer, test]), folder / "week1" / "squares.ipynb")
    (folder / "week1" / "numbers.csv").write_text("1,2,3\n")
    return ChallengeNotebook("week1", "squares", folder)


def test_the_course_challenges_are_graded_by_their_checks() -> None:
    strategy = strategy_for(ChallengeNotebook("core", "beginner", SOURCE))
    assert isinstance(strategy, CourseChecks)
    (cell,) = strategy.gradebook_cells()
    assert (cell.name, cell.kind, cell.max_score) == (GRADE_CELL, GradebookCellKind.GRADE, 10.0)
    outcome = NotebookOutcome("ann", "core", "beginner", 10.0)
    outcome.results = [CheckResult("test_a", "a", 4.0, 6.0, False, "x"), CheckResult("test_b", "b", 4.0, 4.0, True,
                                                                                      "passed")]
    assert strategy.auto_scores(outcome) == {GRADE_CELL: 8.0}
    assert strategy.check_results(outcome) == outcome.results
    assert strategy.source_inputs() == [] and strategy.files_beside(Path("/nowhere")) == []


def test_a_notebook_with_test_cells_is_graded_by_them(tmp_path: Path) -> None:
    challenge = nbgrader_source(tmp_path / "source")
    strategy = strategy_for(challenge)
    assert isinstance(strategy, NbgraderTests)
    strategy.prepare()
    assert [(c.name, c.kind, c.max_score) for c in strategy.gradebook_cells()] == [
        ("test_square", GradebookCellKind.GRADE, 2.0), ("square", GradebookCellKind.SOLUTION, 0.0)]
    outcome = NotebookOutcome("ann", "week1", "squares", 2.0)
    outcome.grade_cells = {"test_square": 2.0}
    assert strategy.auto_scores(outcome) == {"test_square": 2.0}
    assert [name for name, _ in strategy.source_inputs()] == ["numbers.csv"]
    submitted = tmp_path / "submitted" / "ann" / "week1"
    submitted.mkdir(parents=True)
    (submitted / "squares.ipynb").write_text("{}")
    (submitted / "mine.txt").write_text("notes")
    (submitted / "numbers.csv").write_text("9,9,9\n")
    beside = [(path.parent.name, str(where)) for path, where in strategy.files_beside(submitted)]
    assert beside == [("week1", "mine.txt"), ("week1", "numbers.csv"), ("week1", "numbers.csv")]
    assert strategy.files_beside(submitted)[-1][0].parent == challenge.source_folder, "the source's copy wins"
    assert [name for name, _ in strategy.submission_inputs(submitted / "squares.ipynb")] == ["mine.txt", "numbers.csv"]
    plan = strategy.plan(nbformat.reads(nbformat.writes(nbformat.read(challenge.source, 4)), 4))
    assert [c.label for c in plan.cells] == ["cell 1", "test cell 1 of 1"]  # no question above: its place


def test_the_bounds_hold_and_contradicting_limits_are_one_line() -> None:
    assert TIMEOUTS.problems(Limits()) == []
    check(Limits(cell_timeout_s=5, call_timeout_s=5, submission_timeout_s=90))
    with pytest.raises(SettingsError) as refused:
        check(Limits(cell_timeout_s=200, submission_timeout_s=120))
    assert str(refused.value) == ("the grader's time limits contradict each other: a cell's limit (200 s) must not "
                                  "exceed the notebook's (120 s): lower --cell-timeout or raise --notebook-timeout")
    broken = GraderTimeouts(interrupt_grace_s=5.0)
    assert broken.problems(Limits()) == ["an interrupted cell must be waited for longer than a query of it can "
                                         "still run"]
    assert GraderTimeouts(reply_after_idle_s=20.0).problems(Limits()) == [
        "a reply after idle must be waited for less than an interrupted cell"]
