"""Which nbgrader course folder an instructor's command works in: where its gradebook is.

On one machine the course's own ``grader/`` is that folder. On a hub, pglab runs from the hub's copy of
the course (``/srv/pglab``) while each instructor releases, collects and sets due dates with nbgrader in
their own clone (``~/pglab/grader``): due dates and extensions must be read from, and written to, the
gradebook of the clone they work in, never the hub's shared copy. Standard library only: a re-run with
nothing new reads it before anything else of the grader is imported (:mod:`pglab.grading.unchanged_run`).
"""

from __future__ import annotations

from pathlib import Path

from pglab.settings import PROJECT_ROOT

NBGRADER_CONFIG = "nbgrader_config.py"


def nbgrader_course_folder(cwd: Path | None = None) -> Path:
    """``grader/`` of the current folder when it is a clone of the course (it has nbgrader's config there),
    else the installed course's ``grader/``."""
    here = (cwd or Path.cwd()) / "grader"
    return here.resolve() if (here / NBGRADER_CONFIG).is_file() else PROJECT_ROOT / "grader"


def course_gradebook(cwd: Path | None = None) -> Path:
    """nbgrader's gradebook of that course: due dates and extensions (its config's default ``db_url``)."""
    return nbgrader_course_folder(cwd) / "gradebook.db"
