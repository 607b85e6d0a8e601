"""A notebook graded by its own nbgrader test cells, as ``nbgrader autograde`` grades it.

nbgrader's rules throughout (:mod:`pglab.grading.nbgrader_cells`): the submission is sanitised and
its locked cells restored from the source, the learner's files and then the source folder's are
laid beside it, every code cell runs in order, and each test cell is scored by nbgrader's own rule
(:mod:`pglab.grading.nbgrader_scoring`). The course's check modules of the same name, if there are
any, run after the cells and score one more gradebook cell (``checks``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from pglab.checks.results import CheckResult
from pglab.grading.kernels.session import CellRun
from pglab.grading.nbgrader_cells import solution_cells
from pglab.grading.nbgrader_preprocessing import (
    NbgraderPlan,
    cell_by_id,
    folder_files,
    plan_nbgrader,
    release_source,
)
from pglab.grading.nbgrader_preprocessing import source_files as source_folder_files
from pglab.grading.nbgrader_scoring import executed
from pglab.grading.nbgrader_scoring import score as score_test_cell
from pglab.grading.outcome import GRADE_CELL, NotebookOutcome
from pglab.grading.strategies.base import CellPlan, GradebookCell, GradebookCellKind, GradingStrategy


class NbgraderTests(GradingStrategy):
    """Graded by the source notebook's nbgrader grade cells (and the course's checks, if any)."""

    def prepare(self) -> None:
        release_source(self.challenge.source, self.challenge.nbgrader)

    def plan(self, submitted: dict) -> NbgraderPlan:
        return plan_nbgrader(self.challenge.source, submitted, self.challenge.nbgrader)

    def files_beside(self, submitted_folder: Path) -> list[tuple[Path, Path]]:
        """As ``nbgrader autograde`` lays them out: the submission folder's other files, then the
        source folder's (images, data) over them."""
        learner = folder_files(submitted_folder, self.challenge.nbgrader)
        source = source_folder_files(self.challenge.source_folder, self.challenge.nbgrader)
        return ([(p, p.relative_to(submitted_folder)) for p in learner]
                + [(p, p.relative_to(self.challenge.source_folder)) for p in source])

    def score_cells(self, plan: CellPlan, runs: dict[str, CellRun], why_not_run: str,
                    outcome: NotebookOutcome) -> None:
        """Each of the source's grade cells, scored by nbgrader's rule, one result each, in the
        source's order (the checks' results follow them); and the notebook as graded, which
        formgrader opens to grade cells by hand."""
        assert isinstance(plan, NbgraderPlan)
        labels = dict(plan.runs)
        cells = cell_by_id(plan.notebook)
        index = {id(cell): i for i, cell in enumerate(plan.notebook.cells)}
        for test in self.challenge.test_cells():
            cell = cells.get(test.grade_id)
            run = runs.get(labels.get(index[id(cell)], "")) if cell is not None else None
            result, auto = score_test_cell(test, cell, run, why_not_run, self.challenge.nbgrader.hidden_tests)
            outcome.results.append(result)
            outcome.grade_cells[test.grade_id] = auto
        graded = copy.deepcopy(plan.notebook)
        for position, label in plan.runs:
            if label in runs:
                graded.cells[position] = executed(graded.cells[position], runs[label])
        outcome.autograded = nbformat.writes(graded)

    def check_results(self, outcome: NotebookOutcome) -> list[CheckResult]:
        return outcome.results[len(self.challenge.test_cells()):]  # score_cells put the test cells first

    def gradebook_cells(self) -> list[GradebookCell]:
        cells = [GradebookCell(test.grade_id, GradebookCellKind.TASK if test.task else GradebookCellKind.GRADE,
                               test.points, test.cell_type) for test in self.challenge.test_cells()]
        cells += [GradebookCell(name, GradebookCellKind.SOLUTION) for name in solution_cells(self.challenge.source)]
        checks = self.challenge.checks()
        if checks:
            cells.append(GradebookCell(GRADE_CELL, GradebookCellKind.GRADE, sum(c.points for c in checks)))
        return cells

    def auto_scores(self, outcome: NotebookOutcome) -> dict[str, float | None]:
        """A test cell's score as nbgrader's rule gave it (a zero outcome has none: 0); the checks'
        cell, their sum."""
        scores = {test.grade_id: outcome.grade_cells.get(test.grade_id, 0.0) for test in self.challenge.test_cells()}
        if self.challenge.checks():
            scores[GRADE_CELL] = sum(r.points for r in self.check_results(outcome))
        return scores

    def source_inputs(self) -> list[tuple[str, Path]]:
        """The files beside the source notebook, and the course's nbgrader config and header (the
        config's delimiters, stubs and timeout decide what is restored, what runs and how long)."""
        folder = self.challenge.source_folder
        config = self.challenge.nbgrader
        course = [p for p in (config.path, config.course_file("header"), config.course_file("footer")) if p]
        return ([(str(p.relative_to(folder)), p) for p in source_folder_files(folder, config)]
                + [(f"<course>/{p.name}", p) for p in course])

    def submission_inputs(self, submitted: Path) -> list[tuple[str, Path]]:
        folder = submitted.parent
        return [(str(p.relative_to(folder)), p) for p in folder_files(folder, self.challenge.nbgrader)]
