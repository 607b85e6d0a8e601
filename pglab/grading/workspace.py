"""The grading run's scratch folder in the system's temporary directory, and the ones killed runs left.

Each run holds a lock on a file in its own folder for as long as it lives (flock: released however
the process ends). A run starting up removes every ``pglab-grading-run-*`` folder of this user whose lock
nobody holds: what a run killed with SIGKILL could not clean up itself. The lock file is locked under a
name nobody else looks at and only then renamed into place, so no other run ever finds it unlocked
while its owner lives (a run starting between the two steps once removed a live run's folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

PREFIX = "pglab-grading-run-"
LOCK_NAME = ".run.lock"
UNLOCKED_NAME = ".run.lock.new"


class GradingWorkspace:
    def __init__(self) -> None:
        remove_leftovers()
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.path.chmod(0o711)
        self._fd = os.open(self.path / UNLOCKED_NAME, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.rename(self.path / UNLOCKED_NAME, self.path / LOCK_NAME)

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)


def remove_leftovers() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        with contextlib.suppress(OSError):
            if not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            try:
                fd = os.open(folder / LOCK_NAME, os.O_RDWR)
            except FileNotFoundError:  # a run between making its folder and locking it, or a very old one
                if time.time() - folder.stat().st_mtime < 600:
                    continue
                shutil.rmtree(folder, ignore_errors=True)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live run's
            finally:
                os.close(fd)
            shutil.rmtree(folder, ignore_errors=True)
