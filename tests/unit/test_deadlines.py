"""Due dates, extensions and late penalties: how a timestamp is read, how late is late, what each
policy takes off, where an extension is kept, and one readable line for every bad value."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc as nbgraders_parse_utc
from traitlets.config import Config

from pglab.checks.results import CheckResult
from pglab.cli import main
from pglab.errors import PglabError
from pglab.grading.course_gradebook import grant_extension, read_deadlines
from pglab.grading.deadlines import (
    Deadlines,
    Lateness,
    late_by,
    parse_due,
    parse_extension_hours,
    parse_utc,
    read_timestamp,
)
from pglab.grading.late_penalties import late_penalties
from pglab.grading.late_policy import LatePolicy, parse_late_policy
from pglab.grading.nbgrader_late_plugin import PglabLatePenalty, notebook_penalty, plugin_for
from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports import feedback
from pglab.grading.reports.class_report import class_results, render_report, wide_csv
from pglab.grading.reports.gradebook import stamp_new_gradebook
from pglab.grading.reports.rows import GradeRow, RowKind, check_rows, listed_problems

DUE = datetime(2026, 12, 10, 23, 59)
HOUR = 3600

TIMES = ["2026-12-10 23:59:00.000000 UTC", "2026-12-10 23:59:00.000000 Europe/Berlin", "2026-12-10 23:59:00 -0500",
         "2026-12-10 23:59:00 +0530", "2026-12-10 23:59:00 America/New_York", "2026-12-10T23:59:00+00:00",
         "2026-12-10T23:59:00-08:00", "2026-12-10 23:59", "Dec 10 2026 11:59 PM", "2026-12-10",
         "2026-07-01 12:00:00 Europe/Berlin", "2026-12-10 23:59:00 Nowhere/Atlantis"]


@pytest.mark.parametrize("text", TIMES)
def test_times_are_read_as_nbgrader_reads_them(text: str) -> None:
    assert parse_utc(text) == nbgraders_parse_utc(text)
    assert parse_utc(text).tzinfo is None


@pytest.mark.parametrize("text", ["not a time", "2026-13-45 10:00 UTC", ""])
def test_what_nbgrader_cannot_read_we_cannot_either(text: str) -> None:
    with pytest.raises(ValueError):
        nbgraders_parse_utc(text)
    with pytest.raises(ValueError):
        parse_utc(text)


def stamped(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "ann" / "core"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(text)
    return folder


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-10 23:59:00.000000 UTC", datetime(2026, 12, 10, 23, 59)),  # what nbgrader's exchange writes
    ("2026-12-11 00:59:30.250000 Europe/Paris", datetime(2026, 12, 10, 23, 59, 30, 250000)),
    ("2026-12-11T00:59:00+01:00", datetime(2026, 12, 10, 23, 59)),
    ("  \n", None),  # nbgrader warns about an empty file and treats it as no timestamp
])
def test_a_timestamp_is_read_as_nbgrader_reads_it_into_naive_utc(tmp_path: Path, text: str,
                                                                 expected: datetime | None) -> None:
    assert read_timestamp(stamped(tmp_path, text)) == expected


def test_no_timestamp_file_is_no_time_and_a_malformed_one_is_one_line_naming_it(tmp_path: Path) -> None:
    assert read_timestamp(tmp_path) is None
    folder = stamped(tmp_path, "submitted last Tuesday\nafter lunch")
    with pytest.raises(PglabError) as raised:
        read_timestamp(folder)
    message = str(raised.value)
    assert "\n" not in message and str(folder / "timestamp.txt") in message and "submitted last Tuesday" in message


def test_due_dates_are_assignment_equals_when_and_bad_ones_say_what_to_give() -> None:
    assert parse_due(["core=2026-12-10T23:59:00+00:00", "extra=2026-12-11 00:59 Europe/Paris"], ["core", "extra"]) == {
        "core": DUE, "extra": DUE}
    assert parse_due(["core=2026-12-10T23:59:00"], ["core"]) == {"core": DUE}  # naive: UTC, as nbgrader takes it
    for bad, says in [("core", "ASSIGNMENT=WHEN"), ("=2026-12-10", "ASSIGNMENT=WHEN"),
                      ("week9=2026-12-10", "no assignment 'week9'"), ("core=next friday", "not a date")]:
        with pytest.raises(PglabError, match=says) as raised:
            parse_due([bad], ["core"])
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("text", "policy"), [
    ("none", LatePolicy("none")), ("zero", LatePolicy("zero")), ("per-hour:2", LatePolicy("per-hour", 2.0)),
    ("per-hour:0.5", LatePolicy("per-hour", 0.5)),
])
def test_late_policies_parse(text: str, policy: LatePolicy) -> None:
    assert parse_late_policy(text) == policy
    assert str(policy) in (text, text.replace(".0", ""))


@pytest.mark.parametrize("text", ["half", "per-hour", "per-hour:", "per-hour:-1", "per-hour:nan", "per-hour:x",
                                  "Zero"])
def test_a_bad_late_policy_is_one_line_saying_what_to_give(text: str) -> None:
    with pytest.raises(PglabError, match="give none, zero, or per-hour:P") as raised:
        parse_late_policy(text)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("text", "hours"), [("48", 48.0), ("1.5", 1.5), ("0", 0.0)])
def test_extension_hours(text: str, hours: float) -> None:
    assert parse_extension_hours(text) == hours


@pytest.mark.parametrize("text", ["-2", "two days", "nan", "1e9"])
def test_bad_extension_hours_are_one_line(text: str) -> None:
    with pytest.raises(PglabError, match="not a number of hours"):
        parse_extension_hours(text)


def test_lateness_is_timestamp_minus_due_date_plus_extension_never_below_zero() -> None:
    def late(stamp: datetime | None, due: datetime | None = DUE, extension: timedelta | None = None) -> float:
        return Lateness("ann", "core", stamp, due, extension).seconds_late

    assert late(DUE - timedelta(minutes=1)) == 0
    assert late(DUE) == 0
    assert late(DUE + timedelta(seconds=90)) == 90
    assert late(DUE + timedelta(days=3)) == 3 * 24 * HOUR
    assert late(DUE + timedelta(hours=30), extension=timedelta(hours=48)) == 0
    assert late(DUE + timedelta(hours=50), extension=timedelta(hours=48)) == 2 * HOUR
    assert late(None) == 0  # no timestamp: never late
    assert late(DUE + timedelta(days=3), due=None) == 0  # no due date: never late
    assert late_by(2 * HOUR + 5 * 60 + 7) == "2 h 5 min" and late_by(90) == "1 min 30 s"
    assert late_by(3 * 86400 + HOUR) == "3 d 1 h"


@pytest.mark.parametrize(("policy", "score", "seconds", "penalty"), [
    (LatePolicy("none"), 8, 10 * HOUR, 0),
    (LatePolicy("zero"), 8, 1, 8),  # nbgrader's 'zero': the notebook's whole score
    (LatePolicy("zero"), 8, 0, 0),  # on time
    (LatePolicy("per-hour", 2), 8, 1, 2),  # a started hour counts
    (LatePolicy("per-hour", 2), 8, HOUR, 2),
    (LatePolicy("per-hour", 2), 8, HOUR + 1, 4),
    (LatePolicy("per-hour", 2), 8, 30 * HOUR, 8),  # never below 0: at most the score
    (LatePolicy("per-hour", 2), 0, 30 * HOUR, 0),
    (LatePolicy("per-hour", 0.5), 8, 2.5 * HOUR, 1.5),
])
def test_each_policy_takes_what_nbgrader_would(policy: LatePolicy, score: float, seconds: float,
                                               penalty: float) -> None:
    assert notebook_penalty(plugin_for(policy), "ann", score, seconds) == penalty


def test_the_plugin_is_nbgraders_and_configurable_as_nbgrader_configures_it() -> None:
    config = Config()
    config.PglabLatePenalty.penalty_method = "per-hour"
    config.PglabLatePenalty.points_per_hour = 3
    plugin = PglabLatePenalty(config=config)
    assert plugin.late_submission_penalty("ann", 10, 1.5 * HOUR) == 6
    assert PglabLatePenalty(penalty_method="zero").late_submission_penalty("ann", 10, 5) == 10
    assert PglabLatePenalty().late_submission_penalty("ann", 10, 5) is None


def test_an_extension_is_kept_in_the_course_gradebook_as_nbgrader_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    url = f"sqlite:///{path}"
    stamp_new_gradebook(path)
    with Gradebook(url) as gb:  # what `nbgrader db assignment add core --duedate=...` records
        gb.add_assignment("core", duedate="2026-12-10 23:59:00 UTC")
        gb.add_assignment("week2")
    for unknown in ("week2", "week3"):  # nbgrader knows no notebook of theirs (week3: not even its name)
        with pytest.raises(PglabError, match=f"{unknown} has no notebooks .* run REGISTER first"):
            grant_extension(url, "cy", unknown, 1.5, "REGISTER")
    with Gradebook(url) as gb:  # what nbgrader generate_assignment registers
        gb.add_notebook("beginner", "core")
        gb.add_grade_cell("test_one", "beginner", "core", max_score=10, cell_type="code")
    grant_extension(url, "ann", "core", 48, "REGISTER")  # no student, no submission yet: made as nbgrader would
    grant_extension(url, "bob", "core", 2, "REGISTER")
    grant_extension(url, "bob", "core", 0, "REGISTER")  # taken back
    deadlines = read_deadlines(url, ["core", "week2"], {})
    assert deadlines.duedates == {"core": DUE}
    assert deadlines.extensions == {("ann", "core"): timedelta(hours=48)}
    with Gradebook(url) as gb:
        submission = gb.find_submission("core", "ann")
        assert submission.duedate == DUE + timedelta(hours=48)  # nbgrader's own reading of it
        assert submission.total_seconds_late == 0
        assert [nb.name for nb in submission.notebooks] == ["beginner"]  # nbgrader can autograde it
    assert read_deadlines(url, ["core"], {"core": DUE + timedelta(days=1)}).duedates == {
        "core": DUE + timedelta(days=1)}  # --due wins
    assert read_deadlines(f"sqlite:///{tmp_path / 'none.db'}", ["core"], {}) == Deadlines({}, {})
    with pytest.raises(PglabError, match="no course gradebook .* yet: run REGISTER first"):
        grant_extension(f"sqlite:///{tmp_path / 'none.db'}", "ann", "core", 1, "REGISTER")
    assert not (tmp_path / "none.db").exists()


def test_pglab_extend_refuses_what_it_cannot_record_in_one_line(capsys: pytest.CaptureFixture[str],
                                                                tmp_path: Path) -> None:
    for argv, says in [(["extend", "ann", "week9", "48"], "no assignment 'week9'"),
                       (["extend", "ann", "core", "soon"], "not a number of hours"),
                       (["extend", "ann", "core", "4", "--source", str(tmp_path / "nope")], "is not a folder")]:
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1, err


def outcome(student: str, notebook: str, points: float, maximum: float = 10) -> NotebookOutcome:
    made = NotebookOutcome(student, "core", notebook, maximum)
    made.results = [CheckResult("test_all", "all of it", points, maximum, False, "")]
    return made


def test_penalties_are_worked_out_from_outcomes_and_shown_everywhere() -> None:
    deadlines = Deadlines({"core": DUE}, {("bob", "core"): timedelta(hours=48)})
    ann, bob, cy = outcome("ann", "beginner", 9), outcome("bob", "beginner", 7), outcome("cy", "beginner", 10)
    stamps = {"ann": DUE + timedelta(hours=2, minutes=5), "bob": DUE + timedelta(hours=47), "cy": DUE}
    late = late_penalties([(deadlines.lateness(o.student, "core", stamps[o.student]), o) for o in (ann, bob, cy)],
                          LatePolicy("per-hour", 2))
    assert {key: p.points for key, p in late.items()} == {("ann", "core", "beginner"): 6}  # 3 started hours

    rows = check_rows([ann, bob, cy], [], late)
    penalty_rows = [r for r in rows if r.kind is RowKind.LATE]
    assert [(r.student, r.points, r.max_points) for r in penalty_rows] == [("ann", -6, 0)]
    assert "2 h 5 min after the due date" in penalty_rows[0].message and "per-hour:2" in penalty_rows[0].message
    assert sum(r.points or 0 for r in rows if r.student == "ann") == 3  # a notebook's rows add up to its score
    assert not listed_problems(rows)  # late is not a problem of the notebook: it has its own table

    page = feedback.render(ann, late[("ann", "core", "beginner")])
    assert "Score: <b>3 / 10</b>" in page and "9 before the late penalty of 6" in page
    assert "late penalty 6 point(s)" in page
    assert "Score: <b>7 / 10</b>" in feedback.render(bob) and "Late" not in feedback.render(bob)

    grades = [GradeRow("core", "ann", "", "", 3, 10), GradeRow("core", "bob", "", "", 7, 10),
              GradeRow("core", "cy", "", "", 10, 10)]
    results = class_results(grades, rows, list(late.values()))
    wide = list(csv.DictReader(io.StringIO(wide_csv(results).decode())))
    assert [(r["SIS Login ID"], r["core: beginner"], r["Late penalty"], r["Total"]) for r in wide] == [
        ("ann", "9", "6", "3"), ("bob", "7", "0", "7"), ("cy", "10", "0", "10")]
    report = render_report(results)
    assert "<h2>Late submissions</h2>" in report and "data-late='ann::core/beginner' data-penalty='6'" in report
    on_time = class_results(grades, check_rows([bob, cy], []), [])
    assert "Late penalty" not in wide_csv(on_time).decode() and "Late submissions" not in render_report(on_time)


def test_pglab_grade_refuses_bad_deadline_input_in_one_line_before_grading(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    submitted = tmp_path / "submitted"
    folder = submitted / "ann" / "core"
    folder.mkdir(parents=True)
    (folder / "beginner.ipynb").write_text("{}")
    (folder / "timestamp.txt").write_text("yesterday-ish")
    out = tmp_path / "out"
    for extra, says in [(["--late-policy", "half"], "--late-policy 'half' is not a policy"),
                        (["--due", "core=soon"], "'soon' is not a date and time"),
                        (["--due", "week9=2026-12-10T23:59:00+00:00"], "no assignment 'week9'"),
                        ([], f"{folder / 'timestamp.txt'} is not a timestamp")]:
        assert main(["grade", str(submitted), "--out", str(out), "--quiet", *extra]) == 1
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1, err
    assert not out.exists()  # nothing written
