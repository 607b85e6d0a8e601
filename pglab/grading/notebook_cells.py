"""What of a submitted notebook gets executed: the learner's answers, our own locked cells.

Cells are matched to the source notebook by nbgrader ``grade_id``. Locked cells (set-up, checks)
are always taken from the source, so editing or deleting them changes nothing; a learner's extra
cells run in order; a second cell claiming an id that was already seen is ignored (and said so).
The submitted file itself is only read, never modified.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import nbformat

from pglab.grading.cell_metadata import is_grade, is_locked, is_solution
from pglab.grading.outcome import CellKind

SELF_CHECK_MARKER = "check_my_work("


class UnreadableNotebook(Exception):
    """The file is not a notebook the grader can read; the message says why."""


class PlannedCell(NamedTuple):
    """One cell to run, with the label notes and feedback name it by and whose cell it is."""

    label: str
    source: str
    kind: CellKind


@dataclass
class GradingPlan:
    cells: list[PlannedCell] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def nbgrader_meta(cell: dict) -> dict:
    """A raw cell's nbgrader metadata, whatever shape a learner's editor left it in: for its
    ``grade_id``, which ``nbgrader.utils`` has no reader for (its ``is_*`` readers want a
    well-formed NotebookNode, as the source notebooks are)."""
    found = cell.get("metadata", {})
    meta = found.get("nbgrader", {}) if isinstance(found, dict) else {}
    return meta if isinstance(meta, dict) else {}


def read_submission(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UnreadableNotebook(f"the file could not be read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnreadableNotebook(f"the file is not UTF-8 text (byte {err.start} is invalid)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UnreadableNotebook(f"the file is not valid notebook JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UnreadableNotebook("the file is JSON but not a notebook (no list of cells)")
    if not data["cells"]:
        raise UnreadableNotebook("the notebook has no cells")
    return data


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


@functools.lru_cache(maxsize=64)
def _source_notebook(path: Path) -> nbformat.NotebookNode:
    """Each source notebook parsed once per run (nbformat's validation is slow, and they are ours)."""
    return nbformat.from_dict(json.loads(path.read_text(encoding="utf-8")))


def plan_execution(source_path: Path, submitted: dict) -> GradingPlan:
    """The cells to run, in order: the source's set-up first, then the learner's work."""
    source = _source_notebook(source_path)
    plan = GradingPlan()
    locked: dict[str, dict] = {}
    answers: set[str] = set()
    for cell in source.cells:  # the source is ours and well-formed: nbgrader's own reading of it
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not grade_id:
            continue
        if is_solution(cell):
            answers.add(grade_id)
        elif is_locked(cell):  # grade cells are locked too
            locked[grade_id] = cell
    seen: set[str] = set()
    setup_done = False
    for cell in source.cells:  # locked set-up cells come first, from the source
        is_setup = is_locked(cell) and not is_grade(cell) and SELF_CHECK_MARKER not in _source(cell)
        if cell.cell_type == "code" and is_setup:
            label = f"set-up cell '{nbgrader_meta(cell).get('grade_id')}'"
            plan.cells.append(PlannedCell(label, _source(cell), CellKind.SETUP))
            setup_done = True
    found_answers: set[str] = set()
    for index, cell in enumerate(submitted["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        text = _source(cell)
        if grade_id in seen:
            plan.notes.append(f"cell {index + 1} repeats the id '{grade_id}' of an earlier cell: ignored")
            continue
        if grade_id:
            seen.add(grade_id)
        if grade_id in locked:
            continue  # set-up ran from the source; checks run in the grader, not here
        if SELF_CHECK_MARKER in text:
            continue
        if grade_id in answers:
            found_answers.add(grade_id)
        plan.cells.append(PlannedCell(f"cell {index + 1}", text, CellKind.SUBMITTED))
    for missing in sorted(answers - found_answers):
        plan.notes.append(f"the answer cell '{missing}' is missing from the submission")
    if not setup_done:
        plan.notes.append("the source notebook has no set-up cell")
    return plan
