"""``pglab lab``: JupyterLab on ``notebooks/`` with the course database in every kernel's env."""

from __future__ import annotations

import os
import subprocess
import sys

from pglab.db.provision import ensure_course_database
from pglab.settings import PROJECT_ROOT, mask_password


def run_lab(no_browser: bool = False, port: int | None = None, extra: list[str] | None = None) -> int:
    course = ensure_course_database()
    env = dict(os.environ, DATABASE_URL=course.url)
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={PROJECT_ROOT / 'notebooks'}"]
    if no_browser:
        command.append("--no-browser")
    if port is not None:
        command.append(f"--port={port}")
    if os.geteuid() == 0:
        command.append("--allow-root")
    command.extend(arg for arg in (extra or []) if arg != "--")
    print(f"course database: {mask_password(course.url)}", flush=True)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 0
