"""Check the checks: before any learner is graded, each challenge's checks run on its reference solution.

Blame by evidence, not by where an exception was raised. A check that fails on the course's own
reference solution (``solutions/<assignment>/<notebook>.ipynb``, or with ``--source`` the source
notebook) is wrong, or the reference is: grading a class with it would blame every learner for the
course's mistake, so ``pglab grade`` stops before it grades anyone and names the check
(:class:`~pglab.errors.ChecksFailTheReference`). A check that passes on the reference and fails on
a learner's work fails because of that work, even when the exception came from the check's own code
(:class:`~pglab.checks.verdicts.Explanation`).

A reference that passed is remembered under the challenge's fingerprint (its source, check
modules, course data, limits, grader revision) in ``references/`` of pglab's state folder
(``PGLAB_HOME``, by default the course's ``.pglab/``), one file per fingerprint: a re-run with
unchanged checks runs no reference at all, nor does a run into another ``--out`` (another week's
folder, a trial run). A failure is never remembered; a record that cannot be written only costs
the next run the time to check again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, wait
from pathlib import Path

from pglab.errors import ChecksFailTheReference, FaultKind, GraderFault
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.result_store import write_atomically
from pglab.grading.strategies import strategy_for
from pglab.settings import PROJECT_ROOT

REFERENCE = "reference"  # the "student" a reference solution is graded as
SHOWN = 3  # failing checks named in the one line; the rest are counted


class ReferenceRecords:
    """Fingerprints of challenges whose checks passed on their reference, one file each, in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, fingerprint: str) -> Path:
        return self.root / f"{fingerprint}.json"

    def passed(self, challenge: ChallengeNotebook, fingerprint: str) -> bool:
        try:
            return self._path(fingerprint).is_file()
        except OSError:  # a state folder this user may not read: check again
            return False

    def remember(self, challenge: ChallengeNotebook, fingerprint: str) -> None:
        record = {"assignment": challenge.assignment, "notebook": challenge.notebook, "source": str(challenge.source)}
        with contextlib.suppress(GraderFault):  # a cache: not remembering costs the next run time, no more
            write_atomically(self._path(fingerprint), json.dumps(record).encode())


def to_check(challenges: Iterable[ChallengeNotebook], records: ReferenceRecords,
             fingerprint: Callable[[ChallengeNotebook], str]) -> list[ChallengeNotebook]:
    """The challenges whose checks must run on their reference before learners are graded."""
    unique = sorted(set(challenges), key=lambda c: (c.assignment, c.notebook))
    return [c for c in unique if c.checks() and not records.passed(c, fingerprint(c))]


def check_references(challenges: list[ChallengeNotebook], grade: Callable[[ChallengeNotebook], NotebookOutcome],
                     pool: Executor, wait_s: float, records: ReferenceRecords,
                     fingerprint: Callable[[ChallengeNotebook], str]) -> None:
    """Grade each reference (in ``pool``, beside each other); remember those whose checks all pass.

    Raises :class:`ChecksFailTheReference` naming the checks that failed, or the
    :class:`GraderFault` that kept a reference from being graded (then nobody can be graded either).
    """
    futures = {pool.submit(grade, challenge): challenge for challenge in challenges}
    done, pending = wait(futures, timeout=wait_s)
    if pending:
        raise GraderFault(FaultKind.STUCK, f"a reference solution was not graded within {wait_s:.0f} s")
    failures: list[str] = []
    for future in sorted(done, key=lambda f: (futures[f].assignment, futures[f].notebook)):
        challenge, outcome = futures[future], future.result()
        if not outcome.is_grade:
            raise GraderFault(outcome.fault or FaultKind.INTERNAL,
                              f"the reference solution {shown(challenge.source)} could not be graded "
                              f"({outcome.fault_reason})")
        failed = failing_checks(challenge, outcome)
        if failed:
            failures.extend(failed)
        else:
            records.remember(challenge, fingerprint(challenge))
    if failures:
        more = f"; and {len(failures) - SHOWN} more" if len(failures) > SHOWN else ""
        raise ChecksFailTheReference(
            f"{len(failures)} check(s) fail on the course's reference solution, so nobody was graded: "
            f"{'; '.join(failures[:SHOWN])}{more}. Fix the check (or the reference solution) and run the "
            "same command again")


def failing_checks(challenge: ChallengeNotebook, outcome: NotebookOutcome) -> list[str]:
    """Each course check that did not pass on the reference: ``FILE::NAME on REFERENCE: message``."""
    failed = []
    checks, results = challenge.checks(), strategy_for(challenge).check_results(outcome)
    for info, result in zip(checks, results, strict=False):  # the same order: visible, then hidden
        if not result.passed:
            failed.append(f"{shown(Path(info.file))}::{result.name} on {shown(challenge.source)}: {result.message}")
    if failed and outcome.notes:  # the reference's own cells failing explains a failing check best
        failed[0] += f" (the reference notebook: {outcome.notes[0]})"
    return failed


def shown(path: Path) -> str:
    """A path as an instructor types it: relative to the course when it is inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(path)
