"""Grading inside the learner's kernel, for instructors who run plain ``nbgrader autograde``.

nbgrader runs a notebook's test cells in the learner's own kernel; the hidden part of each test
cell calls :func:`score`, whose numeric result nbgrader records as partial credit. This path has
nbgrader's known weakness (learner code runs in the same process as the checks, nbgrader issue
#1324); ``pglab grade`` does not share it.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from pglab.grading.checks import run_check
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.learner import LocalSubmission, database_url


def score(assignment: str, notebook: str, namespace: dict[str, Any]) -> float:
    """Run all checks (visible and hidden) here; print one line per check; return the points."""
    challenge = ChallengeNotebook(assignment, notebook)
    sub = LocalSubmission(namespace, database_url(namespace))
    total = 0.0
    lines = []
    sink = io.StringIO()
    # nbgrader gives zero to a test cell that writes to stderr: keep learner noise out of it.
    with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(io.StringIO()):
        for item in challenge.checks(include_hidden=True):
            result = run_check(item, sub)
            total += result.points
            mark = "✔" if result.passed else "✘"
            lines.append(f"{mark} {result.description} ({result.points:g}/{result.max_points:g})"
                         + ("" if result.passed else f": {result.message}"))
    sub.close()
    print("\n".join(lines))
    return total
