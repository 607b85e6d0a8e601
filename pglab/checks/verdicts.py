"""Why a check failed on a learner's work, in words the learner can act on, and whose doing it was.

pytest's report of a failed check is turned into one message: the assertion's own message (or
pytest's short explanation of a bare ``assert``), what the learner's code raised, why their kernel
could not answer, or which function returned what when the check's own code could not use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg2
import pytest

from pglab.checks.submission import LearnerCodeError, Returned
from pglab.errors import one_line
from pglab.messages import Blame, failure_of

MESSAGE_CHARS = 600


@dataclass(frozen=True)
class Explanation:
    """Why a check failed: the message the learner reads, and whose doing it was.

    Never the check's own doing on a learner's work: the grader runs every check on the course's
    reference solution before it grades anyone (``pglab grade`` stops if one fails there), so a
    check that fails on a learner's work but passes on the reference fails because of that work —
    even when the exception came from the check's code (it iterated over the ``None`` a function
    without ``return`` gave back: ``in_check_code``, whose traceback an instructor may want).
    """

    message: str
    blame: Blame
    in_check_code: bool = False


def explain(excinfo: pytest.ExceptionInfo[BaseException] | None, returned: Returned | None = None) -> Explanation:
    """Why a check failed.

    ``returned``: the last value the learner's code gave this check. When it is not what the
    function's signature promises (``None`` for a list: a forgotten ``return``), the message says so,
    whatever the check's own words were.
    """
    found = _explain(excinfo, returned)
    message = found.message
    if found.blame.is_a_grade and not found.in_check_code and returned is not None and returned.unexpected:
        message = f"{message} ({returned.note()})"
    return Explanation(message[:MESSAGE_CHARS], found.blame, found.in_check_code)


def _explain(excinfo: pytest.ExceptionInfo[BaseException] | None, returned: Returned | None) -> Explanation:
    if excinfo is None:
        return Explanation("the check did not run", Blame.LEARNER)
    err = excinfo.value
    if isinstance(err, AssertionError):
        return Explanation(assertion_message(str(err)), Blame.LEARNER)
    if isinstance(err, pytest.fail.Exception):
        return Explanation(str(err.msg), Blame.LEARNER)
    if isinstance(err, pytest.skip.Exception):
        return Explanation(f"skipped: {err.msg}", Blame.LEARNER)
    if isinstance(err, LearnerCodeError):
        detail = one_line(err.message)
        return Explanation(f"your code raised {err.type_name}" + (f": {detail}" if detail else ""), Blame.LEARNER)
    failure = failure_of(err)
    if failure is not None:  # the learner's kernel did not answer, or the grader failed under the check
        return Explanation(str(err), failure.blame)
    if isinstance(err, psycopg2.Error):  # the check's own query, on the submission's database
        reason = one_line(err) or type(err).__name__
        return Explanation(f"the check's own query failed on your database ({type(err).__name__}: {reason}): "
                           "did your code drop, change or lock a table?", Blame.LEARNER)
    return Explanation(unusable_answer(err, returned), Blame.LEARNER, in_check_code=True)


def unusable_answer(err: BaseException, returned: Returned | None) -> str:
    """What to fix when the check's code could not use the learner's answer: which function returned
    what, and what its signature promised."""
    reason = f"{type(err).__name__}: {one_line(err)}" if one_line(err) else type(err).__name__
    if returned is None:
        return f"the check could not use what your code left behind ({reason})"
    if returned.promised:
        return f"{returned.note()} ({reason})"
    return f"{returned.note()}, which the check could not use ({reason})"


def assertion_message(text: str) -> str:
    """The assertion's own message; for a bare ``assert``, pytest's short explanation.

    pytest's rewritten asserts raise ``"<message>\\nassert <explanation>"``: the message's own extra
    lines are indented, so the explanation starts at the first unindented ``assert`` line after it.
    """
    lines = text.splitlines() or [""]
    start = next((i for i in range(1, len(lines)) if lines[i].startswith("assert ")), None)
    if start is not None:
        message = "\n".join([lines[0], *(line.removeprefix("  ") for line in lines[1:start])])
        return message.strip()[:MESSAGE_CHARS]
    if not lines[0].startswith("assert"):
        return text.strip()[:MESSAGE_CHARS]  # AssertionError raised by hand, or an assert pytest did not rewrite
    shown = []
    for line in lines:
        line = line.strip().removeprefix("+").strip()
        if not line:
            continue
        if line.startswith(("Use -v", "Full diff", "Omitting")):
            break
        shown.append(line)
    return "; ".join(shown)[:MESSAGE_CHARS]
