"""nbgrader's submit step, with each submission reachable by its learner and the instructors only.

nbgrader's own exchange hides a submission by name only: ``inbound/`` is 2733 (nobody but its owner,
the instructor who released, may list it) and each submission folder is called
``<student>+<assignment>+<timestamp>+<random>``, but the folder itself is left 0777 (its files 0644),
so whoever learns the name (a path in an error message, a shared screen) reads and may change another
learner's work. This submit step does everything nbgrader's does, then closes the submission's
folders to others: 0770. ``inbound/`` is setgid, so a submission folder gets ``inbound``'s group, the
releasing instructor's: ``nbgrader collect`` enters it through that group (and may delete it, as
nbgrader intends), the learner owns it, nobody else may enter it. The files keep nbgrader's 0644:
the learner cannot give them the instructors' group (they are not in it; ``shutil.copytree`` drops the
folder's setgid bit before nbgrader writes ``timestamp.txt``), so the closed folders are the lock.
A submission whose folder did not get ``inbound``'s group is left as nbgrader made it, so that the
instructor can always collect.

``hub/jupyter-config/course/nbgrader_config.py`` selects it (``ExchangeFactory.submit``) for every
hub user's Assignments panel and ``nbgrader submit``.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbgrader.exchange.default.submit import ExchangeSubmit

SUBMISSION_FOLDER_MODE = 0o770


class PrivateExchangeSubmit(ExchangeSubmit):
    """nbgrader's ``ExchangeSubmit``, leaving the submission to its learner and the instructors."""

    def copy_files(self) -> None:
        super().copy_files()
        close_submission(Path(self.inbound_path) / self.assignment_filename, Path(self.inbound_path))


def close_submission(folder: Path, inbound: Path) -> bool:
    """Folders under ``folder`` 0770 when it has ``inbound``'s group (returns whether it did)."""
    if folder.stat().st_gid != inbound.stat().st_gid:
        return False
    for dirname, _subfolders, _files in os.walk(folder):
        Path(dirname).chmod(SUBMISSION_FOLDER_MODE)
    return True
