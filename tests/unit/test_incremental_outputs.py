"""A re-run that re-grades one learner rewrites only what changed: per-notebook files keep their
bytes and modification time when unchanged, and the gradebook is read whole once, then compared."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pglab.checks.results import CheckResult
from pglab.grading.atomic_files import write_if_changed
from pglab.grading.course_layout import assignments
from pglab.grading.deadlines import Lateness
from pglab.grading.late_penalties import LatePenalty
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports import feedback
from pglab.grading.reports.class_report import DrawnPlots
from pglab.grading.reports.gradebook import GradebookWriter
from pglab.grading.reports.gradebook_plan import SubmissionRecord, course_entries, entry_of, strategies_of
from pglab.messages import GradebookEntry

STAMP = datetime(2026, 12, 1, 9, 0, 0)
OLD = 1_000_000_000  # a modification time (s) no write of this test can leave


def outcome(student: str, points: float, maximum: float = 10) -> NotebookOutcome:
    made = NotebookOutcome(student, "core", "beginner", maximum)
    made.results = [CheckResult("test_all", "all of it", points, maximum, False, "")]
    return made


def test_a_file_is_rewritten_only_when_its_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "page.html"
    assert write_if_changed(path, b"first")
    os.utime(path, (OLD, OLD))
    assert not write_if_changed(path, b"first")
    assert path.stat().st_mtime == OLD
    assert write_if_changed(path, b"other")  # same size, other bytes
    assert path.read_bytes() == b"other" and path.stat().st_mtime != OLD
    assert write_if_changed(path, b"longer text")
    assert path.read_bytes() == b"longer text"


def test_an_unchanged_feedback_page_keeps_its_time_and_a_changed_one_is_rewritten(tmp_path: Path) -> None:
    page = feedback.write(outcome("ann", 7), tmp_path)
    os.utime(page, (OLD, OLD))
    assert feedback.write(outcome("ann", 7), tmp_path) == page
    assert page.stat().st_mtime == OLD
    due = STAMP - timedelta(hours=2)
    late = LatePenalty(Lateness("ann", "core", STAMP, due, None), "beginner", 7.0, 1.0, "1/hour")
    feedback.write(outcome("ann", 7), tmp_path, late)
    assert page.stat().st_mtime != OLD
    assert page.read_bytes() == feedback.render(outcome("ann", 7), late).encode()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission under SQLAlchemy 2
def test_the_gradebook_read_whole_matches_what_was_recorded(tmp_path: Path) -> None:
    writer = GradebookWriter(tmp_path / "gradebook.db")
    course = {"core": [c for c in assignments()["core"] if c.notebook == "beginner"]}
    strategies = strategies_of(course)

    def entry(student: str, points: float, stamp: datetime | None = STAMP, extension: timedelta | None = None,
              penalties: dict[str, float] | None = None) -> GradebookEntry:
        return entry_of(SubmissionRecord(student, "core", stamp, (outcome(student, points),), extension,
                                         penalties or {}), strategies)

    writer.register(course_entries(course, {}, strategies))
    writer.record(entry("ann", 7, STAMP, timedelta(hours=1), {"beginner": 2.0}))
    writer.record(entry("bob", 10, None))
    recorded = writer.recorded()
    assert set(recorded) == {("ann", "core"), ("bob", "core")}
    ann, bob = recorded[("ann", "core")], recorded[("bob", "core")]
    assert ann.timestamp == STAMP and ann.extension == timedelta(hours=1) and ann.late == {"beginner": 2.0}
    assert writer.matches(ann, entry("ann", 7, STAMP, timedelta(hours=1), {"beginner": 2.0}))
    assert not writer.matches(ann, entry("ann", 8, STAMP, timedelta(hours=1), {"beginner": 2.0}))
    assert not writer.matches(ann, entry("ann", 7, STAMP, None, {"beginner": 2.0}))
    assert not writer.matches(ann, entry("ann", 7, STAMP, timedelta(hours=1)))
    assert not writer.matches(ann, entry("ann", 7, STAMP + timedelta(seconds=1), timedelta(hours=1),
                                         {"beginner": 2.0}))
    assert writer.matches(bob, entry("bob", 10, None))
    assert not writer.matches(None, entry("cy", 10, None))
    writer.close()


def test_a_plot_is_drawn_again_only_when_what_it_shows_changed(tmp_path: Path) -> None:
    drawn: list[str] = []

    def draw(text: str) -> Callable[[], str]:
        return lambda: drawn.append(text) or f"<svg>{text}</svg>"

    plots = DrawnPlots(tmp_path / "plots")
    assert plots.svg("histograms", [["core", 10.0, [1.0, 7.0]]], draw("a")) == "<svg>a</svg>"
    plots.drop_unused()
    again = DrawnPlots(tmp_path / "plots")
    assert again.svg("histograms", [["core", 10.0, [1.0, 7.0]]], draw("b")) == "<svg>a</svg>"
    assert again.svg("histograms", [["core", 10.0, [2.0, 7.0]]], draw("c")) == "<svg>c</svg>"
    assert drawn == ["a", "c"]
    again.drop_unused()
    assert len(list((tmp_path / "plots").glob("*.svg"))) == 2
    last = DrawnPlots(tmp_path / "plots")
    last.svg("histograms", [["core", 10.0, [2.0, 7.0]]], draw("d"))
    last.drop_unused()
    assert [p.read_text() for p in (tmp_path / "plots").glob("*.svg")] == ["<svg>c</svg>"]
    assert DrawnPlots(None).svg("checks", [], draw("e")) == "<svg>e</svg>" and drawn == ["a", "c", "e"]
