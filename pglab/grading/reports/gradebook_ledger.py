"""What ``pglab grade`` last left in OUT's gradebook, so a re-run touches only what changed.

A re-run after one learner handed in again opened the gradebook (nbgrader's schema set-up), read
every submission back to compare, and had nbgrader export all of it again: 0.5 s of a class of 300,
for one row. The ledger keeps, next to the gradebook, what each submission was recorded from (a
digest), the course as registered, nbgrader's export as it was then, and the identity of the
gradebook file when pglab closed it. While the file is that same file, untouched (no formgrader
session, no ``nbgrader`` command, no copy over it), the ledger says what it holds: a submission
whose digest is unchanged needs no write, and the export needs only the changed learners' rows.
Any other state of the file (changed, replaced, missing), or an unreadable ledger, and the run takes
the full path: it reads the gradebook back and exports it whole, as without a ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pglab.errors import FaultKind, GraderFault
from pglab.grading.atomic_files import write_atomically

LEDGER = Path(".pglab") / "gradebook-ledger.json"  # in OUT, beside gradebook.db


def file_identity(path: Path) -> list[int] | None:
    """What changes whenever anything writes to or replaces the file (None: there is none)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def as_stored(timestamp: datetime | None) -> datetime | None:
    """A timestamp as nbgrader keeps it: naive UTC."""
    if timestamp is None or timestamp.tzinfo is None:
        return timestamp
    return timestamp.astimezone(timezone.utc).replace(tzinfo=None)


def entry_key(student: str, assignment: str) -> str:
    return json.dumps([student, assignment])


@dataclass(frozen=True)
class GradebookLedger:
    gradebook: list[int]  # file_identity of gradebook.db when pglab last closed it
    course: str  # digest of the course as registered (assignments, due dates, cells, writing code)
    entries: dict[str, str]  # entry_key -> digest of what the submission was recorded from
    export: str  # nbgrader's CSV export of the gradebook as pglab left it (every row)

    @staticmethod
    def path(gradebook: Path) -> Path:
        return gradebook.parent / LEDGER

    @classmethod
    def current(cls, gradebook: Path, course: str) -> GradebookLedger | None:
        """The ledger, if the gradebook is still what it describes for this ``course``."""
        try:
            data = json.loads(cls.path(gradebook).read_text(encoding="utf-8"))
            ledger = cls([int(n) for n in data["gradebook"]], str(data["course"]),
                         {str(k): str(v) for k, v in data["entries"].items()}, str(data["export"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if ledger.course != course or ledger.gradebook != file_identity(gradebook):
            return None
        return ledger

    @classmethod
    def forget(cls, gradebook: Path) -> None:
        """Before the gradebook is written: a run cut off halfway must not leave a ledger that
        vouches for it (its file identity would no longer match anyway; this also covers a write
        within the file system's timestamp granularity)."""
        try:
            cls.path(gradebook).unlink(missing_ok=True)
        except OSError as err:
            raise GraderFault(FaultKind.OUTPUT, f"{err.strerror or err}: {cls.path(gradebook)}") from None

    def save(self, gradebook: Path) -> None:
        record = {"gradebook": self.gradebook, "course": self.course, "entries": self.entries,
                  "export": self.export}
        write_atomically(self.path(gradebook), json.dumps(record).encode("utf-8"))


def splice_export(whole: str, part: str) -> str | None:
    """``whole`` (nbgrader's export) with each row of ``part`` (its export of some learners) in place
    of the row for the same assignment and learner; None when the two do not line up (a learner or
    an assignment new to the gradebook), and the whole export must be made again."""
    lines = whole.splitlines(keepends=True)
    new = part.splitlines(keepends=True)
    if not lines or not new or lines[0] != new[0]:
        return None
    header = lines[0].rstrip("\n").split(",")
    try:
        assignment, student = header.index("assignment"), header.index("student_id")
    except ValueError:
        return None

    def key(line: str) -> tuple[str, str] | None:
        fields = line.rstrip("\n").split(",")  # nbgrader writes its fields unquoted, one row a line
        return (fields[assignment], fields[student]) if len(fields) == len(header) else None

    where: dict[tuple[str, str], int] = {}
    for number, line in enumerate(lines[1:], start=1):
        found = key(line)
        if found is None or found in where:
            return None
        where[found] = number
    students = set()
    for line in new[1:]:
        found = key(line)
        if found is None or found not in where:
            return None
        lines[where[found]] = line
        students.add(found[1])
    if sum(1 for found in where if found[1] in students) != len(new) - 1:
        return None  # the learners had rows the part lacks: not the same gradebook shape
    return "".join(lines)
