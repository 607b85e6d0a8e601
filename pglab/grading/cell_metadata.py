"""nbgrader's cell kinds, read from a cell's metadata by nbgrader's own rules (``nbgrader.utils``).

Why not call ``nbgrader.utils``: importing any module of nbgrader runs its package ``__init__``,
which loads its Jupyter server extensions (formgrader, the exchange, the gradebook's SQLAlchemy
models, nbconvert): 0.6 s on two cores, most of what a re-run of one learner waits for, while a
run of the course's own challenges needs nothing else of nbgrader until it writes the gradebook.
``tests/unit/test_cell_metadata.py`` holds these rules to nbgrader's on every combination.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _nbgrader(cell: Mapping[str, Any]) -> Mapping[str, Any] | None:
    metadata = cell.get("metadata")
    if not isinstance(metadata, Mapping) or "nbgrader" not in metadata:
        return None
    found = metadata["nbgrader"]
    return found if isinstance(found, Mapping) else {}


def is_task(cell: Mapping[str, Any]) -> bool:
    """A manually graded task (nbgrader's ``is_task``)."""
    meta = _nbgrader(cell)
    return bool(meta is not None and meta.get("task", False))


def is_grade(cell: Mapping[str, Any]) -> bool:
    """A grade cell: it has points (nbgrader's ``is_grade``)."""
    meta = _nbgrader(cell)
    return bool(meta is not None and meta.get("grade", False))


def is_solution(cell: Mapping[str, Any]) -> bool:
    """A cell the learner answers in (nbgrader's ``is_solution``)."""
    meta = _nbgrader(cell)
    return bool(meta is not None and meta.get("solution", False))


def is_locked(cell: Mapping[str, Any]) -> bool:
    """A cell restored from the source when changed: a grade cell that is not a solution, or one
    marked locked (nbgrader's ``is_locked``)."""
    meta = _nbgrader(cell)
    if meta is None or is_solution(cell):
        return False
    return is_grade(cell) or bool(meta.get("locked", False))
