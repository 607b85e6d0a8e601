"""The late-penalty policies of ``pglab grade --late-policy``, as an nbgrader late-submission plugin.

nbgrader's ``AssignLatePenalties`` asks a :class:`~nbgrader.plugins.LateSubmissionPlugin` for each
late notebook's penalty (given the notebook's score and the submission's seconds late), then keeps
it between 0 and that score. This plugin is one: ``none`` and ``zero`` are nbgrader's own methods,
``per-hour`` takes ``points_per_hour`` off for every started hour late. ``pglab grade`` asks it the
same question nbgrader would (:func:`notebook_penalty`), and a plain nbgrader course can use it in
``nbgrader autograde`` too::

    c.AssignLatePenalties.plugin_class = "pglab.grading.nbgrader_late_plugin.PglabLatePenalty"
    c.PglabLatePenalty.penalty_method = "per-hour"
    c.PglabLatePenalty.points_per_hour = 2
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

from pglab.errors import PglabError

PER_HOUR = "per-hour"
SECONDS_PER_HOUR = 3600


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


@dataclass(frozen=True)
class LatePolicy:
    """What ``--late-policy`` chose: ``none``, ``zero`` or ``per-hour:P``."""

    method: str = "none"
    points_per_hour: float = 0.0

    def __str__(self) -> str:
        return f"{PER_HOUR}:{self.points_per_hour:g}" if self.method == PER_HOUR else self.method

    def plugin(self) -> PglabLatePenalty:
        return PglabLatePenalty(penalty_method=self.method, points_per_hour=self.points_per_hour)


NO_PENALTY = LatePolicy()


def parse_late_policy(text: str) -> LatePolicy:
    """``--late-policy``'s value, or one line saying what it may be."""
    value = text.strip()
    if value in ("none", "zero"):
        return LatePolicy(value)
    method, colon, points = value.partition(":")
    if method == PER_HOUR and colon:
        try:
            per_hour = float(points)
        except ValueError:
            per_hour = -1.0
        if per_hour >= 0 and math.isfinite(per_hour):
            return LatePolicy(PER_HOUR, per_hour)
    raise PglabError(f"--late-policy {text!r} is not a policy: give none, zero, or per-hour:P "
                     "(P points off per started hour late, e.g. per-hour:2)")


def notebook_penalty(plugin: LateSubmissionPlugin, student: str, score: float, seconds_late: float) -> float:
    """A notebook's late penalty as nbgrader's ``AssignLatePenalties`` sets it: none unless the
    submission is late; the plugin's answer, kept between 0 and the notebook's score."""
    if seconds_late <= 0:
        return 0.0
    penalty = plugin.late_submission_penalty(student, score, seconds_late)
    if penalty is None:
        return 0.0
    return min(max(0.0, float(penalty)), score)
