"""Deadlines in ``pglab grade``, side by side with ``nbgrader autograde`` + ``nbgrader export``.

One small nbgrader course whose due date is set the nbgrader way (``nbgrader db assignment add
--duedate``), two extensions granted with ``pglab extend``, seven learners handing in before, just
after and long after the due date, with and without an extension, in UTC and in another zone, and
one without a timestamp. Under each policy (none; nbgrader's own ``zero``; per hour, through
pglab's plugin, which nbgrader loads too) ``grades.csv`` must be what ``nbgrader export`` writes
after ``nbgrader autograde`` on the same gradebook settings (nbgrader executes the notebooks once;
for the other policies its autograde runs again on that graded course with only its late-penalty
step, which reads the scores from the gradebook as it always does). Then a new extension and a ``--due``
override change the scores on the next run, and no notebook is executed again.
"""

from __future__ import annotations

import csv
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from pglab.cli import main
from pglab.grading.batch import BatchSummary, grade_folder
from pglab.grading.late_policy import LatePolicy
from tests.support.nbgrader_course import cell, finish_nbgrader, nbgrader, notebook, start_nbgrader, submit

DUE = datetime(2026, 12, 10, 23, 59)
DOUBLE = notebook(
    cell("markdown", "# Doubling\n\nWrite `double(x)`."),
    cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "answer",
         solution=True),
    cell("code", "assert double(1) == 2", "test_positive", grade=True, points=4),
    cell("code", "assert double(-3) == -6", "test_negative", grade=True, points=6),
)
RIGHT = "def double(x):\n    return 2 * x"
HALF = "def double(x):\n    return x + x if x > 0 else 0"  # 4 of 10


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S.%f} UTC"  # as nbgrader's exchange writes timestamp.txt


# learner -> (answer, timestamp.txt, hours of extension)
LEARNERS: dict[str, tuple[str, str | None, float]] = {
    "ann": (RIGHT, stamp(DUE - timedelta(days=1)), 0),  # on time
    "bob": (RIGHT, "2026-12-11 01:09:00.000000 Europe/Paris", 0),  # 10 min late, written in another zone
    "cy": (HALF, stamp(DUE + timedelta(days=3)), 0),  # long after: per hour, more than the score
    "dora": (RIGHT, stamp(DUE + timedelta(hours=30)), 48),  # long after, within her extension
    "eve": (RIGHT, stamp(DUE + timedelta(hours=2, minutes=30)), 1),  # 1 h 30 min past her extension
    "fay": (RIGHT, None, 0),  # no timestamp: never late
    "gus": (HALF, stamp(DUE + timedelta(hours=1)), 0),  # exactly one hour late
}
NBGRADER_POLICY = {
    "none": "",
    "zero": "c.LateSubmissionPlugin.penalty_method = 'zero'\n",  # nbgrader's own plugin
    "per-hour:2": ("c.AssignLatePenalties.plugin_class = 'pglab.grading.nbgrader_late_plugin.PglabLatePenalty'\n"
                   "c.PglabLatePenalty.penalty_method = 'per-hour'\nc.PglabLatePenalty.points_per_hour = 2\n"),
}
COMPARED = ("duedate", "timestamp", "raw_score", "late_submission_penalty", "score", "max_score")


# autograde's steps after the notebooks ran: only nbgrader's late-penalty step, on the scores in the gradebook
ONLY_PENALTIES = ("from nbgrader.preprocessors import AssignLatePenalties\n"
                  "c.Autograde.autograde_preprocessors = [AssignLatePenalties]\n")


def copy_course(course: Path, to: Path, extra: str) -> Path:
    shutil.copytree(course, to)
    (to / "nbgrader_config.py").write_text(config(extra))
    return to


def nbgrader_export(course: Path) -> Path:
    """``nbgrader export``'s CSV of the course's gradebook (its CsvExportPlugin, run here: the same
    code the command runs, without another nbgrader process starting)."""
    to = course / "export.csv"
    plugin = CsvExportPlugin(to=str(to))
    plugin.log = logging.getLogger("nbgrader-export")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        plugin.export(gradebook)
    return to


def config(extra: str = "") -> str:
    return "c = get_config()\nc.Execute.timeout = 4\nc.CourseDirectory.root = __file__.rsplit('/', 1)[0]\n" + extra


def grades(path: Path) -> dict[str, tuple[str, ...]]:
    with path.open(newline="") as f:
        return {row["student_id"]: tuple(row[c] for c in COMPARED) for row in csv.DictReader(f)}


@dataclass
class LateClass:
    course: Path
    out: Path
    runs: dict[str, BatchSummary]
    pglab: dict[str, dict[str, tuple[str, ...]]]  # policy -> grades.csv rows
    nbgrader: dict[str, dict[str, tuple[str, ...]]]  # policy -> nbgrader export rows

    def grade(self, policy: str, *due: str) -> BatchSummary:
        return grade_folder(self.course / "submitted", self.out, jobs=2, progress=False,
                            source=self.course / "source", due=due, late_policy=LatePolicy(*_policy(policy)))


def _policy(text: str) -> tuple[str, float]:
    method, _, points = text.partition(":")
    return method, float(points or 0)


@pytest.fixture(scope="module")
def late_class(course_database: object, tmp_path_factory: pytest.TempPathFactory) -> LateClass:
    root = tmp_path_factory.mktemp("late")
    course = root / "course"
    (course / "source" / "late").mkdir(parents=True)
    nbformat.write(DOUBLE, course / "source" / "late" / "double.ipynb")
    (course / "nbgrader_config.py").write_text(config())
    nbgrader(course, "db", "assignment", "add", "late", "--duedate=2026-12-10T23:59:00+00:00")
    nbgrader(course, "generate_assignment", "late", "--force")
    for student, (answer, timestamp, hours) in LEARNERS.items():
        submit(course / "release" / "late" / "double.ipynb", course / "submitted", student, "late",
               {"answer": answer}, timestamp=timestamp)
        if hours:
            assert main(["extend", student, "late", f"{hours:g}", "--source", str(course / "source")]) == 0
    # nbgrader autograde runs the notebooks once (no penalty), alongside pglab's first run; then, on
    # copies of that graded course, its autograde again with only its late-penalty step for the
    # other policies (the scores it executed are in the copied gradebook), alongside pglab's re-runs
    late = LateClass(course, root / "out", {}, {}, {})
    graded = copy_course(course, root / "nbgrader-none", "")
    autograde = start_nbgrader(graded, "autograde", "late", "--force")
    try:
        late.runs["none"] = late.grade("none")
        late.pglab["none"] = grades(late.out / "grades.csv")
    finally:
        finish_nbgrader(autograde, "autograde")
    copies = {policy: copy_course(graded, root / f"nbgrader-{policy.replace(':', '-')}", extra + ONLY_PENALTIES)
              for policy, extra in NBGRADER_POLICY.items() if policy != "none"}
    running = {policy: start_nbgrader(copy, "autograde", "late", "--force") for policy, copy in copies.items()}
    try:
        for policy in copies:
            late.runs[policy] = late.grade(policy)
            late.pglab[policy] = grades(late.out / "grades.csv")
    finally:
        for policy, process in running.items():
            finish_nbgrader(process, "autograde", policy)
    for policy, copy in {"none": graded, **copies}.items():
        late.nbgrader[policy] = grades(nbgrader_export(copy))
    return late


@pytest.mark.parametrize("policy", list(NBGRADER_POLICY))
def test_grades_csv_is_nbgraders_export_under_each_policy(late_class: LateClass, policy: str) -> None:
    ours, theirs = late_class.pglab[policy], late_class.nbgrader[policy]
    assert set(ours) == set(LEARNERS) == set(theirs)
    for student in LEARNERS:
        assert ours[student] == theirs[student], (
            f"{policy}, {student}: pglab {ours[student]}, nbgrader {theirs[student]}")
    penalties = {s: float(row[3]) for s, row in ours.items()}
    expected = {"none": {},
                "zero": {"bob": 10, "cy": 4, "eve": 10, "gus": 4},
                "per-hour:2": {"bob": 2, "cy": 4, "eve": 4, "gus": 2}}[policy]
    assert penalties == {s: float(expected.get(s, 0)) for s in LEARNERS}  # the case each learner stands for


def test_a_policy_changed_after_grading_executes_nothing_again(late_class: LateClass) -> None:
    first, *others = late_class.runs.values()
    assert first.graded_now == len(LEARNERS)
    assert all(run.graded_now == 0 and run.kept == len(LEARNERS) for run in others)


def test_an_extension_or_a_new_due_date_changes_scores_without_running_a_notebook(late_class: LateClass) -> None:
    source = str(late_class.course / "source")
    assert main(["extend", "cy", "late", "80", "--source", source]) == 0  # 3 days late: now on time
    extended = late_class.grade("per-hour:2")
    assert extended.graded_now == 0 and extended.kept == len(LEARNERS)
    rows = grades(late_class.out / "grades.csv")
    assert rows["cy"][3:5] == ("0.0", "4.0") and rows["bob"][3:5] == ("2.0", "8.0")
    assert {p.student for p in extended.late} == {"bob", "eve", "gus"}

    later = late_class.grade("zero", "late=2026-12-11T03:59:00+00:00")  # --due over the gradebook's
    assert later.graded_now == 0
    rows = grades(late_class.out / "grades.csv")
    assert {s for s, row in rows.items() if float(row[3])} == set()  # eve: 2 h 30 min + 1 h extension < 4 h
    assert rows["ann"][0] == "2026-12-11 03:59:00"

    assert main(["extend", "cy", "late", "0", "--source", source]) == 0  # taken back


def test_the_penalty_reaches_the_learner_and_the_report(late_class: LateClass, capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    out = late_class.out
    status = main(["grade", str(late_class.course / "submitted"), "--out", str(out), "--quiet",
                   "--source", str(late_class.course / "source"), "--late-policy", "per-hour:2"])
    said = capsys.readouterr().out
    assert status == 0 and "graded 0 notebook(s)" in said and "4 notebook(s) handed in late (12 point(s) off" in said
    page = (out / "feedback" / "eve" / "late" / "double.html").read_text()
    assert "Score: <b>6 / 10</b>" in page and "1 h 30 min after the due date 2026-12-11 00:59:00 UTC" in page
    assert "with an extension of 1 h" in page
    assert "Late" not in (out / "feedback" / "dora" / "late" / "double.html").read_text()
    report = (out / "report.html").read_text()
    assert "<h2>Late submissions</h2>" in report
    assert {student for student in LEARNERS if f"data-late='{student}::late/double'" in report} == {
        "bob", "cy", "eve", "gus"}
    with (out / "grades-wide.csv").open(newline="") as f:
        wide = {row["SIS Login ID"]: row for row in csv.DictReader(f)}
    assert (wide["cy"]["late: double"], wide["cy"]["Late penalty"], wide["cy"]["Total"]) == ("4", "4", "0")
    with (out / "checks.csv").open(newline="") as f:
        late_rows = [row for row in csv.DictReader(f) if row["check"] == "(late penalty)"]
    assert {(row["student_id"], row["points"]) for row in late_rows} == {
        ("bob", "-2"), ("cy", "-4"), ("eve", "-4"), ("gus", "-2")}
