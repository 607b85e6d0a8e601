"""A small class's submissions for gradebook tests, and nbgrader's own reading of a gradebook file."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from pglab.checks.results import CheckResult
from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports.gradebook_plan import SubmissionRecord

STAMP = datetime(2026, 12, 1, 9, 0, 0)
DUE = {"core": datetime(2026, 12, 1, 12, 0, 0)}


def course() -> dict[str, list[ChallengeNotebook]]:
    return {"core": [c for c in assignments()["core"] if c.notebook in ("beginner", "intermediate")]}


def submission(student: str, points: float, stamp: datetime | None = STAMP, **extra: object) -> SubmissionRecord:
    made = []
    for notebook in ("beginner", "intermediate"):
        outcome = NotebookOutcome(student, "core", notebook, 10)
        outcome.results = [CheckResult("test_all", "all of it", points, 10, False, "")]
        made.append(outcome)
    return SubmissionRecord(student, "core", stamp, tuple(made), **extra)  # type: ignore[arg-type]


def nbgrader_whole_export(path: Path, scratch: Path) -> str:
    """What ``nbgrader export`` makes of the gradebook file now, read by nbgrader's whole package,
    independent of any ledger."""
    gradebook = Gradebook(f"sqlite:///{path}")
    try:
        plugin = CsvExportPlugin(to=str(scratch / "whole.csv"))
        plugin.log = logging.getLogger("test")
        plugin.export(gradebook)
    finally:
        gradebook.close()
    return (scratch / "whole.csv").read_text(encoding="utf-8")
