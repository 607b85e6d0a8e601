"""Files written whole or not at all, so a run cut off at any moment never leaves half an output.

Its own module (standard library only) because a re-run with nothing new answers from a record
written this way before anything of the grader is imported (:mod:`pglab.grading.unchanged_run`).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from pglab.errors import FaultKind, GraderFault


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole; an OSError means the output folder cannot be written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        kind = FaultKind.DISK if err.errno in (errno.ENOSPC, errno.EDQUOT) else FaultKind.OUTPUT
        raise GraderFault(kind, f"{err.strerror or err}: {path}") from None


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` whole unless it already holds exactly that; True if written.

    A re-run that re-grades one learner rewrites the class-wide outputs, hundreds of per-notebook
    files among them, nearly all byte for byte the same: reading a file back is cheaper than
    rewriting it (a temporary file, a rename, a directory entry), and an unchanged page keeps its
    modification time, so whoever syncs OUT to learners copies only what changed.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:  # not there, or not readable: written (or its fault reported) below
        pass
    write_atomically(path, data)
    return True
