"""The lessons as the tests read them: each exercise's starter and check cells, and the reference
answers instructors keep in ``grader/lesson_answers/NN_<notebook>.py`` under ``# %% Exercise N.M``."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from pglab.settings import PROJECT_ROOT

LESSONS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ANSWERS = PROJECT_ROOT / "grader" / "lesson_answers"
EXERCISE_HEADING = re.compile(r"^### Exercise (\d+\.\d+) · (.+)$", re.MULTILINE)
ANSWER_MARK = re.compile(r"^# %% Exercise (\d+\.\d+)\s*$", re.MULTILINE)


def exercise_cells(nb: nbformat.NotebookNode) -> dict[str, tuple[int, int, str]]:
    """Exercise number -> (index of its starter cell, index of its check cell, title)."""
    found = {}
    for index, cell in enumerate(nb.cells):
        match = EXERCISE_HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            found[match.group(1)] = (index + 1, index + 2, match.group(2).strip())
    return found


def reference_answers(notebook: Path) -> dict[str, str]:
    """Exercise number -> the reference answer, from the instructor-side file of this lesson."""
    text = (ANSWERS / f"{notebook.stem}.py").read_text(encoding="utf-8")
    pieces = ANSWER_MARK.split(text)
    return {number: body.strip() + "\n" for number, body in zip(pieces[1::2], pieces[2::2], strict=True)}
