"""Which feedback pages ``pglab release-feedback`` lets out, and what it puts beside them for nbgrader."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from pglab.errors import PglabError
from pglab.grading.feedback_release import (
    Ready,
    choose,
    graded_timestamps,
    nbgrader_failure,
    release_command,
    stage,
    submission_timestamp,
)
from pglab.grading.reports.gradebook import GradebookWriter

STAMP = "2026-11-20 10:00:00.000000 UTC"
GRADED = datetime(2026, 11, 20, 10, 0, 0)  # as nbgrader's gradebook keeps it: naive UTC


def _page(out: Path, student: str, notebook: str = "beginner", assignment: str = "core") -> Path:
    page = out / "feedback" / student / assignment / f"{notebook}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<p>{student} {notebook}</p>")
    return page


def _submission(submitted: Path, student: str, stamp: str | None = STAMP, secret: str | None = None) -> Path:
    folder = submitted / student / "core"
    folder.mkdir(parents=True)
    (folder / "beginner.ipynb").write_text("{}")
    if stamp is not None:
        (folder / "timestamp.txt").write_text(stamp)
    if secret is not None:
        (folder / "submission_secret.txt").write_text(secret)
    return folder


def test_the_exchange_name_is_nbgraders_hash_of_the_submission_secret_and_notebook(tmp_path: Path) -> None:
    ready = Ready("alice", (tmp_path / "beginner.html", tmp_path / "advanced.html"), tmp_path, "s3cret")
    assert ready.exchange_names() == {
        "beginner": hashlib.md5(b"s3cretbeginner").hexdigest() + ".html",
        "advanced": hashlib.md5(b"s3cretadvanced").hexdigest() + ".html",
    }
    other = Ready("bob", ready.pages, tmp_path, "another")
    assert set(other.exchange_names().values()).isdisjoint(ready.exchange_names().values())


@pytest.mark.parametrize(("text", "expected"), [
    (STAMP, GRADED),  # what nbgrader submit writes
    ("2026-11-20 11:30:00.500000 Europe/Berlin", datetime(2026, 11, 20, 10, 30, 0, 500000)),
    ("not a time", None),
])
def test_a_submissions_timestamp_is_read_as_nbgrader_reads_it(tmp_path: Path, text: str,
                                                             expected: datetime | None) -> None:
    (tmp_path / "timestamp.txt").write_text(text + "\n")
    assert submission_timestamp(tmp_path) == expected
    assert submission_timestamp(tmp_path / "nowhere") is None


def test_only_pages_graded_from_the_submission_in_submitted_are_chosen(tmp_path: Path) -> None:
    out, submitted = tmp_path / "out", tmp_path / "submitted"
    for student in ("alice", "bob", "carl", "dan", "eve"):
        _page(out, student)
    _page(out, "alice", "advanced")
    _page(out, "fay", assignment="week2")  # another assignment: not looked at
    _submission(submitted, "alice", secret="a-secret")
    _submission(submitted, "bob")  # handed in by hand: no secret, so the exchange cannot find it
    _submission(submitted, "carl", stamp="2026-11-21 08:00:00.000000 UTC", secret="c")  # submitted again since
    _submission(submitted, "eve", secret="e")  # not in the gradebook
    graded = {"alice": GRADED, "bob": GRADED, "carl": GRADED, "dan": GRADED}

    ready, held = choose("core", out, submitted, graded)

    assert [(r.student, [p.name for p in r.pages], r.secret) for r in ready] == [
        ("alice", ["advanced.html", "beginner.html"], "a-secret")]
    reasons = {h.student: h.reason for h in held}
    assert sorted(reasons) == ["bob", "carl", "dan", "eve"]
    assert "submission_secret.txt is missing" in reasons["bob"] and "nbgrader submit" in reasons["bob"]
    assert "not the one graded" in reasons["carl"] and "pglab grade" in reasons["carl"]
    assert reasons["dan"].startswith("no submission in")
    assert "not the one graded" in reasons["eve"]
    assert all("\n" not in reason for reason in reasons.values())


def test_students_narrow_the_choice_and_an_unknown_one_is_one_line(tmp_path: Path) -> None:
    out, submitted = tmp_path / "out", tmp_path / "submitted"
    for student in ("alice", "bob"):
        _page(out, student)
        _submission(submitted, student, secret=student)
    ready, held = choose("core", out, submitted, {"alice": GRADED, "bob": GRADED}, students=("bob",))
    assert [r.student for r in ready] == ["bob"] and held == []
    with pytest.raises(PglabError, match=r"no feedback page for zed on core in .*: grade them first"):
        choose("core", out, submitted, {}, students=("zed",))


def test_staging_puts_the_submission_files_beside_the_pages_and_takes_them_from_held_ones(tmp_path: Path) -> None:
    out, submitted = tmp_path / "out", tmp_path / "submitted"
    for student in ("alice", "carl"):
        _page(out, student)
    _submission(submitted, "alice", secret="a-secret")
    _submission(submitted, "carl", stamp="2026-11-21 08:00:00.000000 UTC", secret="c")
    carl = out / "feedback" / "carl" / "core"
    (carl / "timestamp.txt").write_text(STAMP)  # left by an earlier release
    (carl / "submission_secret.txt").write_text("old")

    page = out / "feedback" / "alice" / "core" / "beginner.html"
    page.chmod(0o600)  # an instructor's umask 077: nbgrader would copy it into the exchange unreadable

    ready, held = choose("core", out, submitted, {"alice": GRADED, "carl": GRADED})
    stage(ready, held, "core", out)

    alice = out / "feedback" / "alice" / "core"
    assert (alice / "timestamp.txt").read_text() == STAMP
    assert (alice / "submission_secret.txt").read_text() == "a-secret"
    assert page.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in carl.iterdir()) == ["beginner.html"]


def test_nbgrader_is_pointed_at_out_and_skips_the_held_learners(tmp_path: Path) -> None:
    command = release_command("core", tmp_path / "out", ["bob", "carl"])
    assert command[1:5] == ["-m", "nbgrader", "release_feedback", "core"]
    assert f"--CourseDirectory.root={(tmp_path / 'out').resolve()}" in command
    assert "--CourseDirectory.feedback_directory=feedback" in command
    assert command[-1] == "--CourseDirectory.student_id_exclude=bob,carl"
    assert not any("student_id_exclude" in part for part in release_command("core", tmp_path, []))


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission under SQLAlchemy 2
def test_the_graded_submissions_come_from_the_gradebook(tmp_path: Path) -> None:
    with pytest.raises(PglabError, match="does not exist: run `pglab grade` first"):
        graded_timestamps(tmp_path / "gradebook.db", "core")
    writer = GradebookWriter(tmp_path / "gradebook.db")
    writer.gradebook.add_assignment("core")
    writer.gradebook.add_student("alice")
    writer.gradebook.add_submission("core", "alice", timestamp=GRADED)
    writer.gradebook.close()
    assert graded_timestamps(tmp_path / "gradebook.db", "core") == {"alice": GRADED}
    assert graded_timestamps(tmp_path / "gradebook.db", "week2") == {}


def test_nbgraders_reason_for_failing_is_the_line_shown() -> None:
    log = ("[ReleaseFeedbackApp | WARNING] No nbgrader_config.py file found\n"
           "[ReleaseFeedbackApp | CRITICAL] Unwritable directory, please contact your instructor: /srv/x\n"
           "[ReleaseFeedbackApp | ERROR] nbgrader release_feedback failed\n")
    assert nbgrader_failure(log) == "Unwritable directory, please contact your instructor: /srv/x"
    assert nbgrader_failure("[ReleaseFeedbackApp | ERROR] Could not match\n") == "Could not match"
    assert nbgrader_failure("Traceback (most recent call last):\n  boom\nKeyError: 'x'\n") == (
        "Traceback (most recent call last): boom KeyError: 'x'")
