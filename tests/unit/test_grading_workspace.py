"""Grading runs clean up the folders of killed runs, and never the folder of a live one.

Caused, not assumed: many processes make and drop workspaces at once, each one's start-up sweeping the
others' folders, and every process checks that its own folder survives until it closes it. A run
that starts between another's making its lock file and locking it used to remove that live run's
folder (bwrap then failed: "Can't find source path").
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from pathlib import Path

from pglab.grading import workspace
from pglab.grading.workspace import GradingWorkspace

ROUNDS = 150


def _churn(tmp: str, lost: multiprocessing.Queue) -> None:
    tempfile.tempdir = tmp
    for _ in range(ROUNDS):
        run = GradingWorkspace()
        (run.path / "notebook.ipynb").write_text("{}")
        if not (run.path / "notebook.ipynb").exists() or not (run.path / workspace.LOCK_NAME).exists():
            lost.put(str(run.path))
        run.close()


def test_concurrent_runs_never_remove_a_live_runs_folder(tmp_path: Path) -> None:
    lost: multiprocessing.Queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_churn, args=(str(tmp_path), lost)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    gone = [] if lost.empty() else [lost.get() for _ in range(lost.qsize())]
    assert gone == [], f"{len(gone)} live run folder(s) removed by another run's start-up"
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    def killed() -> None:
        tempfile.tempdir = str(tmp_path)
        GradingWorkspace()
        os.kill(os.getpid(), signal.SIGKILL)

    child = multiprocessing.Process(target=killed)
    child.start()
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    left = list(tmp_path.glob(f"{workspace.PREFIX}*"))
    assert len(left) == 1
    tempfile.tempdir = str(tmp_path)
    try:
        run = GradingWorkspace()
        assert not left[0].exists() and run.path.exists()
        run.close()
    finally:
        tempfile.tempdir = None
