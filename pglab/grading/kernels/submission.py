"""The grader's :class:`~pglab.learner.submission.Submission`: the learner's code in a sandboxed kernel."""

from __future__ import annotations

from typing import Any

from pglab.grading.kernels.session import KernelSession
from pglab.learner.submission import Submission


class KernelSubmission(Submission):
    """The learner's code in a sandboxed kernel; only JSON comes back."""

    def __init__(self, session: KernelSession, database_url: str) -> None:
        super().__init__(database_url)
        self.session = session

    def run(self, code: str, timeout: float | None = None) -> Any:
        return self.session.evaluate(code, timeout=timeout)
