"""Each late notebook's penalty, computed from stored outcomes after grading, never inside it.

A notebook's execution and checks are cached (:mod:`pglab.grading.result_store`); the penalty is
not part of them: it is worked out on every run from the outcome's score, the submission's
lateness (:mod:`pglab.grading.deadlines`) and the policy's nbgrader plugin
(:mod:`pglab.grading.nbgrader_late_plugin`). So a new due date, an extension or another policy
changes the scores on the next run without running a notebook again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pglab.grading.deadlines import Lateness, late_by
from pglab.grading.late_policy import LatePolicy
from pglab.grading.outcome import NotebookOutcome

NotebookKey = tuple[str, str, str]  # (student, assignment, notebook)


@dataclass(frozen=True)
class LatePenalty:
    """A notebook handed in after its learner's due date, and the points it loses for that."""

    lateness: Lateness
    notebook: str
    score: float  # before the penalty
    points: float  # the penalty, 0 <= points <= score
    policy: str  # --late-policy, as given

    @property
    def student(self) -> str:
        return self.lateness.student

    @property
    def assignment(self) -> str:
        return self.lateness.assignment

    @property
    def key(self) -> NotebookKey:
        return (self.student, self.assignment, self.notebook)

    def line(self) -> str:
        """One sentence for the learner and checks.csv: how late, against which due date, what it cost."""
        late = self.lateness
        due = late.due_for_learner
        assert due is not None and late.timestamp is not None
        extension = (f", with an extension of {late_by(late.extension.total_seconds())}"
                     if late.extension else "")
        cost = (f"late penalty {self.points:g} point(s) (policy {self.policy})" if self.points
                else f"no late penalty (policy {self.policy})")
        return (f"submitted {late.timestamp:%Y-%m-%d %H:%M:%S} UTC, {late_by(late.seconds_late)} after the due date "
                f"{due:%Y-%m-%d %H:%M:%S} UTC{extension}: {cost}")


def late_penalties(notebooks: Iterable[tuple[Lateness, NotebookOutcome]], policy: LatePolicy
                   ) -> dict[NotebookKey, LatePenalty]:
    """The late notebooks among ``notebooks`` (graded, each with its submission's lateness), with
    their penalty as nbgrader's ``AssignLatePenalties`` would set it under ``policy``."""
    late = [(lateness, outcome) for lateness, outcome in notebooks if outcome.is_grade and lateness.seconds_late > 0]
    found: dict[NotebookKey, LatePenalty] = {}
    if not late:
        return found
    # deferred: the plugin is nbgrader's, whose import (0.6 s) a run with no late notebook does without
    from pglab.grading.nbgrader_late_plugin import notebook_penalty, plugin_for

    plugin = plugin_for(policy)
    for lateness, outcome in late:
        points = notebook_penalty(plugin, outcome.student, outcome.score, lateness.seconds_late)
        penalty = LatePenalty(lateness, outcome.notebook, outcome.score, points, str(policy))
        found[penalty.key] = penalty
    return found
