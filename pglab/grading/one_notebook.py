"""``pytest CHECKS --submission NOTEBOOK``: one learner's notebook, executed exactly as ``pglab grade`` does.

The notebook runs in the grading sandbox (bubblewrap, a throw-away user as root) against its own
fresh copy of the course database, with the same cell plan and limits; then pytest runs the
checks against that kernel. Nothing is written next to the notebook, and everything is cleaned up
when pytest ends. An instructor uses it to see exactly why a learner lost points, with pytest's
``-k``, ``-x`` and ``--pdb``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pglab.errors import GraderFault, PglabError
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.grade_notebook import SandboxPool, grading_context, submission_in_sandbox
from pglab.grading.kernels.bubblewrap import find_bwrap
from pglab.grading.kernels.session import Limits
from pglab.grading.kernels.submission import KernelSubmission
from pglab.grading.notebook_cells import UnreadableNotebook, read_submission
from pglab.grading.outcome import NotebookOutcome


class SandboxedSubmission:
    """The notebook's sandbox, started on the first check that needs it, for the whole pytest session."""

    def __init__(self, assignment: str, notebook: str, path: Path) -> None:
        self.challenge = ChallengeNotebook(assignment, notebook)
        self.path = path
        self._stack = contextlib.ExitStack()
        self._sub: KernelSubmission | None = None
        self._outcome: NotebookOutcome | None = None

    def submission(self) -> KernelSubmission:
        if self._sub is None:
            try:
                self._sub = self._start()
            except UnreadableNotebook as err:
                self.close()
                raise pytest.UsageError(f"{self.path}: {err}") from None
            except (GraderFault, PglabError) as err:
                self.close()
                raise pytest.UsageError(f"{self.path} could not be executed: {err}") from None
            except BaseException:
                self.close()
                raise
        return self._sub

    def _start(self) -> KernelSubmission:
        if not self.challenge.source.is_file():
            raise PglabError(f"there is no challenge {self.challenge.assignment}/{self.challenge.notebook} "
                             f"({self.challenge.source} is missing)")
        data = read_submission(self.path)
        context = self._stack.enter_context(grading_context(Limits(), find_bwrap(), {self.challenge.source_root}))
        pool = SandboxPool(context, 1, refill=False)
        self._stack.callback(pool.close)
        sandbox, outcome, _ = self._stack.enter_context(
            submission_in_sandbox(self.path.stem, self.challenge, self.path, data, context, pool))
        self._outcome = outcome
        sub = KernelSubmission(sandbox.session, sandbox.database.url)
        self._stack.callback(sub.close)
        return sub

    def summary_lines(self) -> list[str]:
        """What happened to the learner's own cells (errors, timeouts), under pytest's report."""
        if self._outcome is None:
            return []
        lines = [f"pglab: {self.path} ran in a sandbox on its own copy of the course database"]
        lines += [f"pglab:   {note}" for note in self._outcome.notes]
        return lines

    def close(self) -> None:
        self._stack.close()
