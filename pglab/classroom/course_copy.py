"""Put the course's lesson notebooks into a learner's home, never over a file that is already there.

Run as the learner (``python -m pglab.classroom.course_copy HOME``): the one-machine hub's spawn hook
starts it under the learner's own uid, and a Kubernetes user pod runs it in its ``postStart``
lifecycle hook, so the copy can write nothing the learner could not write themselves (a symlink
planted in the home cannot redirect a privileged write). A notebook the learner has changed is
kept as it is; one they deleted comes back fresh at their next start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pglab.settings import PROJECT_ROOT

LESSONS = PROJECT_ROOT / "notebooks"
COURSE_FOLDER = "course"  # inside the learner's home: ~/course/01_psycopg2_vs_psycopg3.ipynb, ...


def copy_lessons(home: Path, source: Path = LESSONS) -> list[Path]:
    """Copy every lesson missing from ``home/course``; return the files written (existing ones are kept)."""
    target = home / COURSE_FOLDER
    target.mkdir(mode=0o755, exist_ok=True)
    written = []
    for lesson in sorted(source.glob("*.ipynb")):
        destination = target / lesson.name
        try:
            # O_EXCL: an existing file (or a symlink, even a dangling one) is never opened, let alone truncated.
            fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(lesson.read_bytes())
        written.append(destination)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    home = Path(args[0] if args else os.path.expanduser("~"))
    written = copy_lessons(home)
    print(f"pglab: {len(written)} lesson notebook(s) copied into {home / COURSE_FOLDER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
