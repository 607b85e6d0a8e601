"""``pglab grade`` also writes ``report.html`` and ``grades-wide.csv``: checked on a real graded batch.

Three learners: one with every core notebook right, one whose beginner answer misses the inclusive
bounds (and who handed in nothing else), one with two flawed answers. What the report says about
each check is compared with checks.csv, and the wide CSV with grades.csv. The three beginner answers
are variants of one answer: its "Similar answers" section lists their pairs, and turning it off
changes no grade.
"""

from __future__ import annotations

import csv
import html
from collections import defaultdict
from pathlib import Path

import pytest

from pglab.grading.batch import grade_folder
from pglab.grading.reports.class_report import WIDE_IDENTITY
from pglab.grading.timeouts import Limits
from tests.corpus.case import Case
from tests.corpus.cases_core import (
    EXCLUSIVE_BOUNDS,
    F_STRING,
    NO_DEFAULT_THRESHOLD,
    SEED_ADVANCED,
    SEED_BEGINNER,
    SEED_INTERMEDIATE,
)
from tests.support.report_page import ReportPage

CLASS = [
    Case("ana", "core", "beginner", 10, answer=SEED_BEGINNER),
    Case("ana", "core", "intermediate", 10, answer=SEED_INTERMEDIATE),
    Case("ana", "core", "advanced", 12, answer=SEED_ADVANCED),
    Case("bo", "core", "beginner", 4, answer=EXCLUSIVE_BOUNDS),
    Case("cy", "core", "beginner", 8, answer=F_STRING),
    Case("cy", "core", "intermediate", 9, answer=NO_DEFAULT_THRESHOLD),
]


LIMITS = Limits(cell_timeout_s=5, call_timeout_s=5, submission_timeout_s=90)


@pytest.fixture(scope="module")
def graded(course_database, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    for case in CLASS:
        case.write(root / "submitted")
    grade_folder(root / "submitted", root / "out", jobs=2, limits=LIMITS, progress=False)
    return root / "out"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_grades_wide_has_a_row_per_learner_and_a_column_per_notebook(graded: Path) -> None:
    with (graded / "grades-wide.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == [*WIDE_IDENTITY, "core: advanced", "core: beginner", "core: intermediate", "Total"]
    wide = {row["SIS Login ID"]: row for row in _rows(graded / "grades-wide.csv")}
    assert set(wide) == {"ana", "bo", "cy"}
    assert {s: (r["core: beginner"], r["core: intermediate"], r["core: advanced"]) for s, r in wide.items()} == {
        "ana": ("10", "10", "12"), "bo": ("4", "0", "0"), "cy": ("8", "9", "0")}
    # The total is the gradebook's: the sum of the learner's scores in grades.csv.
    totals: dict[str, float] = defaultdict(float)
    for row in _rows(graded / "grades.csv"):
        totals[row["student_id"]] += float(row["score"])
    assert {s: float(r["Total"]) for s, r in wide.items()} == totals == {"ana": 32, "bo": 4, "cy": 17}


@pytest.mark.slow
def test_report_shows_each_checks_failure_share_and_stands_alone(graded: Path) -> None:
    page = (graded / "report.html").read_text(encoding="utf-8")
    report = ReportPage()
    report.feed(page)
    assert not report.external, report.external
    assert report.svgs >= 3  # score distribution, per notebook, failed checks
    assert "3 learner(s), 3 notebook(s)" in page
    # Each check row says how many of those who handed the notebook in failed it, as checks.csv does.
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in _rows(graded / "checks.csv"):
        if row["check"].startswith("(") or row["message"] == "not submitted":
            continue
        key = f"{row['assignment']}/{row['notebook']}::{row['check']}"
        expected[key][1] += 1
        expected[key][0] += float(row["points"]) < float(row["max_points"])
    assert report.checks == {key: (failed, handed_in) for key, (failed, handed_in) in expected.items()}
    beginner = {k: v for k, v in report.checks.items() if k.startswith("core/beginner::")}
    assert all(handed_in == 3 for _, handed_in in beginner.values())  # ana, bo and cy handed it in
    assert report.checks["core/beginner::test_includes_a_product_priced_exactly_min_price"] == (1, 3)  # bo
    assert report.checks["core/intermediate::test_threshold_defaults_to_100"] == (1, 2)  # cy, of ana and cy
    advanced = {k: v for k, v in report.checks.items() if k.startswith("core/advanced::")}
    assert advanced and all(v == (0, 1) for v in advanced.values())  # only ana handed it in, all right
    # The reason a learner got is shown next to the check they failed.
    bo_reasons = [row["message"] for row in _rows(graded / "checks.csv")
                  if row["student_id"] == "bo" and float(row["points"]) < float(row["max_points"])
                  and row["message"] != "not submitted"]
    assert bo_reasons and all(html.escape(r) in page for r in bo_reasons)


@pytest.mark.slow
def test_similar_answers_are_listed_and_change_no_grade(graded: Path) -> None:
    report = ReportPage()
    report.feed((graded / "report.html").read_text(encoding="utf-8"))
    # ana, bo and cy each handed in a variant of one beginner answer; only ana and cy the intermediate one.
    pairs = [key for key in report.pairs if key.startswith("core/beginner::")]
    assert pairs and all(set(key.split("::")[1:]) <= {"ana", "bo", "cy"} for key in pairs)
    assert report.marks >= 2 * len(report.pairs)
    assert "core/intermediate::ana::cy" in report.pairs
    grades = (graded / "grades.csv").read_bytes()
    wide = (graded / "grades-wide.csv").read_bytes()
    for similarity in (False, True):  # off, then on again: nothing graded again, the report rewritten
        summary = grade_folder(graded.parent / "submitted", graded, jobs=2, limits=LIMITS, progress=False,
                               similarity=similarity)
        assert summary.graded_now == 0 and summary.outputs_written
        assert (graded / "grades.csv").read_bytes() == grades
        assert (graded / "grades-wide.csv").read_bytes() == wide
        page = (graded / "report.html").read_text(encoding="utf-8")
        assert ("Similar answers" in page) is similarity
