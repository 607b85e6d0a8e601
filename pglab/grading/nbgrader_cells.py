"""nbgrader's own autograder cells: a source notebook and a submission in, the cells to run and the
test cells to score out, by nbgrader's rules.

The source goes through the preprocessors ``nbgrader generate_assignment`` runs before it saves a
notebook's cells into its gradebook (AUTOTEST lines instantiated, cells locked, solutions and
outputs cleared, checksums computed), so hidden tests are still in it: that is what nbgrader
restores them from. The submission then goes through ``nbgrader autograde``'s own sanitizing
preprocessors (ClearOutput, DeduplicateIds, OverwriteCells), OverwriteCells reading that source
instead of a gradebook: a locked cell (every test cell is one) whose checksum changed comes back
from the source, hidden tests and all, whatever the learner did to it.

A grade cell that calls the course's checks in the kernel (``pglab.learner.nbgrader_score``) is not a
test cell here: ``pglab grade`` runs the course's check modules from outside the kernel instead,
so an assignment can mix nbgrader test cells and the course's checks.
"""

from __future__ import annotations

import copy
import functools
import logging
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

from pglab.grading.nbgrader_config import DEFAULTS, CourseConfig
from pglab.grading.notebook_cells import PlannedCell
from pglab.grading.outcome import CellKind
from pglab.moved_modules import former_names

# a grade cell that runs the course's checks in-kernel imports this module (by its old name
# in notebooks made before the package moved)
COURSE_CHECKS_MARKERS = ("pglab.learner.nbgrader_score", *former_names("pglab.learner.nbgrader_score"))
SELF_CHECK_MARKER = "check_my_work("  # the course's visible self-check cell: a learner aid, not a grade
TITLE_CHARS = 80  # a question's heading as feedback names a test cell by it
CELL_ID = re.compile(r"[a-zA-Z0-9-_]{1,64}")  # nbformat 4.5's cell id

log = logging.getLogger("pglab.nbgrader")


@dataclass(frozen=True)
class TestCell:
    """One of nbgrader's grade cells: an autograded test, or an answer graded by hand."""

    grade_id: str
    points: float
    cell_type: str
    hidden: bool  # has a hidden-tests region (the config's delimiters): its code never reaches feedback
    manual: bool  # a solution or markdown cell, or a task: 0 until graded in formgrader
    task: bool = False  # nbgrader's "manually graded task" (a task cell, not a grade cell)
    question: str = ""  # the heading (or first line) of the markdown before the answer it checks
    position: tuple[int, int] = (1, 1)  # (this one, of how many) among the notebook's graded cells

    @property
    def name(self) -> str:
        return self.grade_id

    @property
    def description(self) -> str:
        """What a learner reads: the question it belongs to and where it is, never its random id alone."""
        what = "task" if self.task else "answer" if self.manual else "test cell"
        where = f"{what} {self.position[0]} of {self.position[1]}"
        return f"{self.question}: {where}" if self.question else where


@dataclass
class NbgraderPlan:
    notebook: NotebookNode  # the submission as nbgrader would execute it
    runs: list[tuple[int, str]] = field(default_factory=list)  # (cell index, label), in order
    cells: list[PlannedCell] = field(default_factory=list)  # what runs, in the same order
    notes: list[str] = field(default_factory=list)


def _is_course_checks(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and any(marker in cell.source for marker in COURSE_CHECKS_MARKERS)


def _version(path: Path) -> tuple[Path, int, int]:
    """A cache key that changes when the file does (an instructor may edit a source between runs)."""
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


def release_source(path: Path, config: CourseConfig = DEFAULTS) -> NotebookNode:
    """The source notebook as nbgrader's gradebook keeps it (see the module docstring), made with
    the course's config: its header, AUTOTEST templates, delimiters and code stubs."""
    return _release_source(*_version(path), config)


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


def test_cells(path: Path, config: CourseConfig = DEFAULTS) -> tuple[TestCell, ...]:
    """The source's grade cells (and task cells) in order, without the course's in-kernel checks cell.

    Read from the source as written (no kernel, even for AUTOTEST cells): ids, points and kinds
    are the same before and after nbgrader instantiates its tests.
    """
    return _test_cells(*_version(path), config)


@functools.lru_cache(maxsize=256)
def _test_cells(path: Path, mtime_ns: int, size: int, config: CourseConfig) -> tuple[TestCell, ...]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    begin_hidden, _ = config.hidden_tests
    graded = [index for index, cell in enumerate(nb.cells)
              if (utils.is_grade(cell) or utils.is_task(cell)) and not _is_course_checks(cell)]
    found = []
    for number, index in enumerate(graded, start=1):
        cell = nb.cells[index]
        task = utils.is_task(cell)
        found.append(TestCell(grade_id=cell.metadata.nbgrader["grade_id"],
                              points=float(cell.metadata.nbgrader.get("points", 0)), cell_type=cell.cell_type,
                              hidden=begin_hidden in cell.source,
                              manual=task or utils.is_solution(cell) or cell.cell_type != "code", task=task,
                              question=question_of(nb.cells, index), position=(number, len(graded))))
    return tuple(found)


def question_of(cells: list[NotebookNode], index: int) -> str:
    """What the graded cell at ``index`` is about: the heading (else the first line) of the nearest
    markdown above the answer it checks (a test cell checks the nearest answer cell above it, unless
    a question comes first), or of a task's own text, as the learner saw it; "" when there is none.
    Never an answer's text."""
    if cells[index].cell_type == "markdown" and not utils.is_solution(cells[index]):
        return _title(cells[index].source)  # a task: its own text is the question
    anchor = index
    if not utils.is_solution(cells[index]):
        for above in range(index - 1, -1, -1):
            if utils.is_solution(cells[above]):
                anchor = above
                break
            if cells[above].cell_type == "markdown":
                break
    for above in range(anchor - 1, -1, -1):
        cell = cells[above]
        if cell.cell_type == "markdown" and not utils.is_solution(cell) and not utils.is_grade(cell):
            return _title(cell.source)
    return ""


def _title(markdown: str) -> str:
    lines = [line.strip() for line in markdown.splitlines() if line.strip()]
    headings = [line for line in lines if line.startswith("#")]
    title = " ".join((headings or lines or [""])[0].lstrip("#").split()).strip("*_ ")
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"


def solution_cells(path: Path) -> tuple[str, ...]:
    """The ids of the source's solution cells: nbgrader's gradebook keeps a comment for each."""
    return _solution_cells(*_version(path))


@functools.lru_cache(maxsize=256)
def _solution_cells(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return tuple(cell.metadata.nbgrader["grade_id"] for cell in nb.cells if utils.is_solution(cell))


def is_nbgrader_native(path: Path, config: CourseConfig = DEFAULTS) -> bool:
    """Graded by its own nbgrader grade cells (not only by the course's check modules)."""
    return bool(test_cells(path, config))


class _SourceCells:
    """What OverwriteCells asks nbgrader's gradebook, answered from the release source."""

    def __init__(self, source: NotebookNode) -> None:
        self.cells = {cell.metadata.nbgrader["grade_id"]: cell for cell in source.cells
                      if utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)
                      or utils.is_task(cell)}

    def _cell(self, grade_id: str) -> NotebookNode:
        if grade_id not in self.cells:
            raise MissingEntry()
        return self.cells[grade_id]

    def find_source_cell(self, grade_id: str, notebook: str, assignment: str) -> SimpleNamespace:
        cell = self._cell(grade_id)
        return SimpleNamespace(name=grade_id, cell_type=cell.cell_type, locked=utils.is_locked(cell),
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
        if cell.cell_type != "code" or _is_course_checks(cell) or SELF_CHECK_MARKER in cell.source:
            continue
        is_test = utils.is_grade(cell) and not utils.is_solution(cell)
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
