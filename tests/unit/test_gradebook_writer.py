"""The gradebook writer's process writes what the grader would have written itself; when it cannot
(killed, never started), the grader writes in-process; a gradebook that cannot be written is the
grader's fault, said the same way wherever it happened."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from pglab.errors import FaultKind, GraderFault
from pglab.grading.reports.gradebook_plan import record_submissions
from pglab.grading.reports.gradebook_writer import GradebookWriterProcess
from tests.support.gradebooks import DUE, course, nbgrader_whole_export, submission

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader under SQLAlchemy 2


@pytest.fixture
def writer() -> GradebookWriterProcess:
    started = GradebookWriterProcess.start()
    assert started is not None
    yield started
    started.close()
    assert started.process.returncode is not None


def test_the_writers_gradebook_is_the_one_written_in_process(tmp_path: Path, writer: GradebookWriterProcess) -> None:
    first = [submission("ann", 7, penalties={"beginner": 1.5}), submission("bob", 10)]
    second = [submission("ann", 9, penalties={"beginner": 1.5}), submission("bob", 10), submission("cy", 4)]
    here, there = tmp_path / "here.db", tmp_path / "there.db"
    assert record_submissions(there, course(), DUE, first, writer) == record_submissions(here, course(), DUE, first)
    # the second request takes the ledger's path: only ann's and cy's entries, spliced into the export
    assert record_submissions(there, course(), DUE, second, writer) == record_submissions(here, course(), DUE, second)
    assert writer.process.poll() is None and not writer.conn.closed  # one writer answered both (none fell back)
    assert nbgrader_whole_export(there, tmp_path) == nbgrader_whole_export(here, tmp_path)
    assert "cy" in nbgrader_whole_export(there, tmp_path)


def test_a_relative_out_is_where_the_grader_works(tmp_path: Path, writer: GradebookWriterProcess,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``pglab grade ... --out grader/grades``: the writer's process runs elsewhere."""
    (tmp_path / "grades").mkdir()
    monkeypatch.chdir(tmp_path)
    export = record_submissions(Path("grades") / "gradebook.db", course(), DUE, [submission("ann", 7)], writer)
    assert not writer.conn.closed  # the writer answered (no fall-back in-process)
    assert export == nbgrader_whole_export(tmp_path / "grades" / "gradebook.db", tmp_path)


def test_a_killed_writer_leaves_the_gradebook_to_the_grader(tmp_path: Path, writer: GradebookWriterProcess) -> None:
    os.kill(writer.process.pid, signal.SIGKILL)
    writer.process.wait(timeout=10)
    run = [submission("ann", 7), submission("bob", 10)]
    export = record_submissions(tmp_path / "gradebook.db", course(), DUE, run, writer)
    assert export == nbgrader_whole_export(tmp_path / "gradebook.db", tmp_path)
    assert writer.conn.closed  # stopped, not asked again


def test_an_unwritable_gradebook_is_the_grader_fault_in_the_writer_and_in_process(
        tmp_path: Path, writer: GradebookWriterProcess) -> None:
    (tmp_path / "gradebook.db").mkdir()  # a folder where the file should be: refuses root too
    run = [submission("ann", 7)]
    for by in (writer, None):
        with pytest.raises(GraderFault) as raised:
            record_submissions(tmp_path / "gradebook.db", course(), DUE, run, by)
        assert raised.value.kind is FaultKind.OUTPUT, raised.value
        assert "gradebook.db" in str(raised.value), raised.value
    assert writer.process.poll() is None and not writer.conn.closed  # a failure is an answer: the writer stays
