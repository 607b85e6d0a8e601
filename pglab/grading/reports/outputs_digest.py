"""Whether the class-wide outputs in OUT are already what this run would write.

A re-run that grades nothing new (the usual case: one late learner was graded yesterday, the
instructor runs the command again) would otherwise redraw the report's plots and rewrite every
feedback page, the gradebook and the CSV files, byte for byte the same: most of such a run's time.
The digest covers everything those files are made from (each outcome as stored, the submissions'
timestamps, due dates, extensions and late penalties, the problems found, the course's notebooks)
and the code that makes them; the outputs
are rewritten when it differs or when any of the files is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import astuple
from pathlib import Path

from pglab.grading.outcome import NotebookOutcome
from pglab.grading.reports import feedback
from pglab.grading.reports.rows import SubmissionProblem
from pglab.grading.result_store import write_atomically

REPORTS = Path(__file__).resolve().parent
RECORD = Path(".pglab") / "outputs.digest"
CLASS_WIDE = ("grades.csv", "checks.csv", "report.html", "grades-wide.csv", "gradebook.db")


def outputs_digest(outcomes: Iterable[tuple[str, str]], problems: list[SubmissionProblem],
                   course: Iterable[str], grader_revision: str, similarity: Iterable[str] | None = None) -> str:
    """``outcomes``: each notebook in the outputs, in order: a digest of its outcome (of the stored
    record it is, :meth:`ResultStore.digest <pglab.grading.result_store.ResultStore.digest>`) with its
    submission's timestamp and deadline (due date, extension, penalty); ``similarity``: the
    fingerprints of the submitted files report.html's "Similar answers" section is made from, None
    when it has none (``--no-similarity``)."""
    digest = hashlib.sha256(grader_revision.encode())
    digest.update(json.dumps(None if similarity is None else list(similarity)).encode())
    for source in sorted(REPORTS.glob("*.py")):  # the code that writes the outputs
        digest.update(source.read_bytes())
    digest.update(json.dumps(sorted(course)).encode())
    for outcome, timestamp in outcomes:
        digest.update(json.dumps([outcome, timestamp]).encode())
    digest.update(json.dumps([astuple(p) for p in problems], default=str).encode())
    return digest.hexdigest()


def outputs_current(out: Path, digest: str, outcomes: Iterable[NotebookOutcome]) -> bool:
    """True when OUT holds the outputs ``digest`` stands for, every file of them still there."""
    try:
        if (out / RECORD).read_text(encoding="utf-8").strip() != digest:
            return False
    except OSError:
        return False
    if not all((out / name).is_file() for name in CLASS_WIDE):
        return False
    graded = [o for o in outcomes if o.is_grade]
    return (all(feedback.page_path(o, out / "feedback").is_file() for o in graded)
            and all((out / "autograded" / o.student / o.assignment / f"{o.notebook}.ipynb").is_file()
                    for o in graded if o.autograded))


def forget(out: Path) -> None:
    """Before the outputs are rewritten: a run cut off halfway must not leave a digest that vouches
    for them."""
    (out / RECORD).unlink(missing_ok=True)


def remember(out: Path, digest: str) -> None:
    write_atomically(out / RECORD, digest.encode())
