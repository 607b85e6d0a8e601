"""When a submission was due and how late it came, in nbgrader's terms.

A submission's time is its ``timestamp.txt`` (what nbgrader's exchange writes on submit), read as
nbgrader reads it (``nbgrader.utils.parse_utc``: naive UTC); an empty or absent file means no
time, so never late. An assignment's due date is nbgrader's ``Assignment.duedate`` (from the
course's gradebook, or ``--due``), a learner's extension nbgrader's
``SubmittedAssignment.extension``; seconds late are nbgrader's ``total_seconds_late``: the
timestamp minus due date plus extension, never below 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import dateutil.parser
import dateutil.tz

from pglab.errors import PglabError, one_line

TIMESTAMP_FILE = "timestamp.txt"


def parse_utc(text: str) -> datetime:
    """nbgrader's ``parse_utc`` rule: ``DATE TIME ZONE`` (a zone name or a numeric offset), else
    anything dateutil reads; an aware time becomes naive UTC. Its own code, not an import of it:
    importing nbgrader costs a run 0.6 s (see :mod:`pglab.grading.cell_metadata`); held to
    nbgrader's by ``tests/unit/test_deadlines.py``."""
    parts = text.split(" ")
    if len(parts) == 3:
        zone: int | dateutil.tz.tzfile | None
        try:
            zone = int(parts[2])
        except ValueError:
            zone = dateutil.tz.gettz(parts[2])
        when = dateutil.parser.parse(" ".join([*parts[:2], "TZ"]), tzinfos={"TZ": zone})
    else:
        when = dateutil.parser.parse(text)
    offset = when.utcoffset()
    if when.tzinfo is not None and offset is not None:
        when = (when - offset).replace(tzinfo=None)
    return when


def read_timestamp(folder: Path) -> datetime | None:
    """A submission's ``timestamp.txt`` as nbgrader reads it (naive UTC); None without one."""
    stamp = folder / TIMESTAMP_FILE
    if not stamp.is_file():
        return None
    text = stamp.read_text(encoding="utf-8", errors="replace").strip()
    if not text:  # nbgrader warns and treats it as no timestamp
        return None
    try:
        return parse_utc(text)
    except (ValueError, OverflowError):
        raise PglabError(f"{stamp} is not a timestamp ({one_line(text)[:60]!r}): nbgrader writes e.g. "
                         "'2026-12-10 23:59:00.000000 UTC'; fix or delete the file and run the same command again"
                         ) from None


def parse_due(values: Iterable[str], known: Iterable[str]) -> dict[str, datetime]:
    """``--due ASSIGNMENT=WHEN`` (repeatable) as naive UTC due dates, as nbgrader stores them."""
    names = sorted(known)
    dues: dict[str, datetime] = {}
    for value in values:
        assignment, equals, when = value.partition("=")
        assignment, when = assignment.strip(), when.strip()
        if not equals or not assignment or not when:
            raise PglabError(f"--due {value!r} is not ASSIGNMENT=WHEN: give e.g. --due core=2026-12-10T23:59:00+00:00")
        if assignment not in names:
            raise PglabError(f"--due {value!r}: there is no assignment '{assignment}' in this course "
                             f"(known: {', '.join(names) or 'none'})")
        try:
            dues[assignment] = parse_utc(when)
        except (ValueError, OverflowError):
            raise PglabError(f"--due {value!r}: '{when}' is not a date and time: give e.g. "
                             f"--due {assignment}=2026-12-10T23:59:00+00:00") from None
    return dues


def parse_extension_hours(text: str) -> float:
    """``pglab extend``'s HOURS: a number of hours, 0 taking an extension back."""
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= 24 * 366:
        raise PglabError(f"HOURS {text!r} is not a number of hours: give e.g. 48 for two days "
                         "(0 takes the extension back)")
    return hours


@dataclass(frozen=True)
class Lateness:
    """One submission's deadline and how late it came (nbgrader's SubmittedAssignment, in short)."""

    student: str
    assignment: str
    timestamp: datetime | None
    duedate: datetime | None  # the assignment's, without the extension
    extension: timedelta | None

    @property
    def due_for_learner(self) -> datetime | None:
        """nbgrader's ``SubmittedAssignment.duedate``: the due date plus the extension."""
        if self.duedate is None:
            return None
        return self.duedate + self.extension if self.extension is not None else self.duedate

    @property
    def seconds_late(self) -> float:
        """nbgrader's ``total_seconds_late``."""
        due = self.due_for_learner
        if self.timestamp is None or due is None:
            return 0.0
        return max(0.0, (self.timestamp - due).total_seconds())


@dataclass(frozen=True)
class Deadlines:
    """The due dates and extensions a run applies: the course gradebook's, ``--due`` over them."""

    duedates: Mapping[str, datetime]  # assignment -> due date (naive UTC)
    extensions: Mapping[tuple[str, str], timedelta]  # (student, assignment) -> extension

    def lateness(self, student: str, assignment: str, timestamp: datetime | None) -> Lateness:
        return Lateness(student, assignment, timestamp, self.duedates.get(assignment),
                        self.extensions.get((student, assignment)))


NO_DEADLINES = Deadlines({}, {})


def late_by(seconds: float) -> str:
    """Seconds late as a person says it: ``2 h 5 min``, ``3 d 1 h``, ``40 s``."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes and not days else "", f"{secs} s" if secs and not (days or hours) else ""]
    return " ".join(p for p in parts if p) or f"{seconds:.1f} s"
