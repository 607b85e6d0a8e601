"""The grading corpus, graded in one batch: every sample submission gets exactly its points.

Correct, partly correct (one flaw per check) and broken submissions are graded together by
``pglab grade``'s engine, on the real server, so interference between them would show up here.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import pytest

from pglab.checks.layout import HIDDEN_CHECKS
from pglab.grading.batch import BatchSummary, grade_folder
from pglab.grading.timeouts import Limits
from tests.corpus import CASES
from tests.corpus.case import Case


class Graded:
    def __init__(self, summary: BatchSummary, out: Path) -> None:
        self.summary = summary
        self.out = out
        with (out / "checks.csv").open(encoding="utf-8") as f:
            self.check_rows = list(csv.DictReader(f))
        with (out / "grades.csv").open(encoding="utf-8") as f:
            self.grade_rows = list(csv.DictReader(f))
        self.by_notebook: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
        for row in self.check_rows:
            self.by_notebook[(row["student_id"], row["assignment"], row["notebook"])].append(row)


@pytest.fixture(scope="module")
def graded(course_database, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    root = tmp_path_factory.mktemp("corpus")
    submitted = root / "submitted"
    for case in CASES:
        case.write(submitted)
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    limits = Limits(cell_timeout_s=5, call_timeout_s=5, submission_timeout_s=90)
    summary = grade_folder(submitted, root / "out", jobs=4, limits=limits, progress=False)
    after = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    assert after == before, "the grader modified submitted files"
    return Graded(summary, root / "out")


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c.student}/{c.notebook}" for c in CASES])
def test_case_gets_its_points_and_reasons(graded: Graded, case: Case) -> None:
    if case.requires_root and os.geteuid() != 0:
        pytest.skip("this protection needs root (a sandbox user and private mounts): see docs/instructor-guide.md")
    rows = graded.by_notebook[(case.student, case.assignment, case.notebook)]
    if case.problem:
        assert rows and all(r["check"] == "(submission)" and r["points"] == "0" for r in rows), rows
        assert all(reason in " ".join(r["message"] for r in rows) for reason in case.reasons), rows
        return
    checks = [r for r in rows if not r["check"].startswith("(")]
    assert checks, f"no check rows for {case.student}/{case.notebook}"
    total = sum(float(r["points"]) for r in checks)
    maximum = sum(float(r["max_points"]) for r in checks)
    failed = {r["check"] for r in checks if float(r["points"]) < float(r["max_points"])}
    summary = "\n".join(f"{r['check']}: {r['points']}/{r['max_points']} {r['message']}" for r in rows)
    assert total == case.points, summary
    if case.failing:
        assert failed == set(case.failing), summary
    elif case.points == maximum:
        assert failed == set(), summary
    messages = " | ".join(r["message"] for r in rows)
    if case.points < maximum:
        assert any(r["check"] == "(notebook)" or r["check"] in failed for r in rows), summary
    for reason in case.reasons:
        assert reason in messages, summary
    for row in checks:
        if row["check"] in failed:
            assert row["message"] and row["message"] != "passed", summary


@pytest.mark.slow
def test_no_submission_can_leave_itself_ungraded(graded: Graded) -> None:
    """Whatever a notebook returns, raises or breaks, it gets a grade: "not graded" is only ever the
    grader's own fault, and nothing in this corpus is one."""
    assert graded.summary.not_graded == [], [(o.student, o.notebook, o.fault_reason) for o in graded.summary.not_graded]
    assert not [r for r in graded.check_rows if r["check"] == "(not graded)"]


@pytest.mark.slow
def test_grades_csv_has_nbgrader_export_columns_and_totals(graded: Graded) -> None:
    assert list(graded.grade_rows[0]) == [
        "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
        "raw_score", "late_submission_penalty", "score", "max_score"]
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for case in CASES:
        expected[(case.student, case.assignment)] += case.points
    for row in graded.grade_rows:
        key = (row["student_id"], row["assignment"])
        if key in expected:
            assert float(row["score"]) == expected[key], row


@pytest.mark.slow
def test_feedback_exists_and_never_shows_hidden_check_code(graded: Graded) -> None:
    hidden_sources = [p.read_text() for p in HIDDEN_CHECKS.rglob("test_*.py")]
    snippets = {line.strip() for src in hidden_sources for line in src.splitlines()
                if len(line.strip()) > 25 and not line.strip().startswith(('"', "'", "f\"", "#"))
                and "expect(" not in line}
    for case in CASES:
        if case.problem:
            continue
        page = graded.out / "feedback" / case.student / case.assignment / f"{case.notebook}.html"
        assert page.is_file(), page
        html = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in html and "def test_" not in html
        assert "set-up cell" not in html, f"{page} shows the grader's set-up cells"
        leaked = [s for s in snippets if s in html]
        assert not leaked, f"{page} shows hidden check code: {leaked[:3]}"


@pytest.mark.slow
def test_hostile_submissions_left_the_course_database_alone(graded: Graded, course_url: str) -> None:
    import psycopg2

    with psycopg2.connect(course_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] > 5000
        cur.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'sub\\_%'")
        assert cur.fetchone()[0] == 0, "submission databases were left behind"
