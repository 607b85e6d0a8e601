"""Exercises inside a lesson: run the learner's answer against the database and say what to fix.

Each exercise is a starter cell the learner fills and a check cell that calls a check function from
:mod:`pglab.learner.exercise_checks` (one module per part). Unlike
:class:`pglab.learner.lesson_checks.SelfCheck`, a check never raises: nothing later in a lesson depends
on an exercise, so an unanswered one says "not done yet" and "Run All" carries on. A starter leaves
``...`` where a value goes and ``raise NotImplementedError`` where code goes; either one means
"not done yet", anything else is checked.

A failed expectation says what was tried, what came back and what was expected (:class:`Wrong`),
and names the section of the notebook that teaches it, so the learner can go back and read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The words a check prints; the notebook tests look for them in each check cell's output.
PASSED = "passed"
NOT_DONE = "not done yet"
TO_FIX = "to fix"
MAX_SHOWN = 160  # characters of a value shown in a message: enough to recognise it, not a screenful


class NotAnswered(Exception):
    """Raised inside a check when the learner's answer is still the starter's placeholder."""


class Wrong(Exception):
    """Raised inside an expectation to say what came back instead of what was expected."""


def answer(value: Any) -> Any:
    """``value`` itself, or :class:`NotAnswered` if it is still the starter's ``...``."""
    if value is Ellipsis:
        raise NotAnswered
    return value


def shown(value: object) -> str:
    """A short ``repr`` of a value the learner's code returned; never raises."""
    try:
        text = repr(value)
    except Exception as err:  # a learner's object with a broken __repr__ is still reported
        text = f"<{type(value).__name__} whose repr() raised {type(err).__name__}>"
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


def same(got: object, wanted: object, what: str = "") -> bool:
    """True if ``got == wanted``, else :class:`Wrong` saying both (``what`` names the value)."""
    try:
        equal = bool(got == wanted)
    except Exception:  # a learner's object whose __eq__ raises is simply not equal
        equal = False
    if not equal:
        raise Wrong(f"{what + ': ' if what else ''}got {shown(got)}, expected {shown(wanted)}")
    return True


def heading_anchor(heading: str) -> str:
    """The id JupyterLab gives a markdown heading: its text, code marks dropped, spaces as dashes."""
    return "#" + re.sub(r"\s+", "-", heading.replace("`", "").strip())


@dataclass
class Exercise:
    """The check of one exercise: a list of expectations, each with a hint on what to fix."""

    number: str
    title: str
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    not_done: bool = False

    def expect(self, what: str, condition: bool | Callable[[], Any], hint: str = "", see: str = "") -> bool:
        """Record one expectation; ``condition`` is usually a callable that runs the learner's code.

        ``see`` is the heading (without ``#``) of the section that teaches what this expectation
        checks: a failed expectation points there.
        """
        if self.not_done:
            return False
        try:
            ok = bool(condition() if callable(condition) else condition)
            detail = hint
        except (NotAnswered, NotImplementedError):
            self.not_done = True
            return False
        except Wrong as err:
            ok = False
            detail = f"{hint} ({err})".strip() if hint else str(err)
        except Exception as err:  # the learner's code raised: say what, and what to look at
            ok = False
            detail = f"{hint} (your code raised {type(err).__name__}: {_first_line(err)})".strip()
        if not ok and see:
            detail = f"{detail} → see “{see}”".strip()
            if see not in self.sections:
                self.sections.append(see)
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
        if status == TO_FIX and self.sections:
            _show_links(self.sections)
        return status


def _show_links(sections: list[str]) -> None:
    """In a notebook, links to the sections to read again (plain text elsewhere says the same)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    links = " · ".join(f"[{s.replace('`', '')}]({heading_anchor(s)})" for s in sections)
    display(Markdown(f"Read again: {links}"))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else ""
