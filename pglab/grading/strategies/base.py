"""The interface every way of grading a challenge implements (:class:`GradingStrategy`).

A notebook goes through the same pipeline whichever way it is graded
(:mod:`pglab.grading.grade_notebook`): plan the cells, lay out the files beside the notebook, run
the cells in a sandboxed kernel, score what the cells did, run the course's checks. What differs
(which cells run, which files are copied, what scores points, which grade cells the gradebook
has, what a grade depends on) is the strategy's.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Protocol

from pglab.checks.results import CheckResult
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.kernels.session import CellRun
from pglab.grading.notebook_cells import PlannedCell
from pglab.grading.outcome import NotebookOutcome
from pglab.messages import GradebookCell, GradebookCellKind

__all__ = ["CellPlan", "GradebookCell", "GradebookCellKind", "GradingStrategy"]


class CellPlan(Protocol):
    """The cells to run, in order, and what was noticed while choosing them."""

    @property
    def cells(self) -> list[PlannedCell]: ...
    @property
    def notes(self) -> list[str]: ...


class GradingStrategy(abc.ABC):
    """One way of grading one challenge's notebooks."""

    def __init__(self, challenge: ChallengeNotebook) -> None:
        self.challenge = challenge

    def prepare(self) -> None:
        """Read what grading needs of the source, once per run, before any worker starts; a source
        that cannot be read raises here (the batch makes it one line). Nothing, unless said."""
        return None

    @abc.abstractmethod
    def plan(self, submitted: dict) -> CellPlan:
        """The cells of the submitted notebook (parsed JSON) to run, in order, with notes."""

    def files_beside(self, submitted_folder: Path) -> list[tuple[Path, Path]]:
        """Files to copy next to the notebook in its sandbox: (file, where, relative to the
        notebook's folder), in order; a later one replaces an earlier one at the same place."""
        return []

    def score_cells(self, plan: CellPlan, runs: dict[str, CellRun], why_not_run: str,
                    outcome: NotebookOutcome) -> None:
        """Score what the notebook's own cells did (``runs`` by label), before the course's checks run;
        ``why_not_run`` says why a cell that did not run did not. Nothing, unless said."""
        return None

    @abc.abstractmethod
    def check_results(self, outcome: NotebookOutcome) -> list[CheckResult]:
        """The results of the course's checks in ``outcome`` (not those of the notebook's own cells)."""

    @abc.abstractmethod
    def gradebook_cells(self) -> list[GradebookCell]:
        """The notebook's cells in nbgrader's gradebook."""

    @abc.abstractmethod
    def auto_scores(self, outcome: NotebookOutcome) -> dict[str, float | None]:
        """Each gradebook grade cell's automatic score (None: left for grading by hand)."""

    def source_inputs(self) -> list[tuple[str, Path]]:
        """What a grade depends on beside the source notebook and the check modules: (name, file)."""
        return []

    def submission_inputs(self, submitted: Path) -> list[tuple[str, Path]]:
        """What a grade depends on beside the submitted notebook itself: (name, file)."""
        return []
