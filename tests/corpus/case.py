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
from pglab.grading.notebook_cells import nbgrader_meta


def with_answer(release: Path, answer: str | None) -> dict:
    """The released notebook at ``release`` with ``answer`` in its answer cell (None: the stub as released)."""
    notebook = json.loads(release.read_text(encoding="utf-8"))
    if answer is not None:
        for cell in notebook["cells"]:
            if nbgrader_meta(cell).get("grade_id") == "answer":
                cell["source"] = answer
    return notebook


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
        notebook = with_answer(RELEASE / self.assignment / f"{self.notebook}.ipynb", self.answer)
        if self.edit is not None:
            notebook = self.edit(notebook)
        path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        return path
