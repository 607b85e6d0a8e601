"""The fork server launched before the grader is imported (pglab.grading.head_start), with real parts.

A head start is only ever an earlier start: the run adopts it and grades with it; one killed before
the run got to it is replaced, never reported as anyone's fault; and whatever the run does, the
head start's fork server and workspace do not outlive it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from pglab.grading.batch import grade_folder
from pglab.grading.head_start import HeadStart, head_start
from pglab.grading.timeouts import Limits
from pglab.settings import PROJECT_ROOT
from tests.corpus.case import Case
from tests.corpus.cases_core import SEED_BEGINNER
from tests.support.environment import clean_environ

LIMITS = Limits(cell_timeout_s=5, call_timeout_s=5, submission_timeout_s=90)


@pytest.fixture
def submitted(course_database, tmp_path: Path) -> Path:
    Case("ana", "core", "beginner", 10, answer=SEED_BEGINNER).write(tmp_path / "submitted")
    return tmp_path / "submitted"


def _started() -> HeadStart:
    ahead = head_start(unsafe_no_sandbox=False)
    assert ahead is not None, "no head start with the suite's server and bubblewrap"
    return ahead


def _gone(ahead: HeadStart) -> bool:
    if ahead.workspace.path.exists():
        return False
    try:
        return psutil.Process(ahead.forkserver.pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _forkservers() -> set[int]:
    return {p.pid for p in psutil.process_iter(["cmdline"])
            if "pglab.grading.kernels.forkserver" in " ".join(p.info["cmdline"] or ())}


def test_the_run_grades_with_the_fork_server_launched_ahead(submitted: Path, tmp_path: Path) -> None:
    ahead = _started()
    try:
        summary = grade_folder(submitted, tmp_path / "out", jobs=1, limits=LIMITS, progress=False, ahead=ahead)
        assert ahead.closed, "the run did not adopt the head start"
        assert ahead.forkserver.restarts == 0
    finally:
        ahead.close()
    assert [o.score for o in summary.outcomes if o.notebook == "beginner"] == [10.0]
    assert _gone(ahead)


def test_a_fork_server_killed_before_the_run_took_it_is_replaced(submitted: Path, tmp_path: Path) -> None:
    ahead = _started()
    try:
        os.kill(ahead.forkserver.pid, signal.SIGKILL)
        summary = grade_folder(submitted, tmp_path / "out", jobs=1, limits=LIMITS, progress=False, ahead=ahead)
    finally:
        ahead.close()
    assert not summary.not_graded, summary.fault_line()
    assert [o.score for o in summary.outcomes if o.notebook == "beginner"] == [10.0]
    assert _gone(ahead)


def test_a_run_refused_before_grading_leaves_no_fork_server_or_workspace(submitted: Path, tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("pglab-grading-run-*"))
    servers_before = _forkservers()
    env = clean_environ(PGLAB_ADMIN_URL=os.environ["PGLAB_ADMIN_URL"])
    done = subprocess.run([sys.executable, "-m", "pglab.cli", "grade", str(submitted), "--out", str(tmp_path / "out"),
                           "--student", "nobody", "--quiet"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("pglab: no submissions from nobody"), done.stderr
    left = set(Path(tempfile.gettempdir()).glob("pglab-grading-run-*")) - before
    assert not left, left
    assert not _forkservers() - servers_before
