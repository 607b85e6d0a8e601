"""Self-checks at the end of a lesson: a named list of expectations, each with a hint.

Unlike a bare ``assert``, a failed check says what to look at and the remaining checks still run;
``report()`` raises at the end if anything failed, so "Run All" stops there and shows the summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


class SelfCheckFailed(AssertionError):
    """Raised by :meth:`SelfCheck.report` when at least one expectation failed."""


@dataclass
class SelfCheck:
    title: str
    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def expect(self, what: str, condition: bool | Callable[[], bool], hint: str = "") -> bool:
        """Record one expectation; ``condition`` may be a callable that raises instead of failing."""
        try:
            ok = bool(condition() if callable(condition) else condition)
            detail = hint
        except Exception as err:  # the learner's code raised: that is a failed check, with its reason
            ok = False
            detail = f"{hint} (raised {type(err).__name__}: {err})".strip()
        self.results.append((what, ok, detail))
        return ok

    def report(self) -> None:
        passed = sum(ok for _, ok, _ in self.results)
        print(f"{self.title}: {passed}/{len(self.results)} checks passed")
        for what, ok, detail in self.results:
            mark = "✔" if ok else "✘"
            print(f"  {mark} {what}" + ("" if ok or not detail else f" — {detail}"))
        if passed != len(self.results):
            raise SelfCheckFailed(f"{len(self.results) - passed} self-check(s) failed: see the list above")
