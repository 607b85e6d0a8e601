"""A grading context is closed on a thread of its own while the outputs are written, and what its
closing raised is raised where the run waits for it, not lost with the thread."""

from __future__ import annotations

import contextlib
import threading

import pytest

from pglab.errors import FaultKind, GraderFault
from pglab.grading.batch import WindDown


def test_the_context_is_closed_on_another_thread_and_joined() -> None:
    released = threading.Event()
    closed_on: list[str] = []
    stack = contextlib.ExitStack()
    stack.callback(lambda: closed_on.append(threading.current_thread().name))
    stack.callback(released.wait, 30)  # closed last-in first: holds the closing until released
    wind_down = WindDown(stack)
    assert closed_on == []  # the caller goes on (writes the outputs) while it closes
    released.set()
    wind_down.join()
    assert closed_on == ["pglab-wind-down"]


def test_what_closing_raised_is_raised_at_the_join() -> None:
    stack = contextlib.ExitStack()

    def fail() -> None:
        raise GraderFault(FaultKind.DISK, "no space left to remove the workspace")

    stack.callback(fail)
    wind_down = WindDown(stack)
    with pytest.raises(GraderFault, match="no space left"):
        wind_down.join()
