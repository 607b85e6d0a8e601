"""Score nbgrader test cells by nbgrader's own rule (``nbgrader.utils.determine_grade``).

A test cell scores its full points when it runs without an error and without writing to stderr,
the number it outputs when it outputs one (partial credit), and 0 when it raises (a timeout, a
dead kernel included: nbgrader records those as errors too). An answer graded by hand (a solution
or markdown grade cell) scores 0, and stays open in the gradebook for formgrader. The message of a
hidden test names the error only, never its value or code: feedback never shows hidden tests.
"""

from __future__ import annotations

import copy

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from pglab.checks.results import CheckResult
from pglab.errors import one_line
from pglab.grading.kernels.session import CellRun
from pglab.grading.nbgrader_cells import TestCell
from pglab.grading.outcome import CellStatus


def executed(cell: NotebookNode, run: CellRun) -> NotebookNode:
    """The cell with the outputs the grader's kernel produced, as nbgrader's Execute would leave it."""
    done = copy.deepcopy(cell)
    done.outputs = [nbformat.from_dict(output) for output in run.outputs]
    if run.status in (CellStatus.TIMEOUT, CellStatus.DIED) and not any(
            o.output_type == "error" for o in done.outputs):
        done.outputs.append(nbformat.from_dict({"output_type": "error", "ename": "CellTimeoutError"
                                                if run.status is CellStatus.TIMEOUT else "DeadKernelError",
                                                "evalue": run.error, "traceback": []}))
    return done


def score(test: TestCell, cell: NotebookNode | None, run: CellRun | None, why_not_run: str = ""
          ) -> tuple[CheckResult, float | None]:
    """(the result for checks.csv and feedback, the auto score for nbgrader's gradebook: None =
    needs grading by hand)."""
    if test.task:  # nbgrader leaves a task's score to the grader
        return _result(test, 0.0, "graded by hand: 0 until an instructor grades it in formgrader"), None
    if cell is None:  # nbgrader gives it no auto score: 0, open for grading by hand
        return _result(test, 0.0, "this cell was deleted from the submission: 0"), None
    if not test.manual and run is None:
        return _result(test, 0.0, why_not_run or "not run"), 0.0
    graded = executed(cell, run) if run is not None else cell
    try:
        auto, _ = utils.determine_grade(graded)
    except ValueError as err:  # a number above the cell's points: nbgrader stops on it, we score 0
        return _result(test, 0.0, f"the cell output a score nbgrader rejects ({err})"), 0.0
    if test.manual:
        message = ("no answer: 0" if auto is not None
                   else "graded by hand: 0 until an instructor grades it in formgrader")
        return _result(test, 0.0, message), auto
    assert auto is not None
    points = float(auto)
    if points >= test.points:
        return _result(test, points, "passed"), points
    if run is not None and run.status is CellStatus.TIMEOUT:
        return _result(test, points, "ran longer than the cell time limit and was interrupted"), points
    if run is not None and run.status is CellStatus.DIED:
        return _result(test, points, f"not finished: {run.error}"), points
    failure = next((o for o in graded.outputs if o.output_type == "error"), None)
    if failure is not None:
        detail = "" if test.hidden else one_line(str(failure.get("evalue", "")))
        name = failure.get("ename", "Error")
        what = "a hidden test raised" if test.hidden else "raised"
        return _result(test, points, f"{what} {name}" + (f": {detail}" if detail else "")), points
    if any(o.output_type == "stream" and o.get("name") == "stderr" for o in graded.outputs):
        return _result(test, points, "the cell wrote to stderr, which nbgrader counts as a failure"), points
    return _result(test, points, f"partial credit: {points:g} of {test.points:g}"), points


def _result(test: TestCell, points: float, message: str) -> CheckResult:
    return CheckResult(name=test.grade_id, description=test.description, points=points,
                       max_points=test.points, hidden=test.hidden, message=message)
