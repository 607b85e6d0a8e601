"""Which cells of a submitted notebook the grader runs, in what order, and what it notes: the rules
of :func:`pglab.grading.notebook_cells.plan_execution` and :func:`read_submission`, on the released
beginner notebook and small edits of it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from pglab.grading.course_layout import RELEASE, SOURCE
from pglab.grading.notebook_cells import UnreadableNotebook, nbgrader_meta, plan_execution, read_submission
from pglab.grading.outcome import CellKind

BEGINNER = SOURCE / "core" / "beginner.ipynb"


def released() -> dict:
    return json.loads((RELEASE / "core" / "beginner.ipynb").read_text(encoding="utf-8"))


def cell(notebook: dict, grade_id: str) -> dict:
    return next(c for c in notebook["cells"] if nbgrader_meta(c).get("grade_id") == grade_id)


def test_set_up_from_the_source_then_the_learners_code_cells_never_the_checks() -> None:
    plan = plan_execution(BEGINNER, released())
    assert [(c.label, c.kind) for c in plan.cells] == [
        ("set-up cell 'setup'", CellKind.SETUP), ("cell 5", CellKind.SUBMITTED), ("cell 7", CellKind.SUBMITTED)]
    assert plan.notes == []


def test_a_changed_set_up_cell_runs_as_the_source_has_it() -> None:
    notebook = released()
    cell(notebook, "setup")["source"] = "raise SystemExit('skip the set-up')"
    (setup, *_) = plan_execution(BEGINNER, notebook).cells
    assert "skip the set-up" not in setup.source and setup.source == "".join(cell(released(), "setup")["source"])


def test_a_faked_checks_cell_never_runs() -> None:
    notebook = released()
    cell(notebook, "checks")["source"] = "print('Score: 10 / 10')"
    assert all("Score: 10" not in c.source for c in plan_execution(BEGINNER, notebook).cells)


def test_a_repeated_id_is_ignored_with_a_note() -> None:
    notebook = released()
    impostor = copy.deepcopy(cell(notebook, "answer"))
    impostor["source"] = "def get_products_in_price_range(a, b):\n    return []\n"
    notebook["cells"].insert(5, impostor)
    plan = plan_execution(BEGINNER, notebook)
    assert "return []" not in "".join(c.source for c in plan.cells)
    assert plan.notes == ["cell 6 repeats the id 'answer' of an earlier cell: ignored"]


def test_a_deleted_answer_cell_is_noted() -> None:
    notebook = released()
    notebook["cells"] = [c for c in notebook["cells"] if nbgrader_meta(c).get("grade_id") != "answer"]
    assert plan_execution(BEGINNER, notebook).notes == ["the answer cell 'answer' is missing from the submission"]


@pytest.mark.parametrize(("content", "reason"), [
    (b"{ not json", "the file is not valid notebook JSON (line 1"),
    (b"\xff\xfe{}", "the file is not UTF-8 text (byte 0 is invalid)"),
    (b'{"cells": "none"}', "the file is JSON but not a notebook (no list of cells)"),
    (b'{"cells": []}', "the notebook has no cells"),
])
def test_what_is_not_a_notebook_says_why(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "beginner.ipynb"
    path.write_bytes(content)
    with pytest.raises(UnreadableNotebook) as raised:
        read_submission(path)
    assert str(raised.value).startswith(reason), raised.value
