"""The grader's memory and its outcomes: what a re-run keeps, what is a grade, what a zero says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pglab.checks import layout
from pglab.checks.results import CheckResult
from pglab.errors import FaultKind, GraderFault
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import (
    CellKind,
    CellLog,
    CellStatus,
    NotebookOutcome,
    OutcomeState,
    not_graded,
    not_submitted,
    zero_outcome,
)
from pglab.grading.phase_times import NotebookPhase, PhaseTimes
from pglab.grading.reports import feedback
from pglab.grading.result_store import Fingerprints, ResultStore
from pglab.grading.timeouts import Limits


class Check:
    def __init__(self, name: str, points: float, hidden: bool = False) -> None:
        self.name, self.description, self.points, self.hidden = name, f"about {name}", points, hidden


CHECKS = [Check("test_a", 2), Check("test_b", 3, hidden=True)]


def test_a_zero_gives_every_check_zero_for_one_reason() -> None:
    outcome = zero_outcome("ann", "core", "beginner", CHECKS, "the notebook has no cells",
                           check_message="not graded: the notebook has no cells")
    assert (outcome.score, outcome.max_points, outcome.is_grade) == (0.0, 5.0, True)
    assert [(r.name, r.max_points, r.hidden, r.message) for r in outcome.results] == [
        ("test_a", 2, False, "not graded: the notebook has no cells"),
        ("test_b", 3, True, "not graded: the notebook has no cells")]
    assert outcome.notes == ["the notebook has no cells"]


def test_not_submitted_is_a_grade_and_a_fault_is_not() -> None:
    missing = not_submitted("ann", "core", "beginner", CHECKS)
    assert missing.state is OutcomeState.NOT_SUBMITTED and missing.is_grade and missing.score == 0
    assert {r.message for r in missing.results} == {"not submitted"}
    fault = not_graded("ann", "core", "beginner", CHECKS, GraderFault(FaultKind.DISK, "no space left"))
    assert not fault.is_grade and fault.results == [], "a fault must carry nothing that looks like points"
    assert fault.fault is FaultKind.DISK and "a fault of the grader, not of this notebook" in fault.notes[0]


def test_the_store_keeps_grades_by_fingerprint_and_never_a_fault(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    outcome = NotebookOutcome("ann", "core", "beginner", 5.0)
    outcome.results = [CheckResult("test_a", "a", 2.0, 2.0, False, "passed")]
    store.save("print-1", outcome)
    loaded = store.load("ann", "core", "beginner")
    assert loaded is not None and loaded[0] == "print-1" and loaded[1] == outcome
    store.save("print-2", not_graded("ann", "core", "beginner", CHECKS, GraderFault(FaultKind.KERNEL, "x")))
    assert store.load("ann", "core", "beginner") is None, "a stored fault is graded again"
    (store.root / "ann" / "core" / "beginner.json").write_text("{ half a record")
    assert store.load("ann", "core", "beginner") is None, "a damaged record is graded again"
    assert store.load("bob", "core", "beginner") is None


def test_an_outcome_is_digested_as_the_record_it_was_read_from_or_written_to(tmp_path: Path) -> None:
    """The outputs' digest uses these: the run that grades a notebook and the re-run that reads it
    back must agree (else a no-op re-run rewrites every output), and a changed grade must not."""
    graded = NotebookOutcome("ann", "core", "beginner", 5.0)
    graded.results = [CheckResult("test_a", "a", 2.0, 2.0, False, "passed")]
    writer = ResultStore(tmp_path)
    writer.save("print-1", graded)
    reader = ResultStore(tmp_path)
    loaded = reader.load("ann", "core", "beginner")
    assert loaded is not None
    assert reader.digest(loaded[1]) == writer.digest(graded)
    regraded = NotebookOutcome("ann", "core", "beginner", 3.0)
    writer.save("print-2", regraded)
    assert writer.digest(regraded) != writer.digest(graded)
    never_stored = not_graded("bob", "core", "beginner", CHECKS, GraderFault(FaultKind.KERNEL, "x"))
    same_again = not_graded("bob", "core", "beginner", CHECKS, GraderFault(FaultKind.KERNEL, "x"))
    assert writer.digest(never_stored) == writer.digest(same_again) != writer.digest(graded)
    copy = NotebookOutcome.from_json(graded.to_json())  # equal, but not what the store read or wrote
    assert writer.digest(copy) != writer.digest(graded) and writer.digest(copy).startswith("json:")


def test_fingerprint_follows_the_challenge_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed check module re-grades that challenge's notebooks, and only those."""
    hidden = tmp_path / "checks"
    shutil.copytree(layout.HIDDEN_CHECKS, hidden)
    monkeypatch.setattr(layout, "HIDDEN_CHECKS", hidden)
    beginner, advanced = ChallengeNotebook("core", "beginner"), ChallengeNotebook("core", "advanced")
    notebook = tmp_path / "beginner.ipynb"
    notebook.write_text("{}")
    before = Fingerprints("data", Limits())
    prints = before.job(beginner, notebook), before.job(advanced, notebook), before.job(beginner, None)
    assert len(set(prints)) == 3
    check = hidden / "core" / "test_beginner.py"
    check.write_text(check.read_text() + "\n# changed\n")
    after = Fingerprints("data", Limits())
    assert after.job(beginner, notebook) != prints[0]
    assert after.job(advanced, notebook) == prints[1]
    notebook.write_text('{"cells": []}')
    assert after.job(advanced, notebook) != prints[1]
    assert Fingerprints("other data", Limits()).job(advanced, None) != before.job(advanced, None)


def test_a_record_from_before_cell_kinds_loads_and_renders_alike(tmp_path: Path) -> None:
    """Records written before cells had a kind keep their feedback: set-up and test cells stay hidden."""
    cells = [("set-up cell 'setup'", "set-up output", CellKind.SETUP),
             ("cell 3", "the learner's output", CellKind.SUBMITTED),
             ("test cell 'tests'", "a test's output", CellKind.TEST)]
    outcome = NotebookOutcome("ann", "core", "beginner", 10.0)
    outcome.cells = [CellLog(label, CellStatus.OK, output, "", kind) for label, output, kind in cells]
    old = outcome.to_json()
    for cell in old["cells"]:
        del cell["kind"]  # as grader revision 2 stored them
    store = ResultStore(tmp_path)
    path = store.root / "ann" / "core" / "beginner.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"fingerprint": "f", "outcome": old}))
    loaded = store.load("ann", "core", "beginner")
    assert loaded is not None
    assert [c.kind for c in loaded[1].cells] == [CellKind.SETUP, CellKind.SUBMITTED, CellKind.TEST]
    page = feedback.render(loaded[1])
    assert "the learner&#x27;s output" in page
    assert "set-up output" not in page and "a test&#x27;s output" not in page
    assert NotebookOutcome.from_json(outcome.to_json()).cells == loaded[1].cells


def test_where_the_time_went_is_never_stored_with_a_result() -> None:
    times = PhaseTimes()
    with times.timed(NotebookPhase.CHECKS):
        pass
    times.add(NotebookPhase.CHECKS, 0.5)
    assert times.seconds[NotebookPhase.CHECKS] >= 0.5
    outcome = NotebookOutcome("ann", "core", "beginner", 11.0, phases=dict(times.seconds))
    stored = outcome.to_json()
    assert "phases" not in stored
    assert NotebookOutcome.from_json(stored) == outcome  # timings are not part of what a grade is
