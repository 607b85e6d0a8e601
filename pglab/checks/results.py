"""A check, before and after it runs: what it is worth, and what it said of one learner's work.

These are the rows every report is built from (``checks.csv``, feedback pages, the gradebook's
score), whichever process ran the check: so they are plain data, the same in a learner's kernel
and in the grader.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckInfo:
    """What is known of a check before it runs: enough for max points, zeros and feedback lines."""

    name: str
    description: str
    points: float
    hidden: bool
    file: str



@dataclass(frozen=True)
class CheckResult:
    """One check's result for one notebook: a ``checks.csv`` row and a feedback line."""

    name: str
    description: str
    points: float
    max_points: float
    hidden: bool
    message: str
    by_hand: bool = False  # left for an instructor to grade (nbgrader's manual grading): no points yet

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


def result_of(info: CheckInfo, points: float, message: str) -> CheckResult:
    return CheckResult(name=info.name, description=info.description, points=points, max_points=info.points,
                       hidden=info.hidden, message=message)
