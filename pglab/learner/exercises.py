"""Exercises inside a lesson: run the learner's answer against the database and say what to fix.

Each exercise is a starter cell the learner fills and a check cell built from an :class:`Exercise`.
Unlike :class:`pglab.learner.lesson_checks.SelfCheck`, a check never raises: nothing later in a lesson depends
on an exercise, so an unanswered one says "not done yet" and "Run All" carries on. A starter leaves
``...`` where a value goes and ``raise NotImplementedError`` where code goes; either one means
"not done yet", anything else is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The words a check prints; the notebook tests look for them in each check cell's output.
PASSED = "passed"
NOT_DONE = "not done yet"
TO_FIX = "to fix"


class NotAnswered(Exception):
    """Raised inside a check when the learner's answer is still the starter's placeholder."""


def answer(value: Any) -> Any:
    """``value`` itself, or :class:`NotAnswered` if it is still the starter's ``...``."""
    if value is Ellipsis:
        raise NotAnswered
    return value


@dataclass
class Exercise:
    """The check of one exercise: a list of expectations, each with a hint on what to fix."""

    number: str
    title: str
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    not_done: bool = False

    def expect(self, what: str, condition: bool | Callable[[], Any], hint: str = "") -> bool:
        """Record one expectation; ``condition`` is usually a callable that runs the learner's code."""
        if self.not_done:
            return False
        try:
            ok = bool(condition() if callable(condition) else condition)
            detail = hint
        except (NotAnswered, NotImplementedError):
            self.not_done = True
            return False
        except Exception as err:  # the learner's code raised: say what, and what to look at
            ok = False
            detail = f"{hint} (your code raised {type(err).__name__}: {_first_line(err)})".strip()
        self.results.append((what, ok, detail))
        return ok

    def status(self) -> str:
        if self.not_done or not self.results:
            return NOT_DONE
        return PASSED if all(ok for _, ok, _ in self.results) else TO_FIX

    def report(self) -> str:
        """Print the verdict and one line per expectation; return the verdict (never raises)."""
        status = self.status()
        heading = f"Exercise {self.number} · {self.title}"
        if status == NOT_DONE:
            print(f"{heading}: {NOT_DONE} — replace the starter's `...` / `raise NotImplementedError` "
                  "in the cell above with your answer, run it, then run this cell again.")
            return status
        failed = sum(not ok for _, ok, _ in self.results)
        summary = PASSED if status == PASSED else f"{failed} of {len(self.results)} {TO_FIX}"
        print(f"{heading}: {summary}")
        for what, ok, detail in self.results:
            mark = "✔" if ok else "✘"
            print(f"  {mark} {what}" + ("" if ok or not detail else f" — {detail}"))
        return status


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""
