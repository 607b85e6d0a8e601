"""The sandbox pool's accounting: as many sandboxes made as the run takes, and none awaited forever.

A run makes ahead only the sandboxes its notebooks will take; a notebook graded again after a grader
fault (a server restart cuts several at once) takes one more than expected. Two such retries at once
must each get one made: a taker left waiting for a sandbox nobody makes would hang the run until
the wait's bound ran out. Kernels and databases are replaced by tokens here; what a sandbox holds
is tested with real ones in tests/test_grading_sandbox.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pglab.errors import GraderFault
from pglab.grading import sandbox


class NoUser:
    name = ""

    def release(self) -> None:
        pass


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Sandboxes are tokens; from the third on, each is held back until a second one is asked for
    (or 3 s passed), so that two retries are waiting at the same time."""
    tokens: list[str] = []
    both_asked = threading.Barrier(2)

    def prepare(context: Any, user: str) -> str:
        tokens.append(f"sandbox-{len(tokens) + 1}")
        token = tokens[-1]
        if len(tokens) > 2:
            with contextlib.suppress(threading.BrokenBarrierError):  # the bug: no second one was asked for
                both_asked.wait(timeout=3)
        return token

    monkeypatch.setattr(sandbox, "prepare_sandbox", prepare)
    monkeypatch.setattr(sandbox, "UserLease", NoUser)
    monkeypatch.setattr(sandbox, "TIMEOUTS", dataclasses.replace(sandbox.TIMEOUTS, sandbox_wait_s=6.0))
    yield tokens


def test_only_the_expected_sandboxes_are_made_ahead(made: list[str]) -> None:
    pool = sandbox.SandboxPool(context=None, workers=2, expected=2)  # type: ignore[arg-type]
    try:
        assert {pool.take(), pool.take()} == {"sandbox-1", "sandbox-2"}
    finally:
        pool.preparer.shutdown(wait=True)
    assert made == ["sandbox-1", "sandbox-2"]


def test_two_retries_at_once_each_get_a_sandbox(made: list[str]) -> None:
    pool = sandbox.SandboxPool(context=None, workers=2, expected=2)  # type: ignore[arg-type]
    taken = [pool.take(), pool.take()]
    faults: list[GraderFault] = []

    def retry() -> None:
        try:
            taken.append(pool.take())
        except GraderFault as fault:
            faults.append(fault)

    retries = [threading.Thread(target=retry) for _ in range(2)]
    for thread in retries:
        thread.start()
    for thread in retries:
        thread.join(timeout=30)
    pool.preparer.shutdown(wait=True)
    assert not faults, faults
    assert sorted(taken) == ["sandbox-1", "sandbox-2", "sandbox-3", "sandbox-4"]
