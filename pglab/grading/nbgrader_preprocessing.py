"""nbgrader's own preprocessors on a source notebook and a submission: the cells to run and the
test cells to score out, by nbgrader's rules.

The source goes through the preprocessors ``nbgrader generate_assignment`` runs before it saves a
notebook's cells into its gradebook (AUTOTEST lines instantiated, cells locked, solutions and
outputs cleared, checksums computed), so hidden tests are still in it: that is what nbgrader
restores them from. The submission then goes through ``nbgrader autograde``'s own sanitizing
preprocessors (ClearOutput, DeduplicateIds, OverwriteCells), OverwriteCells reading that source
instead of a gradebook: a locked cell (every test cell is one) whose checksum changed comes back
from the source, hidden tests and all, whatever the learner did to it.

Only a source with grade cells of its own (``pglab grade --source``) needs this module, and with it
nbgrader's package; :mod:`pglab.grading.nbgrader_cells` reads the cells themselves.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import (
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    DeduplicateIds,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    OverwriteCells,
)
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests

from pglab.grading.cell_metadata import is_grade, is_locked, is_solution, is_task
from pglab.grading.nbgrader_cells import SELF_CHECK_MARKER, is_course_checks, source_version, test_cells
from pglab.grading.nbgrader_config import DEFAULTS, CourseConfig, log
from pglab.grading.notebook_cells import PlannedCell
from pglab.grading.outcome import CellKind

CELL_ID = re.compile(r"[a-zA-Z0-9-_]{1,64}")  # nbformat 4.5's cell id


@dataclass
class NbgraderPlan:
    notebook: NotebookNode  # the submission as nbgrader would execute it
    runs: list[tuple[int, str]] = field(default_factory=list)  # (cell index, label), in order
    cells: list[PlannedCell] = field(default_factory=list)  # what runs, in the same order
    notes: list[str] = field(default_factory=list)


def release_source(path: Path, config: CourseConfig = DEFAULTS) -> NotebookNode:
    """The source notebook as nbgrader's gradebook keeps it (see the module docstring), made with
    the course's config: its header, AUTOTEST templates, delimiters and code stubs."""
    return _release_source(*source_version(path), config)


@functools.lru_cache(maxsize=64)
def _release_source(path: Path, mtime_ns: int, size: int, config: CourseConfig) -> NotebookNode:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    resources: dict[str, Any] = {"metadata": {"path": str(path.parent)}, "nbgrader": {}}
    # AUTOTEST templates: the assignment's, else the course root's (the folder above source/,
    # where nbgrader runs), as nbgrader looks for them.
    templates = config.preprocessor(InstantiateTests).autotest_filename
    if not (path.parent / templates).is_file():
        templates = str(path.parent.parent.parent / templates)
    header, footer = config.course_file("header"), config.course_file("footer")
    for preprocessor in (config.preprocessor(IncludeHeaderFooter, header=str(header or ""), footer=str(footer or "")),
                         config.preprocessor(InstantiateTests, autotest_filename=templates),
                         config.preprocessor(LockCells), config.preprocessor(ClearSolutions),
                         config.preprocessor(ClearOutput), config.preprocessor(ComputeChecksums)):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


class _SourceCells:
    """What OverwriteCells asks nbgrader's gradebook, answered from the release source."""

    def __init__(self, source: NotebookNode) -> None:
        self.cells = {cell.metadata.nbgrader["grade_id"]: cell for cell in source.cells
                      if is_grade(cell) or is_solution(cell) or is_locked(cell)
                      or is_task(cell)}

    def _cell(self, grade_id: str) -> NotebookNode:
        if grade_id not in self.cells:
            raise MissingEntry()
        return self.cells[grade_id]

    def find_source_cell(self, grade_id: str, notebook: str, assignment: str) -> SimpleNamespace:
        cell = self._cell(grade_id)
        return SimpleNamespace(name=grade_id, cell_type=cell.cell_type, locked=is_locked(cell),
                               checksum=cell.metadata.nbgrader.get("checksum"), source=cell.source)

    def find_graded_cell(self, grade_id: str, notebook: str, assignment: str) -> SimpleNamespace:
        return SimpleNamespace(max_score=float(self._cell(grade_id).metadata.nbgrader.get("points", 0)))


class _RestoreFromSource(OverwriteCells):
    """nbgrader's OverwriteCells, cell by cell, against the source; its warnings become notes."""

    def __init__(self, source: NotebookNode, notes: list[str], config: CourseConfig) -> None:
        super().__init__(config=config.config)
        self.course_config = config
        self.gradebook = _SourceCells(source)
        self.notebook_id = self.assignment_id = ""  # one source notebook: no ids to look up by
        self.notes = notes
        self._submitted = ""
        self.log = log

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        for index, cell in enumerate(nb.cells):
            self._submitted = cell.source
            nb.cells[index], resources = self.preprocess_cell(cell, resources, index)
        return nb, resources

    def report_change(self, name: str, attr: str, old: Any, new: Any) -> None:
        if attr == "checksum":
            # Every cell with hidden tests differs from the source: only a learner's edit is news.
            released = copy.deepcopy(self.gradebook.cells[name])
            self.course_config.preprocessor(ClearHiddenTests)._remove_hidden_test_region(released)
            if self._submitted.strip() != released.source.strip():
                self.notes.append(f"the locked cell '{name}' was changed: it was restored from the source")
        else:
            self.notes.append(f"the cell '{name}' had its {attr} changed (should be {old}): put back")


def _as_notebook(submitted: dict, notes: list[str]) -> NotebookNode:
    """The submission in the shape nbgrader's preprocessors expect, whatever the learner's editor wrote."""
    cells = []
    seen_ids: set[str] = set()
    for index, cell in enumerate(submitted.get("cells", [])):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            notes.append(f"cell {index + 1} is not a notebook cell: ignored")
            continue
        source = cell.get("source", "")
        found = cell.get("metadata")
        metadata: dict[str, Any] = found if isinstance(found, dict) else {}
        if not isinstance(metadata.get("nbgrader", {}), dict):
            metadata = {k: v for k, v in metadata.items() if k != "nbgrader"}
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and CELL_ID.fullmatch(cell_id)) or cell_id in seen_ids:
            cell_id = f"pglab-{index + 1}"  # nbformat 4.5 wants unique ids; old editors write none
        seen_ids.add(cell_id)
        clean: dict[str, Any] = {"id": cell_id, "cell_type": cell["cell_type"], "metadata": metadata,
                                 "source": "".join(source) if isinstance(source, list) else str(source)}
        if cell["cell_type"] == "code":
            clean.update(outputs=[], execution_count=None)
        cells.append(clean)
    notebook_meta = submitted.get("metadata")
    return nbformat.from_dict({"cells": cells, "metadata": notebook_meta if isinstance(notebook_meta, dict) else {},
                               "nbformat": 4, "nbformat_minor": 5})


def plan_nbgrader(source_path: Path, submitted: dict, config: CourseConfig = DEFAULTS) -> NbgraderPlan:
    """The cells to run, in the submission's order, after nbgrader's sanitizing of it."""
    notes: list[str] = []
    nb = _as_notebook(submitted, notes)
    resources: dict[str, Any] = {"nbgrader": {}}
    nb, resources = config.preprocessor(ClearOutput).preprocess(nb, resources)
    nb, resources = config.preprocessor(DeduplicateIds).preprocess(nb, resources)
    nb, resources = _RestoreFromSource(release_source(source_path, config), notes, config).preprocess(nb, resources)
    plan = NbgraderPlan(notebook=nb, notes=notes)
    tests = {test.grade_id: test for test in test_cells(source_path, config)}
    present = set()
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            present.add(grade_id)
        if cell.cell_type != "code" or is_course_checks(cell) or SELF_CHECK_MARKER in cell.source:
            continue
        is_test = is_grade(cell) and not is_solution(cell)
        label = tests[grade_id].description if is_test and grade_id in tests else f"cell {index + 1}"
        plan.runs.append((index, label))
        plan.cells.append(PlannedCell(label, cell.source, CellKind.TEST if is_test else CellKind.SUBMITTED))
    for test in tests.values():
        if test.grade_id not in present:
            plan.notes.append(f"{test.description} was deleted from the submission: it scores 0")
    return plan


def cell_by_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
            if cell.metadata.get("nbgrader", {}).get("grade_id")}


def source_files(folder: Path, config: CourseConfig = DEFAULTS) -> list[Path]:
    """Files beside the source notebooks that nbgrader copies next to each submission (images,
    data): not those the course's ``CourseDirectory.ignore`` names, nor those its
    ``Autograde.exclude_overwriting`` leaves to the learner's own copy."""
    kept = {(folder / name).resolve() for name in config.exclude_overwriting(folder.name)}
    return [p for p in folder_files(folder, config) if p.resolve() not in kept]


def folder_files(folder: Path, config: CourseConfig = DEFAULTS) -> list[Path]:
    """The files nbgrader copies from a source or submission folder: all but notebooks and the ignored."""
    return [Path(p) for p in sorted(utils.find_all_files(str(folder), [*config.ignore, "*.ipynb"]))]
