"""The late-penalty policies of ``pglab grade --late-policy``, as an nbgrader late-submission plugin.

nbgrader's ``AssignLatePenalties`` asks a :class:`~nbgrader.plugins.LateSubmissionPlugin` for each
late notebook's penalty (given the notebook's score and the submission's seconds late), then keeps
it between 0 and that score. This plugin is one: ``none`` and ``zero`` are nbgrader's own methods,
``per-hour`` takes ``points_per_hour`` off for every started hour late. ``pglab grade`` asks it the
same question nbgrader would (:func:`notebook_penalty`) when a notebook is late (the policy itself,
:mod:`pglab.grading.late_policy`, is read without nbgrader), and a plain nbgrader course can use it in
``nbgrader autograde`` too::

    c.AssignLatePenalties.plugin_class = "pglab.grading.nbgrader_late_plugin.PglabLatePenalty"
    c.PglabLatePenalty.penalty_method = "per-hour"
    c.PglabLatePenalty.points_per_hour = 2
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

from pglab.grading.late_policy import PER_HOUR, SECONDS_PER_HOUR, LatePolicy


class PglabLatePenalty(LateSubmissionPlugin):
    """nbgrader's late-submission plugin with one more method: points off per started hour late."""

    penalty_method = Enum(("none", "zero", PER_HOUR), default_value="none",
                          help="'none': no penalty; 'zero': the notebook's whole score (nbgrader's 'zero'); "
                               "'per-hour': points_per_hour for every started hour late").tag(config=True)
    points_per_hour = Float(0.0, min=0.0, help="Points off per started hour late ('per-hour')").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if self.penalty_method == PER_HOUR:
            return self.points_per_hour * math.ceil(total_seconds_late / SECONDS_PER_HOUR)
        return super().late_submission_penalty(student_id, score, total_seconds_late)


def plugin_for(policy: LatePolicy) -> PglabLatePenalty:
    """The plugin nbgrader would be configured with for ``--late-policy``."""
    return PglabLatePenalty(penalty_method=policy.method, points_per_hour=policy.points_per_hour)


def notebook_penalty(plugin: LateSubmissionPlugin, student: str, score: float, seconds_late: float) -> float:
    """A notebook's late penalty as nbgrader's ``AssignLatePenalties`` sets it: none unless the
    submission is late; the plugin's answer, kept between 0 and the notebook's score."""
    if seconds_late <= 0:
        return 0.0
    penalty = plugin.late_submission_penalty(student, score, seconds_late)
    if penalty is None:
        return 0.0
    return min(max(0.0, float(penalty)), score)
