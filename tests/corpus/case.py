"""A sample submission and the grade it must get: the project's grading corpus is a list of these.

Most cases are a released challenge notebook with its answer cell replaced; ``raw`` cases are files
written byte for byte (broken JSON, wrong encodings); ``edit`` cases transform the notebook's JSON
(delete a locked cell, duplicate ids, add cells).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pglab.grading.course_layout import RELEASE


@dataclass(frozen=True)
class Case:
    student: str
    assignment: str
    notebook: str
    points: float
    answer: str | None = None
    raw: bytes | None = None
    edit: Callable[[dict], dict] | None = None
    reasons: tuple[str, ...] = ()  # substrings that must appear in this notebook's checks.csv rows
    failing: tuple[str, ...] = field(default=())  # checks that must fail (names), others of note pass
    requires_root: bool = False  # the protection it tests (hidden folders, a sandbox user) needs root
    problem: bool = False  # not gradable as a notebook of that assignment: a "(submission)" row says why

    def write(self, submitted: Path) -> Path:
        folder = submitted / self.student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.notebook}.ipynb"
        if self.raw is not None:
            path.write_bytes(self.raw)
            return path
        notebook = json.loads((RELEASE / self.assignment / f"{self.notebook}.ipynb").read_text())
        if self.answer is not None:
            for cell in notebook["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "answer":
                    cell["source"] = self.answer
        if self.edit is not None:
            notebook = self.edit(notebook)
        path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        return path
