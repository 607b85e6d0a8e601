"""A check runner whose conversation was cut short serves no one again.

The worker answers its pytest child's questions (may this check run? evaluate this in the learner's
kernel). When something cuts that short on the worker's side (an exception nobody carries, as when
the learner's kernel vanished with its fork server), the child is still waiting for an answer: the
next notebook's request must not reach it (it once took the request for an answer, failed with an
AttributeError, and the run stopped with "the grader hit an internal error").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pglab.checks.submission import Submission
from pglab.errors import FaultKind, GraderFault
from pglab.grading.check_runner import CheckRunners

CHECKS = '''
import pytest


@pytest.mark.points(1)
def test_doubles(sub):
    assert sub.run("result = double(2)") == 4
'''
POINT_THE_CHILD_AT_THIS_FOLDER = '''
from pathlib import Path

from pglab.checks import layout

layout.VISIBLE_CHECKS = Path(__file__).parent.parent  # <root>/<assignment>/test_<notebook>.py
'''


class KernelThatVanishes(Submission):
    """Answers like a learner's kernel with ``double`` defined, but the first call breaks off."""

    def __init__(self) -> None:
        super().__init__("postgresql:///unused")
        self.calls = 0

    def run(self, code: str, timeout: float | None = None) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionResetError("the kernel's channel closed under the check")
        return 4


def sandbox_lost() -> str:
    """``not_run_reason`` when the fork server died: asking whether the kernel lives raises."""
    raise GraderFault(FaultKind.KERNEL, "the grading sandbox stopped (its fork server died) under this kernel")


@pytest.mark.parametrize("cut", ["evaluating", "asking whether a check may run"])
def test_the_next_notebook_gets_a_fresh_runner_and_its_checks_pass(tmp_path: Path, cut: str) -> None:
    (tmp_path / "maths").mkdir()
    checks = tmp_path / "maths" / "test_double.py"
    checks.write_text(CHECKS)
    (tmp_path / "maths" / "conftest.py").write_text(POINT_THE_CHILD_AT_THIS_FOLDER)
    runners = CheckRunners([checks])
    try:
        sub = KernelThatVanishes()
        first = runners.for_this_thread()
        with pytest.raises(ConnectionResetError if cut == "evaluating" else GraderFault):
            first.run([checks], sub, (lambda: "") if cut == "evaluating" else sandbox_lost)
        assert not first.alive
        second = runners.for_this_thread()
        assert second is not first
        sub.calls = 1
        results = second.run([checks], sub, lambda: "")
        assert [(r.name, r.passed) for r in results] == [("test_doubles", True)]
    finally:
        runners.close()
