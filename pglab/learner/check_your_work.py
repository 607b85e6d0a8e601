"""The learner's *Check your work* cell: the visible checks, run by pytest inside their own kernel.

Only checks shipped with the course (``pglab/challenge_checks``) run here; hidden ones are neither
run nor named. Each failed check prints the message the grader would give.
"""

from __future__ import annotations

from typing import Any

from pglab.checks.layout import check_files
from pglab.checks.plugin import run_here
from pglab.checks.submission import LocalSubmission, database_url
from pglab.errors import ChecksDoNotLoad


def check_my_work(assignment: str, notebook: str, namespace: dict[str, Any]) -> None:
    sub = LocalSubmission(namespace, database_url(namespace))
    try:
        results = run_here(check_files(assignment, notebook, include_hidden=False), sub)
    except ChecksDoNotLoad as err:
        print(f"The checks for {notebook} could not be loaded; tell your instructor:\n{err}")
        return
    finally:
        sub.close()
    passed = sum(r.passed for r in results)
    print(f"Self-check for {notebook}: {passed} of {len(results)} visible checks pass")
    for result in results:
        if result.passed:
            print(f"  ✔ {result.description}")
        else:
            print(f"  ✘ {result.description}\n      what to fix: {result.message}")
    if passed == len(results):
        print("All visible checks pass. Hidden checks (edge cases) are run when your work is graded.")
