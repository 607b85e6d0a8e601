"""nbgrader's rule for scoring a test cell (``nbgrader.utils.determine_grade``), as ``pglab grade``
applies it to the outputs its kernel produced: full points, partial credit from a number, 0 for an
error or a write to stderr, hand-graded answers left open, and hidden tests named only by their error."""

from __future__ import annotations

import nbformat
import pytest
from nbgrader import utils

from pglab.grading.kernels.session import CellRun
from pglab.grading.nbgrader_cells import TestCell as GradeCell
from pglab.grading.nbgrader_scoring import score
from pglab.grading.outcome import CellStatus

TEST = GradeCell("tests", 4.0, "code", hidden=False, manual=False)
HIDDEN = GradeCell("hidden", 4.0, "code", hidden=True, manual=False)


def graded_cell(points: float = 4.0) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("assert f(1) == 2", metadata={
        "nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "tests", "points": points}})


def run(status: CellStatus = CellStatus.OK, *outputs: dict) -> CellRun:
    return CellRun(status, "", "", outputs=list(outputs))


def result_number(value: float) -> dict:
    return {"output_type": "execute_result", "data": {"text/plain": repr(value)}, "metadata": {}, "execution_count": 1}


ERROR = {"output_type": "error", "ename": "AssertionError", "evalue": "f(1) is 3", "traceback": []}
STDERR = {"output_type": "stream", "name": "stderr", "text": "warning"}


def test_a_clean_run_scores_its_points() -> None:
    result, auto = score(TEST, graded_cell(), run())
    assert (result.points, auto, result.message) == (4.0, 4.0, "passed")


def test_a_number_is_partial_credit() -> None:
    result, auto = score(TEST, graded_cell(), run(CellStatus.OK, result_number(1.5)))
    assert (result.points, auto, result.message) == (1.5, 1.5, "partial credit: 1.5 of 4")


@pytest.mark.parametrize(("test", "message"), [(TEST, "raised AssertionError: f(1) is 3"),
                                                (HIDDEN, "a hidden test raised AssertionError")])
def test_an_error_scores_zero_and_a_hidden_test_shows_no_value(test: GradeCell, message: str) -> None:
    result, auto = score(test, graded_cell(), run(CellStatus.ERROR, ERROR))
    assert (result.points, auto, result.message) == (0.0, 0.0, message)


def test_stderr_scores_zero_as_in_nbgrader() -> None:
    result, _ = score(TEST, graded_cell(), run(CellStatus.OK, STDERR))
    assert result.points == 0 and "stderr" in result.message


def test_a_timeout_is_an_error() -> None:
    result, auto = score(TEST, graded_cell(), run(CellStatus.TIMEOUT))
    assert (result.points, auto) == (0.0, 0.0) and "interrupted" in result.message


def test_not_run_and_deleted_cells() -> None:
    result, auto = score(TEST, graded_cell(), None, "not run: the kernel exited")
    assert (result.points, auto, result.message) == (0.0, 0.0, "not run: the kernel exited")
    result, auto = score(TEST, None, None)
    assert (result.points, auto) == (0.0, None) and "deleted" in result.message


def test_a_task_waits_for_the_instructor() -> None:
    task = GradeCell("essay", 5.0, "markdown", hidden=False, manual=True, task=True)
    result, auto = score(task, None, None)
    assert (result.points, auto, result.message, result.by_hand) == (0.0, None, "graded by your instructor", True)


def test_an_answer_left_for_hand_grading_is_not_a_failure_but_no_answer_is() -> None:
    answer = GradeCell("explain", 2.0, "markdown", hidden=False, manual=True)
    cell = nbformat.v4.new_markdown_cell("They multiply.", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "grade_id": "explain", "points": 2.0, "checksum": "x"}})
    result, auto = score(answer, cell, None)
    assert (auto, result.by_hand, result.message) == (None, True, "graded by your instructor")
    cell.metadata.nbgrader["checksum"] = utils.compute_checksum(cell)  # unchanged from the release: no answer
    result, auto = score(answer, cell, None)
    assert (auto, result.by_hand, result.message) == (0.0, False, "no answer: 0")


MIXED = "assert f(2) == 4\n### BEGIN HIDDEN TESTS\nassert f(-5) == 25, 'negative numbers'\n### END HIDDEN TESTS\n"


def ipython_error(line: int, code: str, message: str = "") -> dict:
    """An error output as IPython's kernel sends it: the failing line of the cell under its arrow."""
    return {"output_type": "error", "ename": "AssertionError", "evalue": message, "traceback": [
        "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
        "\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)",
        f"Cell \x1b[0;32mIn[4], line {line}\x1b[0m\n\x1b[0;32m----> {line}\x1b[0m {code}\n",
        f"\x1b[0;31mAssertionError\x1b[0m: {message}"]}


def test_a_mixed_cell_failing_on_its_visible_line_says_which_and_why() -> None:
    cell = graded_cell()
    cell.source = MIXED
    result, _ = score(HIDDEN, cell, run(CellStatus.ERROR, ipython_error(1, "assert f(2) == 4", "f(2) is 5")))
    assert result.message == "line 1, `assert f(2) == 4`, raised AssertionError: f(2) is 5"
    result, _ = score(HIDDEN, cell, run(CellStatus.ERROR, ipython_error(3, "assert f(-5) == 25", "negative numbers")))
    assert result.message == "a hidden test raised AssertionError"
    result, _ = score(HIDDEN, cell, run(CellStatus.ERROR, ERROR))  # no traceback: nothing can be told
    assert result.message == "a hidden test raised AssertionError"


def test_a_course_with_its_own_delimiters_hides_its_own_regions() -> None:
    cell = graded_cell()
    cell.source = "assert f(2) == 4\n# SECRET START\nassert f(-5) == 25\n# SECRET END\n"
    error = ipython_error(3, "assert f(-5) == 25")
    result, _ = score(HIDDEN, cell, run(CellStatus.ERROR, error), hidden_tests=("SECRET START", "SECRET END"))
    assert result.message == "a hidden test raised AssertionError"
    result, _ = score(HIDDEN, cell, run(CellStatus.ERROR, error))  # nbgrader's delimiters: line 3 is not hidden
    assert result.message.startswith("line 3")


def test_a_score_above_the_points_is_refused() -> None:
    result, auto = score(TEST, graded_cell(), run(CellStatus.OK, result_number(9.0)))
    assert (result.points, auto) == (0.0, 0.0) and "nbgrader rejects" in result.message
