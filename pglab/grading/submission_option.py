"""``pytest CHECKS --submission NOTEBOOK``: one learner's notebook, executed exactly as ``pglab grade`` does.

A pytest plugin of the grader's own (entry point ``pglab_submission``), beside the checks' plugin
(:mod:`pglab.checks.plugin`), which never loads it in a learner's kernel. The notebook runs in the
grading sandbox (bubblewrap, a throw-away user as root) against its own fresh copy of the course
database, with the same cell plan and limits; then pytest runs the checks against that kernel.
Nothing is written next to the notebook, and everything is cleaned up when pytest ends. An
instructor uses it to see exactly why a learner lost points, with pytest's ``-k``, ``-x`` and
``--pdb``; the blame rules are the checks' own (:mod:`pglab.checks.verdicts`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from pglab.checks.layout import challenge_of
from pglab.checks.plugin import INFO, PROVIDED, SUBMISSION
from pglab.errors import GraderFault, PglabError
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.grade_notebook import submission_in_sandbox
from pglab.grading.kernels.bubblewrap import find_bwrap
from pglab.grading.kernels.submission import KernelSubmission
from pglab.grading.notebook_cells import UnreadableNotebook, read_submission
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.sandbox import SandboxPool, grading_context
from pglab.grading.timeouts import Limits

RUNNING = pytest.StashKey["SandboxedSubmission"]()  # the notebook's sandbox, for the session


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pglab", "pglab challenge checks")
    group.addoption("--submission", metavar="NOTEBOOK", default=None,
                    help="a learner's notebook: execute it in a sandbox with its own copy of the course "
                         "database, as `pglab grade` does, and run these checks against it")


@pytest.hookimpl(trylast=True)  # after the checks' plugin marked which items are checks
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    notebook = config.getoption("submission")
    checks = [item for item in items if INFO in item.stash]
    if not notebook or not checks or config.option.collectonly or config.stash.get(PROVIDED, False):
        return
    challenges = {challenge_of(Path(str(item.path))) for item in checks}
    if len(challenges) > 1:
        raise pytest.UsageError("--submission grades one notebook: give the check files of one challenge "
                                f"(these are for {', '.join(sorted('/'.join(c) for c in challenges))})")
    ((assignment, name),) = challenges
    running = SandboxedSubmission(assignment, name, Path(notebook))
    config.add_cleanup(running.close)
    config.stash[RUNNING] = running
    config.stash[SUBMISSION] = running.submission()  # executes the notebook now: a fault is one UsageError


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    running = config.stash.get(RUNNING, None)
    if running is not None:
        for line in running.summary_lines():
            terminalreporter.write_line(line)


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
