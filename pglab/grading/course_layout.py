"""Where a challenge's parts live, by convention, so adding one is adding three files.

- ``solutions/<assignment>/<notebook>.ipynb``: the nbgrader source (reference solution, points);
- ``pglab/challenge_checks/<assignment>/test_<notebook>.py``: visible checks (ship to learners);
- ``grader/checks/<assignment>/test_<notebook>.py``: hidden checks (instructors only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pglab.grading.checks import Check, collect, load_module
from pglab.settings import PROJECT_ROOT

VISIBLE_CHECKS = PROJECT_ROOT / "pglab" / "challenge_checks"
HIDDEN_CHECKS = PROJECT_ROOT / "grader" / "checks"
SOURCE = PROJECT_ROOT / "solutions"
RELEASE = PROJECT_ROOT / "notebooks" / "challenges"


@dataclass(frozen=True)
class ChallengeNotebook:
    assignment: str
    notebook: str  # file stem, e.g. "beginner"

    @property
    def source(self) -> Path:
        return SOURCE / self.assignment / f"{self.notebook}.ipynb"

    @property
    def release(self) -> Path:
        return RELEASE / self.assignment / f"{self.notebook}.ipynb"

    def check_files(self, include_hidden: bool = True) -> list[Path]:
        """Where its check modules live (visible first), whether or not they exist."""
        paths = [VISIBLE_CHECKS / self.assignment / f"test_{self.notebook}.py"]
        if include_hidden:
            paths.append(HIDDEN_CHECKS / self.assignment / f"test_{self.notebook}.py")
        return paths

    def checks(self, include_hidden: bool = True) -> list[Check]:
        found: list[Check] = []
        for path in self.check_files(include_hidden):
            if path.is_file():
                found.extend(collect(load_module(path)))
        return found

    def max_points(self) -> float:
        return sum(c.points for c in self.checks())


def assignments(source_root: Path = SOURCE) -> dict[str, list[ChallengeNotebook]]:
    found: dict[str, list[ChallengeNotebook]] = {}
    for folder in sorted(p for p in source_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = [ChallengeNotebook(folder.name, nb.stem) for nb in sorted(folder.glob("*.ipynb"))]
        if notebooks:
            found[folder.name] = notebooks
    return found


def find(assignment: str, notebook: str) -> ChallengeNotebook | None:
    for item in assignments().get(assignment, []):
        if item.notebook == notebook:
            return item
    return None
