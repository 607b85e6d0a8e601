"""How the grader starts its own helper processes (check runners, the check catalogue, the gradebook writer).

The children run from the folder this very pglab was imported from: ``python -m`` puts the working
directory first on sys.path, and an instructor grading in another clone of the course must not get
that clone's pglab (and its check folders) in the child.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_HOME = Path(__file__).resolve().parents[2]


def child_command(module: str, *args: str) -> list[str]:
    """``module`` run as a child process (with ``cwd=PACKAGE_HOME``, ``env=child_environment()``)."""
    return [sys.executable, "-m", module, *args]


def child_environment() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
