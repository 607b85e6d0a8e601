"""Score nbgrader test cells by nbgrader's own rule (``nbgrader.utils.determine_grade``).

A test cell scores its full points when it runs without an error and without writing to stderr,
the number it outputs when it outputs one (partial credit), and 0 when it raises (a timeout, a
dead kernel included: nbgrader records those as errors too). An answer graded by hand (a solution
or markdown grade cell) scores 0, and stays open in the gradebook for formgrader. A failure in a
hidden test names the error only, never its value or code: feedback never shows hidden tests. A
cell that mixes visible and hidden tests and fails on a visible line says which line and why, as
a visible test does: the learner has that line in their own notebook.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils

from pglab.checks.results import CheckResult
from pglab.errors import one_line
from pglab.grading.kernels.session import CellRun
from pglab.grading.nbgrader_cells import TestCell
from pglab.grading.nbgrader_config import DEFAULTS
from pglab.grading.outcome import CellStatus

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FAILING_LINE = re.compile(r"^-+> ?(\d+)", re.M)  # IPython's arrow at a frame's line: "----> 3 assert ..."


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


def hidden_lines(source: str, delimiters: tuple[str, str]) -> set[int]:
    """The (1-based) lines of a test cell in its hidden-tests regions, delimiters included."""
    begin, end = delimiters
    hidden: set[int] = set()
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        if begin in line:
            inside = True
        if inside:
            hidden.add(number)
        if end in line:
            inside = False
    return hidden


def failing_line(error: NotebookNode) -> int | None:
    """The line of the cell that raised, from the error's traceback (its outermost frame: the cell's
    own line, even when the error came from a function it called); None when it does not say."""
    found = FAILING_LINE.search(ANSI.sub("", "\n".join(str(line) for line in error.get("traceback", []))))
    return int(found.group(1)) if found else None


def score(test: TestCell, cell: NotebookNode | None, run: CellRun | None, why_not_run: str = "",
          hidden_tests: tuple[str, str] | None = None) -> tuple[CheckResult, float | None]:
    """(the result for checks.csv and feedback, the auto score for nbgrader's gradebook: None =
    needs grading by hand). ``hidden_tests``: the course's hidden-tests delimiters (nbgrader's by default)."""
    hidden_tests = hidden_tests or DEFAULTS.hidden_tests
    if test.task:  # nbgrader leaves a task's score to the grader
        return _result(test, 0.0, BY_HAND, by_hand=True), None
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
        if auto is None:
            return _result(test, 0.0, BY_HAND, by_hand=True), None
        return _result(test, 0.0, "no answer: 0"), auto
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
        return _result(test, points, _failure_message(test, graded.source, failure, hidden_tests)), points
    if any(o.output_type == "stream" and o.get("name") == "stderr" for o in graded.outputs):
        return _result(test, points, "the cell wrote to stderr, which nbgrader counts as a failure"), points
    return _result(test, points, f"partial credit: {points:g} of {test.points:g}"), points


def _failure_message(test: TestCell, source: str, failure: NotebookNode, hidden_tests: tuple[str, str]) -> str:
    """Why a test cell failed, as much as the learner may see: a visible line, its code and the
    error; a hidden test (or a line that cannot be told), the error's name only."""
    name = failure.get("ename", "Error")
    detail = one_line(str(failure.get("evalue", "")))
    if not test.hidden:
        return f"raised {name}" + (f": {detail}" if detail else "")
    line = failing_line(failure)
    lines = source.splitlines()
    if line is None or not 1 <= line <= len(lines) or line in hidden_lines(source, hidden_tests):
        return f"a hidden test raised {name}"
    return f"line {line}, `{lines[line - 1].strip()}`, raised {name}" + (f": {detail}" if detail else "")


BY_HAND = "graded by your instructor"


def _result(test: TestCell, points: float, message: str, by_hand: bool = False) -> CheckResult:
    return CheckResult(name=test.grade_id, description=test.description, points=points,
                       max_points=test.points, hidden=test.hidden, message=message, by_hand=by_hand)
