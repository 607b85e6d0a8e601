"""nbgrader's grade cells in a source notebook: which there are, their points, and what a learner
reads them as; a source with any is graded by them (:func:`is_nbgrader_native`).

Read with nbgrader's rules (:mod:`pglab.grading.cell_metadata`) and without importing nbgrader, so
that a run of the course's own challenges does not pay for it; what ``nbgrader autograde`` does to
a submission against its source is :mod:`pglab.grading.nbgrader_preprocessing`.

A grade cell that calls the course's checks in the kernel (``pglab.learner.nbgrader_score``) is not a
test cell here: ``pglab grade`` runs the course's check modules from outside the kernel instead,
so an assignment can mix nbgrader test cells and the course's checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from pglab.grading.cell_metadata import is_grade, is_solution, is_task
from pglab.grading.nbgrader_config import DEFAULTS, CourseConfig
from pglab.moved_modules import former_names

# a grade cell that runs the course's checks in-kernel imports this module (by its old name
# in notebooks made before the package moved)
COURSE_CHECKS_MARKERS = ("pglab.learner.nbgrader_score", *former_names("pglab.learner.nbgrader_score"))
SELF_CHECK_MARKER = "check_my_work("  # the course's visible self-check cell: a learner aid, not a grade
TITLE_CHARS = 80  # a question's heading as feedback names a test cell by it


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


def is_course_checks(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and any(marker in cell.source for marker in COURSE_CHECKS_MARKERS)


def source_version(path: Path) -> tuple[Path, int, int]:
    """A cache key that changes when the file does (an instructor may edit a source between runs)."""
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size


def test_cells(path: Path, config: CourseConfig = DEFAULTS) -> tuple[TestCell, ...]:
    """The source's grade cells (and task cells) in order, without the course's in-kernel checks cell.

    Read from the source as written (no kernel, even for AUTOTEST cells): ids, points and kinds
    are the same before and after nbgrader instantiates its tests.
    """
    return _test_cells(*source_version(path), config)


@functools.lru_cache(maxsize=256)
def _test_cells(path: Path, mtime_ns: int, size: int, config: CourseConfig) -> tuple[TestCell, ...]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    begin_hidden, _ = config.hidden_tests
    graded = [index for index, cell in enumerate(nb.cells)
              if (is_grade(cell) or is_task(cell)) and not is_course_checks(cell)]
    found = []
    for number, index in enumerate(graded, start=1):
        cell = nb.cells[index]
        task = is_task(cell)
        found.append(TestCell(grade_id=cell.metadata.nbgrader["grade_id"],
                              points=float(cell.metadata.nbgrader.get("points", 0)), cell_type=cell.cell_type,
                              hidden=begin_hidden in cell.source,
                              manual=task or is_solution(cell) or cell.cell_type != "code", task=task,
                              question=question_of(nb.cells, index), position=(number, len(graded))))
    return tuple(found)


def question_of(cells: list[NotebookNode], index: int) -> str:
    """What the graded cell at ``index`` is about: the heading (else the first line) of the nearest
    markdown above the answer it checks (a test cell checks the nearest answer cell above it, unless
    a question comes first), or of a task's own text, as the learner saw it; "" when there is none.
    Never an answer's text."""
    if cells[index].cell_type == "markdown" and not is_solution(cells[index]):
        return _title(cells[index].source)  # a task: its own text is the question
    anchor = index
    if not is_solution(cells[index]):
        for above in range(index - 1, -1, -1):
            if is_solution(cells[above]):
                anchor = above
                break
            if cells[above].cell_type == "markdown":
                break
    for above in range(anchor - 1, -1, -1):
        cell = cells[above]
        if cell.cell_type == "markdown" and not is_solution(cell) and not is_grade(cell):
            return _title(cell.source)
    return ""


def _title(markdown: str) -> str:
    lines = [line.strip() for line in markdown.splitlines() if line.strip()]
    headings = [line for line in lines if line.startswith("#")]
    title = " ".join((headings or lines or [""])[0].lstrip("#").split()).strip("*_ ")
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"


def solution_cells(path: Path) -> tuple[str, ...]:
    """The ids of the source's solution cells: nbgrader's gradebook keeps a comment for each."""
    return _solution_cells(*source_version(path))


@functools.lru_cache(maxsize=256)
def _solution_cells(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return tuple(cell.metadata.nbgrader["grade_id"] for cell in nb.cells if is_solution(cell))


def is_nbgrader_native(path: Path, config: CourseConfig = DEFAULTS) -> bool:
    """Graded by its own nbgrader grade cells (not only by the course's check modules)."""
    return bool(test_cells(path, config))
