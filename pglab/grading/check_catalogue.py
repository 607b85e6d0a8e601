"""Every check of the course as pytest collects it, without running one: points, descriptions, files.

Max points, zero outcomes and feedback need each challenge's checks before any runs. pytest
collects them in a child process (``python -m pglab.grading.check_catalogue FILE...``), so that a
check module's imports never land in the grader; the result is cached by the files' sizes and
modification times, and collected again when one changes.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from pglab.checks.layout import all_check_files
from pglab.checks.plugin import INFO, errors_in_report, library_arguments
from pglab.checks.results import CheckInfo
from pglab.errors import ChecksDoNotLoad, one_line
from pglab.grading.check_runner import PACKAGE_HOME, child_command, child_environment
from pglab.grading.timeouts import TIMEOUTS
from pglab.messages import Catalogue

_catalogue: dict[tuple, dict[str, list[CheckInfo]]] = {}
_catalogue_lock = threading.Lock()


def check_catalogue() -> dict[str, list[CheckInfo]]:
    """Every check module of the course, collected by pytest once (again when a file changes)."""
    files = all_check_files()
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    with _catalogue_lock:
        if key not in _catalogue:
            _catalogue.clear()
            _catalogue[key] = collect(files)
        return _catalogue[key]


def collect(files: list[Path]) -> dict[str, list[CheckInfo]]:
    """Every check in ``files`` without running one: {file: [CheckInfo, ...]} (pytest, in a child)."""
    existing = [str(f.resolve()) for f in files if f.is_file()]
    if not existing:
        return {}
    done = subprocess.run(child_command("pglab.grading.check_catalogue", *existing), capture_output=True, text=True,
                          timeout=TIMEOUTS.checks_start_s, env=child_environment(), cwd=PACKAGE_HOME)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    try:
        catalogue = Catalogue.read(last)
    except (ValueError, KeyError, TypeError):  # the child died before it could say: its stderr says why
        catalogue = Catalogue(error=(done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1])
    if catalogue.error or done.returncode != 0:
        raise ChecksDoNotLoad(f"the checks could not be collected ({one_line(catalogue.error)[:400]}): "
                              f"run `pytest --collect-only {' '.join(existing)}` to see why")
    found: dict[str, list[CheckInfo]] = {path: [] for path in existing}
    for info in catalogue.checks:
        found[info.file].append(info)
    return found


def _collect_main(files: list[str]) -> int:
    class Collected:
        def __init__(self) -> None:
            self.items: list[Any] = []

        def pytest_collection_finish(self, session: Any) -> None:
            self.items = list(session.items)

    collected = Collected()
    report = io.StringIO()
    with contextlib.redirect_stdout(report), contextlib.redirect_stderr(report):
        code = pytest.main(["--collect-only", *library_arguments(files)], plugins=[collected])
    if code != pytest.ExitCode.OK:
        print(Catalogue(error=errors_in_report(report.getvalue()) or f"pytest exit status {int(code)}").line())
        return 1
    print(Catalogue([item.stash[INFO] for item in collected.items if INFO in item.stash]).line())
    return 0


if __name__ == "__main__":
    sys.exit(_collect_main(sys.argv[1:]))
