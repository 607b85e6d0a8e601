"""The grader's :class:`~pglab.checks.submission.Submission`: the learner's code in a sandboxed kernel."""

from __future__ import annotations

from typing import Any

from pglab.checks.submission import Submission
from pglab.grading.kernels.session import KernelSession


class KernelSubmission(Submission):
    """The learner's code in a sandboxed kernel; only JSON comes back."""

    def __init__(self, session: KernelSession, database_url: str) -> None:
        super().__init__(database_url)
        self.session = session

    def run(self, code: str, timeout: float | None = None) -> Any:
        return self.session.evaluate(code, timeout=timeout)
