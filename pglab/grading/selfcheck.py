"""The learner's self-check: run the visible checks from inside a challenge notebook.

Only checks shipped with the course (``pglab/challenge_checks``) run here; hidden ones are neither
run nor named. Each failed check prints the message the grader would give.
"""

from __future__ import annotations

from typing import Any

from pglab.grading.checks import run_check
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.learner import LocalSubmission, database_url


def check_my_work(assignment: str, notebook: str, namespace: dict[str, Any]) -> None:
    challenge = ChallengeNotebook(assignment, notebook)
    visible = [c for c in challenge.checks(include_hidden=False) if not c.hidden]
    sub = LocalSubmission(namespace, database_url(namespace))
    results = [run_check(item, sub) for item in visible]
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
