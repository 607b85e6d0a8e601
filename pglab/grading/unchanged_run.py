"""A re-run with nothing new answers at once, before any of the grader is imported.

Instructors run ``pglab grade`` again and again on a finished class (after one regrade request,
to check, out of habit). Such a run used to pay the grader's whole fixed cost — nbgrader's import
(it loads its Jupyter server extensions), reading every stored result, hashing every notebook — to
conclude that nothing changed. This module decides that from the files alone: a digest of the
contents of everything a run reads (the submissions, the course's sources, checks, data and
gradebook, pglab's own code, the options and the database settings) is stored in ``OUT`` after
a run that graded everything; the next run with the same digest, and with ``OUT`` exactly as that
run left it, prints the same summary and stops. Anything else — one byte changed in a submission,
a due date, a flag, an output deleted or edited — takes the full path, which re-grades only what
changed.

Standard library only, so that answering costs milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pglab
from pglab.grading.atomic_files import write_atomically
from pglab.grading.course_root import course_gradebook
from pglab.settings import PROJECT_ROOT, Settings

RECORD = Path(".pglab") / "unchanged-run.json"
NOT_OUTPUTS = (RECORD, Path(".pglab") / "lock")  # in OUT, but not written by grading
COURSE_INPUTS = ("solutions", "notebooks/challenges", "data", "grader/checks", "grader/nbgrader_config.py",
                 "grader/gradebook.db")  # and the gradebook of the clone an instructor works in (course_root)
SKIPPED_FOLDERS = frozenset({"__pycache__", ".ipynb_checkpoints"})  # in inputs: not read by a run
IGNORED_OPTIONS = {"quiet"}  # how the run talks, not what it writes (and the handler, a function)


@dataclass(frozen=True)
class Summary:
    """What the run that graded everything printed about the class, to print it again."""

    students: int
    notebooks: int
    problems_line: str
    files: str


def _files(root: Path, skipped: frozenset[str] = SKIPPED_FOLDERS) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in skipped)
        for name in sorted(names):
            yield Path(folder) / name


def inputs_digest(submitted: Path, options: Mapping[str, object], settings: Settings,
                  extra_inputs: Iterable[Path] = ()) -> str:
    """The contents of everything a ``pglab grade`` run reads, with its options and database settings.

    ``extra_inputs``: a ``--source`` folder, its course's config and gradebook, a ``--config`` file.
    """
    digest = hashlib.sha256()
    chosen = {k: str(v) for k, v in sorted(options.items()) if k not in IGNORED_OPTIONS and not callable(v)}
    digest.update(json.dumps(chosen).encode())
    digest.update(json.dumps([settings.database_url, settings.admin_url, str(settings.home),
                              settings.preferred_port, list(settings.libpq_variables)]).encode())
    roots = [submitted, Path(pglab.__file__).resolve().parent,
             *(PROJECT_ROOT / name for name in COURSE_INPUTS), course_gradebook(), *extra_inputs]
    for root in roots:
        digest.update(f"\0root {root}\0".encode())
        for path in _files(root):
            try:
                data = path.read_bytes()
            except OSError:
                data = b"\0unreadable"
            digest.update(f"\0{path.relative_to(root) if path != root else ''}\0".encode())
            digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _outputs_state(out: Path) -> str:
    """Every file in OUT (stored results included) with its size and modification time: outputs
    untouched since they were written."""
    skipped = {out / name for name in NOT_OUTPUTS}
    state = hashlib.sha256()
    for path in _files(out, frozenset()):
        if path in skipped or path.name.endswith(".tmp"):
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        state.update(f"{path.relative_to(out)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return state.hexdigest()


def unchanged_summary(out: Path, inputs: str) -> Summary | None:
    """The earlier run's summary when its inputs were ``inputs`` and OUT is as it left it, else None."""
    try:
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
        if record["inputs"] != inputs or record["outputs"] != _outputs_state(out):
            return None
        return Summary(**record["summary"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(out: Path) -> None:
    """Before a run writes anything: a run cut off halfway must not leave a record vouching for OUT."""
    (out / RECORD).unlink(missing_ok=True)


def remember(out: Path, inputs: str, summary: Summary) -> None:
    """After a run that graded every notebook and wrote every output (exit status 0)."""
    record = {"inputs": inputs, "outputs": _outputs_state(out), "summary": asdict(summary)}
    write_atomically(out / RECORD, json.dumps(record).encode())
