"""The class report and checks.csv are renderings of typed rows: kinds, not markers in text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pglab.checks.results import CheckResult
from pglab.errors import FaultKind, GraderFault
from pglab.grading.outcome import NotebookOutcome, not_graded, not_submitted
from pglab.grading.reports.class_report import class_results, wide_csv, write_class_report
from pglab.grading.reports.rows import GradeRow, RowKind, SubmissionProblem, check_rows, checks_csv
from tests.support.report_page import ReportPage


class Check:
    """A check as the zero outcomes see it (points, hidden)."""

    def __init__(self, name: str, points: float) -> None:
        self.name, self.description, self.points, self.hidden = name, name, points, False


def graded(student: str, notebook: str, points: float, maximum: float, message: str = "passed") -> NotebookOutcome:
    outcome = NotebookOutcome(student, "core", notebook, maximum)
    outcome.results = [CheckResult("test_one", "one", points, maximum, False, message)]
    return outcome


def rows_of_a_small_class() -> tuple[list[GradeRow], list]:
    problem = SubmissionProblem("dee", "core", "beginner", "beginner.ipynb is not a notebook: not graded")
    outcomes = [
        not_submitted("dee", "core", "beginner", [Check("test_range", 6)]),
        not_graded("eli", "core", "beginner", [Check("test_range", 6)],
                   GraderFault(FaultKind.DATABASE, "connection refused")),
        graded("eli", "intermediate", 1, 1),
    ]
    grades = [GradeRow("core", "dee", "Doe", "Dee", 0.0, 32.0)]
    return grades, check_rows(outcomes, [problem])


def test_checks_csv_marks_each_kind_and_leaves_a_fault_without_points() -> None:
    _, rows = rows_of_a_small_class()
    assert [r.kind for r in rows] == [RowKind.SUBMISSION, RowKind.NOTEBOOK, RowKind.CHECK, RowKind.NOT_GRADED,
                                      RowKind.CHECK]
    table = list(csv.DictReader(io.StringIO(checks_csv(rows).decode())))
    assert [(r["student_id"], r["notebook"], r["check"], r["points"], r["max_points"]) for r in table] == [
        ("dee", "beginner", "(submission)", "0", "0"), ("dee", "beginner", "(notebook)", "0", "0"),
        ("dee", "beginner", "test_range", "0", "6"), ("eli", "beginner", "(not graded)", "", ""),
        ("eli", "intermediate", "test_one", "1", "1")]
    assert table[2]["message"] == "not submitted" and "connection refused" in table[3]["message"]


def test_a_notebook_not_handed_in_is_known_by_its_state_not_its_message() -> None:
    outcome = graded("fay", "beginner", 0, 6, message="not submitted")  # a check may say anything
    results = class_results([], check_rows([outcome], []))
    assert results.submitted == {("fay", "core/beginner")}
    assert results.checks[0].failed == 1


def test_report_and_wide_csv_from_rows_with_problems_and_no_submissions(tmp_path: Path) -> None:
    grades, rows = rows_of_a_small_class()
    write_class_report(tmp_path, grades, rows)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Problems noted" in page and "is not a notebook: not graded" in page
    assert "connection refused" in page
    assert "was not submitted" not in page, "a notebook not handed in is no problem to note"
    # A grader fault is no grade: eli's beginner cell and total stay empty, an LMS import skips them.
    wide = list(csv.DictReader(io.StringIO((tmp_path / "grades-wide.csv").read_text(encoding="utf-8"))))
    assert wide == [
        {"Student": "Doe, Dee", "ID": "", "SIS Login ID": "dee", "Section": "", "core: beginner": "0",
         "core: intermediate": "0", "Total": "0"},
        {"Student": "eli", "ID": "", "SIS Login ID": "eli", "Section": "", "core: beginner": "",
         "core: intermediate": "1", "Total": ""}]
    assert (tmp_path / "grades-wide.csv").read_bytes() == wide_csv(class_results(grades, rows))
    report = ReportPage()
    report.feed(page)
    assert report.checks == {"core/beginner::test_range": (0, 0), "core/intermediate::test_one": (0, 1)}
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary file was left"


def test_an_answer_left_for_the_instructor_is_not_a_check_the_class_failed() -> None:
    outcome = graded("gus", "essay", 0, 1)
    outcome.results.append(CheckResult("explain", "Why?: answer 2 of 2", 0.0, 5.0, False, "graded by your instructor",
                                       by_hand=True))
    results = class_results([], check_rows([outcome], []))
    assert [t.check for t in results.checks] == ["test_one"]
    assert results.notebook_max == {"core/essay": 6.0}
