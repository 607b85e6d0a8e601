"""Checking the checks on the reference solution: which challenges need it, what stops the run, and
that a pass is remembered by the challenge's fingerprint and a failure never is."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pglab.checks.results import CheckResult
from pglab.errors import ChecksFailTheReference, FaultKind, GraderFault
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import NotebookOutcome, not_graded
from pglab.grading.reference_check import REFERENCE, ReferenceRecords, check_references, failing_checks, to_check

BEGINNER = ChallengeNotebook("core", "beginner")
ADVANCED = ChallengeNotebook("core", "advanced")


def reference_outcome(challenge: ChallengeNotebook, failing: dict[str, str]) -> NotebookOutcome:
    """The reference graded: every check passes but those in ``failing`` (name -> message)."""
    outcome = NotebookOutcome(REFERENCE, challenge.assignment, challenge.notebook, challenge.max_points())
    outcome.results = [CheckResult(c.name, c.description, 0.0 if c.name in failing else c.points, c.points, c.hidden,
                                   failing.get(c.name, "passed")) for c in challenge.checks()]
    return outcome


def fingerprint(challenge: ChallengeNotebook) -> str:
    return f"print of {challenge.notebook}"


def test_a_failing_check_is_named_with_its_file_and_the_reference() -> None:
    name = BEGINNER.checks()[-1].name
    outcome = reference_outcome(BEGINNER, {name: "the check could not use what your code left behind (KeyError)"})
    outcome.notes.append("cell 5 raised NameError: name 'get_db' is not defined")
    (line,) = failing_checks(BEGINNER, outcome)
    assert line == (f"grader/checks/core/test_beginner.py::{name} on solutions/core/beginner.ipynb: the check could "
                    "not use what your code left behind (KeyError) (the reference notebook: cell 5 raised "
                    "NameError: name 'get_db' is not defined)")
    assert failing_checks(BEGINNER, reference_outcome(BEGINNER, {})) == []


def test_only_challenges_with_checks_and_no_pass_on_record_are_checked(tmp_path: Path) -> None:
    records = ReferenceRecords(tmp_path)
    assert to_check([BEGINNER, ADVANCED, BEGINNER], records, fingerprint) == [ADVANCED, BEGINNER]
    records.remember(BEGINNER, fingerprint(BEGINNER))
    assert to_check([BEGINNER, ADVANCED], records, fingerprint) == [ADVANCED]
    assert to_check([BEGINNER], records, lambda c: "the checks changed") == [BEGINNER]
    no_checks = ChallengeNotebook("week1", "numpy_basics", tmp_path)
    assert to_check([no_checks], records, fingerprint) == []


def test_a_failure_stops_the_run_and_is_not_remembered(tmp_path: Path) -> None:
    records = ReferenceRecords(tmp_path)
    failing = {ADVANCED.checks()[0].name: "expected 3 retries"}

    def grade(challenge: ChallengeNotebook) -> NotebookOutcome:
        return reference_outcome(challenge, failing if challenge == ADVANCED else {})

    with ThreadPoolExecutor(2) as pool, pytest.raises(ChecksFailTheReference) as stopped:
        check_references([ADVANCED, BEGINNER], grade, pool, 60, records, fingerprint)
    assert str(stopped.value).startswith("1 check(s) fail on the course's reference solution, so nobody was graded: "
                                         "pglab/challenge_checks/core/test_advanced.py::")
    assert "expected 3 retries" in str(stopped.value)
    assert to_check([ADVANCED, BEGINNER], records, fingerprint) == [ADVANCED], "the passing one is remembered"


def test_a_reference_the_grader_failed_on_is_its_fault_not_the_checks(tmp_path: Path) -> None:
    def grade(challenge: ChallengeNotebook) -> NotebookOutcome:
        return not_graded(REFERENCE, "core", "beginner", [], GraderFault(FaultKind.DATABASE, "connection refused"))

    with ThreadPoolExecutor(1) as pool, pytest.raises(GraderFault) as fault:
        check_references([BEGINNER], grade, pool, 60, ReferenceRecords(tmp_path), fingerprint)
    assert fault.value.kind is FaultKind.DATABASE and "solutions/core/beginner.ipynb" in str(fault.value)
