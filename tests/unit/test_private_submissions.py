"""A submission's folders are closed to everyone but its learner and the instructors' group (0770)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pglab.classroom.private_submissions import close_submission


def _submission(inbound: Path) -> Path:
    submission = inbound / "alice+core+2026-12-04 10:00:00.000000 UTC+abc"
    (submission / "data").mkdir(parents=True)
    for path in (submission / "beginner.ipynb", submission / "timestamp.txt", submission / "data" / "x.csv"):
        path.write_text("{}")
        path.chmod(0o644)
    submission.chmod(0o777)
    return submission


def test_folders_lose_every_access_of_others(tmp_path: Path) -> None:
    submission = _submission(tmp_path)
    assert close_submission(submission, tmp_path)
    modes = {str(p.relative_to(submission)): stat.S_IMODE(p.stat().st_mode) for p in submission.rglob("*")}
    assert modes == {"beginner.ipynb": 0o644, "timestamp.txt": 0o644, "data": 0o770, "data/x.csv": 0o644}
    assert stat.S_IMODE(submission.stat().st_mode) == 0o770


def test_a_submission_outside_the_instructors_group_is_left_for_them_to_collect(tmp_path: Path) -> None:
    submission = _submission(tmp_path)
    other_group = next(gid for gid in range(1, 65534) if gid != tmp_path.stat().st_gid)
    if os.geteuid() != 0:
        pytest.skip("only root can give the folder another group")
    os.chown(submission, -1, other_group)
    assert not close_submission(submission, tmp_path)
    assert stat.S_IMODE(submission.stat().st_mode) == 0o777
