"""Why a check failed on a learner's work, in words the learner can act on, and whose doing it was.

pytest's report of a failed check is turned into one message: the assertion's own message (or
pytest's short explanation of a bare ``assert``), what the learner's code raised, why their kernel
could not answer, or which function returned what when the check's own code could not use it.
"""

from __future__ import annotations

import enum

import psycopg2
import pytest

from pglab.checks.submission import LearnerCodeError, Returned, SandboxError
from pglab.errors import one_line

MESSAGE_CHARS = 600


class Verdict(enum.Enum):
    """Whose doing a check's failure is, on a learner's work.

    Never the check's own: the grader runs every check on the course's reference solution before it
    grades anyone (``pglab grade`` checks the checks first), so a check that fails on a learner's work but
    passes on the reference fails because of that work — even when the exception came from the
    check's code (it iterated over the ``None`` a function without ``return`` gave back).
    """

    LEARNER = "the learner's work does not do what the check expects"
    UNUSABLE_ANSWER = "the check's code could not use what the learner's work gave back"
    SKIPPED = "the check skipped itself"


def explain(excinfo: pytest.ExceptionInfo[BaseException] | None,
            returned: Returned | None = None) -> tuple[str, Verdict]:
    """The message a learner reads, and whose doing the failure is.

    ``returned``: the last value the learner's code gave this check. When it is not what the
    function's signature promises (``None`` for a list: a forgotten ``return``), the message says so,
    whatever the check's own words were.
    """
    message, verdict = _explain(excinfo, returned)
    if verdict is Verdict.LEARNER and returned is not None and returned.unexpected:
        message = f"{message} ({returned.note()})"
    return message[:MESSAGE_CHARS], verdict


def _explain(excinfo: pytest.ExceptionInfo[BaseException] | None,
             returned: Returned | None) -> tuple[str, Verdict]:
    if excinfo is None:
        return "the check did not run", Verdict.SKIPPED
    err = excinfo.value
    if isinstance(err, AssertionError):
        return assertion_message(str(err)), Verdict.LEARNER
    if isinstance(err, pytest.fail.Exception):
        return str(err.msg)[:MESSAGE_CHARS], Verdict.LEARNER
    if isinstance(err, pytest.skip.Exception):
        return f"skipped: {err.msg}"[:MESSAGE_CHARS], Verdict.SKIPPED
    if isinstance(err, LearnerCodeError):
        detail = one_line(err.message)
        return f"your code raised {err.type_name}" + (f": {detail}" if detail else ""), Verdict.LEARNER
    if isinstance(err, SandboxError):
        return str(err), Verdict.LEARNER
    if isinstance(err, psycopg2.Error):  # the check's own query, on the submission's database
        reason = one_line(err) or type(err).__name__
        return (f"the check's own query failed on your database ({type(err).__name__}: {reason}): "
                "did your code drop, change or lock a table?"), Verdict.LEARNER
    return unusable_answer(err, returned), Verdict.UNUSABLE_ANSWER


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
