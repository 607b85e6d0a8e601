"""A child process's environment as a test starts it: no database settings of the suite's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pglab.settings import LIBPQ_SERVER_VARIABLES


def clean_environ(**overrides: str) -> dict[str, str]:
    """The process environment without any database settings, plus ``overrides``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PGLAB_HOME", "PGLAB_PORT", *LIBPQ_SERVER_VARIABLES)
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env
