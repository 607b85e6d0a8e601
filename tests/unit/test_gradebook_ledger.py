"""A re-run writes only the submissions that changed into the gradebook and has nbgrader export
only their learners' rows, and what it returns is always nbgrader's export of the whole gradebook:
compared, after every run, with a whole export made afresh from the file by nbgrader itself."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from pglab.grading.outcome import GRADE_CELL
from pglab.grading.reports import gradebook as gradebook_module
from pglab.grading.reports.gradebook_ledger import GradebookLedger, splice_export
from pglab.grading.reports.gradebook_plan import SubmissionRecord, grades_csv, record_submissions
from tests.support.gradebooks import DUE, STAMP, course, nbgrader_whole_export, submission

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader under SQLAlchemy 2


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> list[list[str] | None]:
    """Each export pglab asks nbgrader for in a run: the learners (None: all of them)."""
    calls: list[list[str] | None] = []
    real = gradebook_module.GradebookWriter.export

    def spy(self: gradebook_module.GradebookWriter, students: object = ()) -> str:
        calls.append(sorted(students) or None)  # type: ignore[call-overload]
        return real(self, students)  # type: ignore[arg-type]

    monkeypatch.setattr(gradebook_module.GradebookWriter, "export", spy)
    return calls


def test_only_changed_learners_are_exported_again_and_the_result_is_the_whole_export(
        tmp_path: Path, exported: list[list[str] | None]) -> None:
    path = tmp_path / "out" / "gradebook.db"
    path.parent.mkdir()
    first = [submission("ann", 7), submission("bob", 10), submission("cy", 4)]
    assert record_submissions(path, course(), DUE, first) == nbgrader_whole_export(path, tmp_path)
    assert exported == [None]  # no ledger yet: the whole gradebook

    second = [submission("ann", 9), submission("bob", 10),
              submission("cy", 4, STAMP + timedelta(hours=5), extension=timedelta(hours=2),
                         penalties={"beginner": 1.5})]
    result = record_submissions(path, course(), DUE, second)
    assert exported[1:] == [["ann", "cy"]]
    assert result == nbgrader_whole_export(path, tmp_path)
    assert "core,2026-12-01 12:00:00,2026-12-01 09:00:00,ann,,,,18.0,0.0,18.0,20.0" in result.splitlines()
    assert "core,2026-12-01 12:00:00,2026-12-01 14:00:00,cy,,,,8.0,1.5,6.5,20.0" in result.splitlines()

    third = [*second, submission("dee", 3)]  # a learner new to the gradebook: no row to replace
    result = record_submissions(path, course(), DUE, third)
    assert exported[2:] == [["dee"], None]
    assert result == nbgrader_whole_export(path, tmp_path)


def test_nothing_changed_the_gradebook_is_not_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gradebook.db"
    run = [submission("ann", 7), submission("bob", 10)]
    before = record_submissions(path, course(), DUE, run)
    identity = path.stat().st_mtime_ns, path.stat().st_size

    def refuse(*_args: object) -> None:
        raise AssertionError("the gradebook was opened on a re-run with nothing to change")

    monkeypatch.setattr(gradebook_module.GradebookWriter, "__init__", refuse)
    assert record_submissions(path, course(), DUE, run) == before
    assert (path.stat().st_mtime_ns, path.stat().st_size) == identity


def test_a_grade_given_by_hand_between_runs_is_in_the_next_export_and_kept(
        tmp_path: Path, exported: list[list[str] | None]) -> None:
    path = tmp_path / "gradebook.db"
    run = [submission("ann", 7), submission("bob", 10)]
    record_submissions(path, course(), DUE, run)
    gradebook = Gradebook(f"sqlite:///{path}")  # formgrader, as the instructor grades by hand
    gradebook.find_grade(GRADE_CELL, "beginner", "core", "ann").manual_score = 2.0
    gradebook.db.commit()
    gradebook.close()

    result = record_submissions(path, course(), DUE, [submission("ann", 7), submission("bob", 9)])
    assert exported[1:] == [None]  # the file changed under the ledger: everything read back, all exported
    assert result == nbgrader_whole_export(path, tmp_path)
    assert ",ann,,,,9.0,0.0,9.0,20.0" in result  # 2 by hand + 7 on intermediate: ann's record was left alone
    assert ",bob,,,,18.0,0.0,18.0,20.0" in result


def test_a_submission_not_graded_this_time_leaves_the_gradebook(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    record_submissions(path, course(), DUE, [submission("ann", 7), submission("bob", 10)])
    not_now = SubmissionRecord("bob", "core", STAMP, submission("bob", 10).outcomes, graded=False)
    result = record_submissions(path, course(), DUE, [submission("ann", 7), not_now])
    assert result == nbgrader_whole_export(path, tmp_path)
    assert ",bob,,,,0.0,0.0,0.0,20.0" in result  # nbgrader lists him with nothing submitted ...
    assert ",bob," not in grades_csv(result, {("bob", "core")})  # ... grades.csv leaves him out


@pytest.mark.parametrize("damage", ["removed", "garbage", "other course"])
def test_a_ledger_that_cannot_vouch_for_the_gradebook_means_the_whole_path(
        tmp_path: Path, exported: list[list[str] | None], damage: str) -> None:
    path = tmp_path / "gradebook.db"
    record_submissions(path, course(), DUE, [submission("ann", 7), submission("bob", 10)])
    ledger = GradebookLedger.path(path)
    due = DUE
    if damage == "removed":
        ledger.unlink()
    elif damage == "garbage":
        ledger.write_text('{"gradebook": [1, 2')
    else:
        due = {"core": DUE["core"] + timedelta(days=1)}
    result = record_submissions(path, course(), due, [submission("ann", 8), submission("bob", 10)])
    assert exported[1:] == [None]
    assert result == nbgrader_whole_export(path, tmp_path)


def test_splicing_refuses_exports_that_do_not_line_up() -> None:
    header = "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score," \
             "late_submission_penalty,score,max_score\n"
    whole = header + "core,,,ann,,,,1.0,0.0,1.0,2.0\ncore,,,bob,,,,2.0,0.0,2.0,2.0\n"
    assert splice_export(whole, header + "core,,,bob,,,,0.0,0.0,0.0,2.0\n") == (
        header + "core,,,ann,,,,1.0,0.0,1.0,2.0\ncore,,,bob,,,,0.0,0.0,0.0,2.0\n")
    assert splice_export(whole, header + "core,,,cy,,,,0.0,0.0,0.0,2.0\n") is None  # new learner
    assert splice_export(whole, header + "extra,,,bob,,,,0.0,0.0,0.0,2.0\n") is None  # new assignment
    assert splice_export(whole, "other,header\n" + "core,,,bob,,,,0.0,0.0,0.0,2.0\n") is None
    assert splice_export(whole, header + "core,,,b,ob,,,,0.0,0.0,0.0,2.0\n") is None  # a comma in an id
    two = whole + "extra,,,ann,,,,1.0,0.0,1.0,2.0\n"
    assert splice_export(two, header + "core,,,ann,,,,0.0,0.0,0.0,2.0\n") is None  # ann's other row missing
