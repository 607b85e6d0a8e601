"""The course's own challenges: graded by their check modules, one gradebook cell for their sum.

Only the learner's answer cells run in the kernel, after the source's locked set-up
(:func:`~pglab.grading.notebook_cells.plan_execution`); the points are the checks' results.
"""

from __future__ import annotations

from pglab.checks.results import CheckResult
from pglab.grading.notebook_cells import GradingPlan, plan_execution
from pglab.grading.outcome import GRADE_CELL, NotebookOutcome
from pglab.grading.strategies.base import GradebookCell, GradebookCellKind, GradingStrategy


class CourseChecks(GradingStrategy):
    """Graded by the course's checks (``pglab/challenge_checks``, ``grader/checks``)."""

    def plan(self, submitted: dict) -> GradingPlan:
        return plan_execution(self.challenge.source, submitted)

    def check_results(self, outcome: NotebookOutcome) -> list[CheckResult]:
        return list(outcome.results)

    def gradebook_cells(self) -> list[GradebookCell]:
        return [GradebookCell(GRADE_CELL, GradebookCellKind.GRADE, self.challenge.max_points())]

    def auto_scores(self, outcome: NotebookOutcome) -> dict[str, float | None]:
        return {GRADE_CELL: outcome.score}
