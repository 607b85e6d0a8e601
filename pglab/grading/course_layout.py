"""Where a challenge's parts live, by convention, so adding one is adding three files.

- ``solutions/<assignment>/<notebook>.ipynb``: the nbgrader source (reference solution, points);
- ``pglab/challenge_checks/<assignment>/test_<notebook>.py``: visible checks (ship to learners);
- ``grader/checks/<assignment>/test_<notebook>.py``: hidden checks (instructors only)
  (:mod:`pglab.checks.layout`).

``pglab grade --source SOURCE`` reads the notebooks from another nbgrader source folder: a notebook
with nbgrader grade cells of its own is graded by them (:mod:`pglab.grading.nbgrader_cells`), plus
the course's check modules of the same name when there are any.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pglab.checks import layout
from pglab.checks.results import CheckInfo
from pglab.grading.check_catalogue import check_catalogue
from pglab.grading.nbgrader_cells import TestCell, is_nbgrader_native, test_cells
from pglab.grading.nbgrader_config import DEFAULTS, CourseConfig
from pglab.settings import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "solutions"
RELEASE = PROJECT_ROOT / "notebooks" / "challenges"


@dataclass(frozen=True)
class ChallengeNotebook:
    assignment: str
    notebook: str  # file stem, e.g. "beginner"
    source_root: Path = SOURCE
    nbgrader: CourseConfig = DEFAULTS  # the course's nbgrader_config.py (``--source``), or nbgrader's defaults

    @property
    def source(self) -> Path:
        return self.source_root / self.assignment / f"{self.notebook}.ipynb"

    @property
    def source_folder(self) -> Path:
        return self.source_root / self.assignment

    @property
    def native(self) -> bool:
        """Graded by its own nbgrader test cells, nbgrader's way (not only by the course's checks)."""
        return is_nbgrader_native(self.source, self.nbgrader)

    def test_cells(self) -> tuple[TestCell, ...]:
        return test_cells(self.source, self.nbgrader)

    @property
    def release(self) -> Path:
        return RELEASE / self.assignment / f"{self.notebook}.ipynb"

    def check_files(self, include_hidden: bool = True) -> list[Path]:
        """Where its check modules live (visible first), whether or not they exist."""
        return layout.check_files(self.assignment, self.notebook, include_hidden)

    def checks(self, include_hidden: bool = True) -> list[CheckInfo]:
        """Its checks as pytest collects them (visible first), without running one."""
        found: list[CheckInfo] = []
        known = check_catalogue()
        for path in self.check_files(include_hidden):
            found.extend(known.get(str(path.resolve()), []))
        return found

    def graded_items(self) -> list[CheckInfo | TestCell]:
        """Everything that scores points: its nbgrader test cells, then the course's checks."""
        return [*self.test_cells(), *self.checks()]

    def max_points(self) -> float:
        return sum(c.points for c in self.graded_items())


def assignments(source_root: Path = SOURCE, nbgrader: CourseConfig = DEFAULTS) -> dict[str, list[ChallengeNotebook]]:
    found: dict[str, list[ChallengeNotebook]] = {}
    for folder in sorted(p for p in source_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = [ChallengeNotebook(folder.name, nb.stem, source_root, nbgrader)
                     for nb in sorted(folder.glob("*.ipynb"))]
        if notebooks:
            found[folder.name] = notebooks
    return found

