"""nbgrader's submit step, with each submission readable by its learner and the instructors only.

nbgrader's own exchange hides a submission by name only: ``inbound/`` is 2733 (nobody but its owner,
the instructor who released, may list it) and each submission folder is called
``<student>+<assignment>+<timestamp>+<random>``, but the folder itself is left 0777 and its files
0644, so whoever learns the name (a path in an error message, a shared screen) reads and may change
another learner's work. This submit step does everything nbgrader's does, then closes the
submission: folders 0770, files 0640. ``inbound/`` is setgid, so the submission's group is
``inbound``'s, the releasing instructor's: ``nbgrader collect`` reads it through that group (and may
delete it, as nbgrader intends), the learner owns it, nobody else may enter it.

``hub/jupyter-config/course/nbgrader_config.py`` selects it (``ExchangeFactory.submit``) for every
hub user's Assignments panel and ``nbgrader submit``.
"""

from __future__ import annotations

import os
from pathlib import Path

from nbgrader.exchange.default.submit import ExchangeSubmit

SUBMISSION_FOLDER_MODE = 0o770
SUBMISSION_FILE_MODE = 0o640


class PrivateExchangeSubmit(ExchangeSubmit):
    """nbgrader's ``ExchangeSubmit``, leaving the submission to its learner and the instructors."""

    def copy_files(self) -> None:
        super().copy_files()
        close_submission(Path(self.inbound_path) / self.assignment_filename)


def close_submission(folder: Path) -> None:
    """Folders 0770, files 0640 under ``folder`` (the learner owns them all; links are left alone)."""
    for dirname, _subfolders, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirname) / name
            if not path.is_symlink():
                path.chmod(SUBMISSION_FILE_MODE)
        Path(dirname).chmod(SUBMISSION_FOLDER_MODE)
