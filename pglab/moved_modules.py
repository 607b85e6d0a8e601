"""Modules that moved in the package's reorganisation, importable under their old names.

A learner's notebook is never overwritten once they changed it, so cells written before the move
still say ``from pglab.notebook import setup`` or ``from pglab.grading.selfcheck import check_my_work``.
Importing an old name gives the module under its new one, the very same object (one module in
``sys.modules`` under both names). Only modules some notebook or some course's check module imports
are listed (``from pglab.learner.submission import LearnerCodeError``): code in the package and the
tests use the new names. Installed by ``pglab/__init__.py``; it imports
only small standard modules (about 1 ms), so importing pglab in a learner's kernel stays cheap.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

MOVED: dict[str, str] = {
    "pglab.catalogue": "pglab.learner.catalogue",
    "pglab.challenge_setup": "pglab.learner.challenge_setup",
    "pglab.exercises": "pglab.learner.exercises",
    "pglab.grading.in_kernel": "pglab.learner.nbgrader_score",
    "pglab.grading.selfcheck": "pglab.learner.check_your_work",
    "pglab.learner.submission": "pglab.checks.submission",
    "pglab.measure": "pglab.learner.measure",
    "pglab.notebook": "pglab.learner.lesson_setup",
    "pglab.selfcheck": "pglab.learner.lesson_checks",
}


def former_names(module: str) -> tuple[str, ...]:
    """The old names of ``module`` (for markers the grader looks for in notebooks made before the move)."""
    return tuple(old for old, new in MOVED.items() if new == module)


class _SameModule:
    """Loads an old name as the module it became, keeping that module's own spec."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._spec  # the import system set the alias's spec on it: put back its own


class MovedModules:
    """Finds only the old names in :data:`MOVED`, asked first: an old name is never a file any
    more, whatever a stale copy or another finder might offer."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _SameModule(new))  # type: ignore[arg-type]


def install() -> None:
    if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModules())
