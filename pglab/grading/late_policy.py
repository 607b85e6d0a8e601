"""``pglab grade --late-policy``: none, zero, or per-hour:P, as given and checked.

What a policy takes off a late notebook is nbgrader's late-submission plugin's answer
(:mod:`pglab.grading.nbgrader_late_plugin`); this module only holds the choice, so a run with no
late notebook never imports nbgrader for it (0.6 s, see :mod:`pglab.grading.cell_metadata`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pglab.errors import PglabError

PER_HOUR = "per-hour"
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class LatePolicy:
    """What ``--late-policy`` chose: ``none``, ``zero`` or ``per-hour:P``."""

    method: str = "none"
    points_per_hour: float = 0.0

    def __str__(self) -> str:
        return f"{PER_HOUR}:{self.points_per_hour:g}" if self.method == PER_HOUR else self.method


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
