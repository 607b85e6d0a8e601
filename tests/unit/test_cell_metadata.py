"""pglab's reading of nbgrader's cell kinds is nbgrader's own, on every combination of flags."""

from __future__ import annotations

import itertools

import nbformat
import pytest
from nbgrader import utils

from pglab.grading import cell_metadata

FLAGS = ("grade", "solution", "locked", "task")
# each flag absent, false or true (nbgrader reads them with .get(flag, False))
STATES = (None, False, True)


def cells() -> list[nbformat.NotebookNode]:
    made = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("text")]
    for states in itertools.product(STATES, repeat=len(FLAGS)):
        meta = {flag: state for flag, state in zip(FLAGS, states, strict=True) if state is not None}
        for kind in (nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell):
            made.append(kind("x", metadata={"nbgrader": {**meta, "grade_id": "q1", "points": 1}}))
    return made


@pytest.mark.parametrize("predicate", ["is_grade", "is_solution", "is_locked", "is_task"])
def test_each_kind_is_nbgraders(predicate: str) -> None:
    ours, theirs = getattr(cell_metadata, predicate), getattr(utils, predicate)
    tried = cells()
    assert len(tried) == 2 + 2 * 3 ** len(FLAGS)
    differ = [cell.metadata for cell in tried if ours(cell) != bool(theirs(cell))]
    assert not differ, f"{predicate} differs from nbgrader's on {differ[:3]}"
    assert {ours(cell) for cell in tried} == {True, False}, "the cells tried never make it both true and false"


def test_plain_dicts_and_odd_metadata_read_as_no_kind() -> None:
    """A learner's editor may write a cell without metadata, or with nbgrader metadata that is not an object."""
    for cell in ({"cell_type": "code"}, {"metadata": None}, {"metadata": {"nbgrader": "x"}}):
        assert not any(getattr(cell_metadata, p)(cell) for p in ("is_grade", "is_solution", "is_locked", "is_task"))
    assert cell_metadata.is_locked({"metadata": {"nbgrader": {"grade": True}}})
