"""Where a challenge's check modules live, by convention: the folder says visible or hidden.

- ``pglab/challenge_checks/<assignment>/test_<notebook>.py``: visible checks (they ship to learners,
  whose *Check your work* cell runs them);
- ``grader/checks/<assignment>/test_<notebook>.py``: hidden checks (instructors only).

The roots are read at call time, so a test may point them at folders of its own.
"""

from __future__ import annotations

from pathlib import Path

from pglab.settings import PROJECT_ROOT

VISIBLE_CHECKS = PROJECT_ROOT / "pglab" / "challenge_checks"
HIDDEN_CHECKS = PROJECT_ROOT / "grader" / "checks"


def check_roots() -> tuple[Path, Path]:
    """(visible, hidden) check folders of this course."""
    return VISIBLE_CHECKS.resolve(), HIDDEN_CHECKS.resolve()


def check_files(assignment: str, notebook: str, include_hidden: bool = True) -> list[Path]:
    """A challenge's check modules (visible first), whether or not they exist."""
    paths = [VISIBLE_CHECKS / assignment / f"test_{notebook}.py"]
    if include_hidden:
        paths.append(HIDDEN_CHECKS / assignment / f"test_{notebook}.py")
    return paths


def all_check_files() -> list[Path]:
    """Every check module of the course, visible ones first."""
    return sorted(VISIBLE_CHECKS.rglob("test_*.py")) + sorted(HIDDEN_CHECKS.rglob("test_*.py"))


def is_check_file(path: Path) -> bool:
    path = path.resolve()
    return any(path.is_relative_to(root) for root in check_roots()) and path.name.startswith("test_")


def is_hidden(path: Path) -> bool:
    return path.resolve().is_relative_to(check_roots()[1])


def challenge_of(path: Path) -> tuple[str, str]:
    """(assignment, notebook) a check file is about: ``<assignment>/test_<notebook>.py``."""
    return path.resolve().parent.name, path.stem.removeprefix("test_")
