"""A run with nothing new answers from OUT's record: only when every input and every output is as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pglab.grading import unchanged_run
from pglab.settings import load_settings

SUMMARY = unchanged_run.Summary(students=2, notebooks=6, problems_line="0 problem(s) noted", files="out/…")
OPTIONS = {"submitted": "sub", "out": "out", "jobs": None, "quiet": False, "no_similarity": False}
SETTINGS = load_settings({"PGLAB_HOME": "/tmp/pglab-home", "PGLAB_PORT": "55999"})


@pytest.fixture
def graded(tmp_path: Path) -> tuple[Path, Path, str]:
    """A class of two learners and an OUT as a run that graded everything left it."""
    submitted, out = tmp_path / "sub", tmp_path / "out"
    for student in ("ann", "cho"):
        (submitted / student / "core").mkdir(parents=True)
        (submitted / student / "core" / "beginner.ipynb").write_text(f'{{"learner": "{student}"}}')
        (submitted / student / "core" / "timestamp.txt").write_text("2026-11-20 09:00:00 UTC")
        (out / "feedback" / student).mkdir(parents=True)
        (out / "feedback" / student / "beginner.html").write_text("<p>7 of 7</p>")
    (out / "grades.csv").write_text("assignment,student,score\n")
    (out / ".pglab" / "results").mkdir(parents=True)
    (out / ".pglab" / "results" / "ann.json").write_text("{}")
    inputs = unchanged_run.inputs_digest(submitted, OPTIONS, SETTINGS)
    unchanged_run.remember(out, inputs, SUMMARY)
    return submitted, out, inputs


def test_the_same_inputs_and_untouched_outputs_give_the_earlier_summary(graded: tuple[Path, Path, str]) -> None:
    submitted, out, inputs = graded
    assert unchanged_run.inputs_digest(submitted, OPTIONS, SETTINGS) == inputs
    assert unchanged_run.unchanged_summary(out, inputs) == SUMMARY
    (out / ".pglab" / "lock").write_text("4242")  # every run takes the lock: not an output
    assert unchanged_run.unchanged_summary(out, inputs) == SUMMARY


def test_one_byte_of_a_submission_is_a_change(graded: tuple[Path, Path, str]) -> None:
    submitted, out, inputs = graded
    notebook = submitted / "cho" / "core" / "beginner.ipynb"
    stat = notebook.stat()
    notebook.write_text('{"learner": "chO"}')  # same size, same modification time: contents decide
    os.utime(notebook, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert unchanged_run.inputs_digest(submitted, OPTIONS, SETTINGS) != inputs


@pytest.mark.parametrize("change", ["new learner", "new timestamp", "option", "database"])
def test_what_a_run_reads_changes_the_digest(graded: tuple[Path, Path, str], change: str) -> None:
    submitted, _, inputs = graded
    options, settings = OPTIONS, SETTINGS
    if change == "new learner":
        (submitted / "dee" / "core").mkdir(parents=True)
        (submitted / "dee" / "core" / "beginner.ipynb").write_text("{}")
    elif change == "new timestamp":
        (submitted / "ann" / "core" / "timestamp.txt").write_text("2026-11-21 09:00:00 UTC")
    elif change == "option":
        options = {**OPTIONS, "no_similarity": True}
    else:
        settings = load_settings({"PGLAB_HOME": "/tmp/pglab-home", "PGLAB_PORT": "55998"})
    assert unchanged_run.inputs_digest(submitted, options, settings) != inputs


def test_how_the_run_talks_and_the_command_s_handler_are_not_inputs(graded: tuple[Path, Path, str]) -> None:
    submitted, _, inputs = graded
    assert unchanged_run.inputs_digest(submitted, {**OPTIONS, "quiet": True}, SETTINGS) == inputs
    assert unchanged_run.inputs_digest(submitted, {**OPTIONS, "handler": lambda: 0}, SETTINGS) == inputs


def test_a_course_file_is_an_input(tmp_path: Path, graded: tuple[Path, Path, str]) -> None:
    submitted, _, inputs = graded
    config = tmp_path / "nbgrader_config.py"
    config.write_text("c.Execute.timeout = 60\n")
    with_config = unchanged_run.inputs_digest(submitted, OPTIONS, SETTINGS, [config])
    assert with_config != inputs
    config.write_text("c.Execute.timeout = 90\n")
    assert unchanged_run.inputs_digest(submitted, OPTIONS, SETTINGS, [config]) != with_config


@pytest.mark.parametrize("touch", ["deleted page", "edited csv", "stored result", "new file"])
def test_an_output_touched_since_takes_the_full_path(graded: tuple[Path, Path, str], touch: str) -> None:
    _, out, inputs = graded
    if touch == "deleted page":
        (out / "feedback" / "cho" / "beginner.html").unlink()
    elif touch == "edited csv":
        (out / "grades.csv").write_text("assignment,student,score\ncore,ann,100\n")
    elif touch == "stored result":
        (out / ".pglab" / "results" / "ann.json").unlink()
    else:
        (out / "report.html").write_text("<html></html>")
    assert unchanged_run.unchanged_summary(out, inputs) is None


def test_no_record_a_broken_one_or_a_forgotten_one_is_no_answer(graded: tuple[Path, Path, str]) -> None:
    _, out, inputs = graded
    (out / unchanged_run.RECORD).write_text("{not json")
    assert unchanged_run.unchanged_summary(out, inputs) is None
    unchanged_run.remember(out, inputs, SUMMARY)
    unchanged_run.forget(out)
    assert not (out / unchanged_run.RECORD).exists()
    assert unchanged_run.unchanged_summary(out, inputs) is None
