"""Every check of the course as pytest collects it, without running one: points, descriptions, files.

Max points, zero outcomes and feedback need each challenge's checks before any runs. pytest
collects them in a child process (``python -m pglab.grading.check_catalogue FILE...``), so that a
check module's imports never land in the grader; the result is cached by the files' sizes and
modification times, and collected again when one changes. It is also stored in pglab's state
folder (``check-catalogues/``) under a digest of the contents of the check folders and of the
package's checks contract, so that the next ``pglab grade`` does not pay a pytest start-up and a
collection (0.6 s) for checks that did not change.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import pglab.checks as checks_contract
from pglab.checks.layout import all_check_files, check_roots
from pglab.checks.plugin import INFO, errors_in_report, library_arguments
from pglab.checks.results import CheckInfo
from pglab.errors import ChecksDoNotLoad, GraderFault, one_line
from pglab.grading.atomic_files import write_atomically
from pglab.grading.child_processes import PACKAGE_HOME, child_command, child_environment
from pglab.grading.timeouts import TIMEOUTS
from pglab.messages import Catalogue
from pglab.settings import load_settings

_catalogue: dict[tuple, dict[str, list[CheckInfo]]] = {}
_catalogue_lock = threading.Lock()


def check_catalogue() -> dict[str, list[CheckInfo]]:
    """Every check module of the course, collected by pytest once (again when a file changes)."""
    files = all_check_files()
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    with _catalogue_lock:
        if key not in _catalogue:
            _catalogue.clear()
            _catalogue[key] = _stored_or_collected(files)
        return _catalogue[key]


def _contents_digest() -> str:
    """What a collection depends on: every file in the check folders (modules, conftest, data they
    may read), where they are, and pglab's checks contract (which decides what a check's info is)."""
    digest = hashlib.sha256()
    for root in (*check_roots(), Path(checks_contract.__file__).resolve().parent):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"\0{path}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def _stored_or_collected(files: list[Path]) -> dict[str, list[CheckInfo]]:
    try:
        record = load_settings().home / "check-catalogues" / f"{_contents_digest()}.json"
    except OSError:
        return collect(files)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return _by_file(files, Catalogue.read(record.read_text(encoding="utf-8")))
    found = collect(files)
    with contextlib.suppress(GraderFault):  # a state folder this user may not write: collected again next time
        write_atomically(record, Catalogue([info for infos in found.values() for info in infos]).line().encode())
    return found


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
    return _by_file(files, catalogue)


def _by_file(files: list[Path], catalogue: Catalogue) -> dict[str, list[CheckInfo]]:
    found: dict[str, list[CheckInfo]] = {str(f.resolve()): [] for f in files if f.is_file()}
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
