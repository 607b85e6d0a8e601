"""How a challenge's notebooks are graded: one interface, one module per way of grading.

- :class:`~pglab.grading.strategies.course_checks.CourseChecks`: the course's own challenges,
  graded by their check modules (pytest, outside the learner's kernel);
- :class:`~pglab.grading.strategies.nbgrader_tests.NbgraderTests`: a notebook with nbgrader test
  cells of its own (``pglab grade --source``), graded by them as ``nbgrader autograde`` would, plus
  the course's check modules of the same name when there are any.

The rest of the grader asks the strategy (:func:`strategy_for`) and never which one it has.
"""

from __future__ import annotations

from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.strategies.base import CellPlan, GradebookCell, GradebookCellKind, GradingStrategy
from pglab.grading.strategies.course_checks import CourseChecks
from pglab.grading.strategies.nbgrader_tests import NbgraderTests

__all__ = ["CellPlan", "CourseChecks", "GradebookCell", "GradebookCellKind", "GradingStrategy", "NbgraderTests",
           "strategy_for"]


def strategy_for(challenge: ChallengeNotebook) -> GradingStrategy:
    """The way ``challenge`` is graded: by its own nbgrader test cells when its source has any."""
    return NbgraderTests(challenge) if challenge.native else CourseChecks(challenge)
