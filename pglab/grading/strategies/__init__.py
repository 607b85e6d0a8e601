"""How a challenge's notebooks are graded: one interface, one module per way of grading.

- :class:`~pglab.grading.strategies.course_checks.CourseChecks`: the course's own challenges,
  graded by their check modules (pytest, outside the learner's kernel);
- :class:`~pglab.grading.strategies.nbgrader_tests.NbgraderTests`: a notebook with nbgrader test
  cells of its own (``pglab grade --source``), graded by them as ``nbgrader autograde`` would, plus
  the course's check modules of the same name when there are any.

The rest of the grader asks the strategy (:func:`strategy_for`) and never which one it has. The
second is imported when a challenge first needs it: it brings nbgrader's preprocessors, whose import
costs a run 0.6 s (:mod:`pglab.grading.cell_metadata`) that a run of the course's own challenges
does not need to pay.
"""

from __future__ import annotations

from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.strategies.base import CellPlan, GradebookCell, GradebookCellKind, GradingStrategy
from pglab.grading.strategies.course_checks import CourseChecks

__all__ = ["CellPlan", "CourseChecks", "GradebookCell", "GradebookCellKind", "GradingStrategy", "strategy_for"]


def strategy_for(challenge: ChallengeNotebook) -> GradingStrategy:
    """The way ``challenge`` is graded: by its own nbgrader test cells when its source has any."""
    if not challenge.native:
        return CourseChecks(challenge)
    from pglab.grading.strategies.nbgrader_tests import NbgraderTests  # deferred: see the module docstring

    return NbgraderTests(challenge)
