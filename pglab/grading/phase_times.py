"""Where a grading run's time goes: each notebook's phases, and the run's own fixed cost.

Measured always (a clock read per phase costs nothing next to a kernel), never stored with a
result and never part of a grade: ``benchmarks/grading.py`` prints the medians, so a change to the
grader is judged by where the time went rather than by a total alone.
"""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


class NotebookPhase(enum.Enum):
    """One notebook's way through the pipeline (the first two happen ahead, while another notebook runs)."""

    DATABASE_COPY = "database copy"
    KERNEL_START = "kernel start"
    WAIT_FOR_SANDBOX = "waiting for a ready sandbox"
    LEARNER_CELLS = "learner cells"
    LEARNER_CELLS_CPU = "of which the kernel computing"
    CHECKS = "checks"
    CHECKS_KERNEL_CPU = "of which the kernel computing"
    CLEAN_UP = "kernel stop and database drop"


class RunPhase(enum.Enum):
    """A run's fixed cost, paid whatever the number of notebooks."""

    READ_SUBMISSIONS = "reading submissions and stored results"
    START_SANDBOX = "sandbox, template and check collection"
    REFERENCES = "checking the checks on the references"
    GRADING = "grading"
    WRITE_OUTPUTS = "writing the class-wide outputs"


@dataclass
class PhaseTimes:
    """Seconds spent per phase, added to from any thread."""

    seconds: dict[enum.Enum, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, phase: enum.Enum, seconds: float) -> None:
        with self._lock:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextlib.contextmanager
    def timed(self, phase: enum.Enum) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - started)
