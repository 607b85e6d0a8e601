"""Grading inside the learner's kernel, for instructors who run plain ``nbgrader autograde``.

nbgrader runs a notebook's test cells in the learner's own kernel; the hidden part of each test
cell calls :func:`score`, which runs the challenge's checks (visible and hidden) in pytest right
there and returns the points, which nbgrader records as partial credit. This path has nbgrader's
known weakness (learner code runs in the same process as the checks, nbgrader issue #1324);
``pglab grade`` does not share it.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from pglab.checks.layout import check_files
from pglab.checks.plugin import run_here
from pglab.checks.submission import LocalSubmission, database_url


def score(assignment: str, notebook: str, namespace: dict[str, Any]) -> float:
    """Run all checks (visible and hidden) here; print one line per check; return the points."""
    sub = LocalSubmission(namespace, database_url(namespace))
    # nbgrader gives zero to a test cell that writes to stderr: keep learner noise out of it.
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            results = run_here(check_files(assignment, notebook, include_hidden=True), sub)
    finally:
        sub.close()
    lines = []
    for result in results:
        mark = "✔" if result.passed else "✘"
        lines.append(f"{mark} {result.description} ({result.points:g}/{result.max_points:g})"
                     + ("" if result.passed else f": {result.message}"))
    print("\n".join(lines))
    return sum(r.points for r in results)
