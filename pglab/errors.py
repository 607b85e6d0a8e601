"""The few errors pglab raises on purpose.

Each message is one line a learner or instructor can act on: what went wrong, with the numbers
that matter, and what to try. The command line prints ``str(error)`` and exits 1, never a traceback.
"""

import enum


def one_line(text: object) -> str:
    """Any message (a driver error spans lines: DETAIL, HINT) folded onto one line."""
    return " ".join(str(text).split())


class PglabError(Exception):
    """An expected failure whose message says what to do next."""


class SettingsError(PglabError):
    """The environment asks for something pglab cannot use (a malformed URL, a bad port)."""


class ServerError(PglabError):
    """The embedded PostgreSQL server could not be started, stopped or inspected."""


class DatabaseUnreachable(PglabError):
    """A server that should answer did not: wrong URL, server down, wrong password."""


class DataError(PglabError):
    """The course data files are missing or do not load."""


class FaultKind(enum.Enum):
    """Why the grader could not grade a notebook: never the learner's doing, never a grade."""

    DATABASE = "the database server did not answer"
    KERNEL = "a grading kernel could not be started"
    DISK = "the disk is full"
    OUTPUT = "the output folder cannot be written"
    CHECKS = "the pytest session running the checks stopped"
    STUCK = "the grader stopped making progress"
    INTERNAL = "the grader hit an internal error"

    @property
    def retryable(self) -> bool:
        """Worth another attempt in the same run (a restarted server, a restarted fork server)."""
        return self in (FaultKind.DATABASE, FaultKind.KERNEL, FaultKind.CHECKS)


class GraderFault(PglabError):
    """The grader's own machinery failed on a notebook; the notebook is left ungraded, not zeroed."""

    def __init__(self, kind: FaultKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {one_line(detail)}")
        self.kind = kind
        self.detail = one_line(detail)


class ChecksDoNotLoad(PglabError):
    """A check module does not import, or a check lacks its points: the instructor must fix it.

    One error wherever the checks are loaded (a learner's *Check your work*, the grader's catalogue
    and check runners); the message is pytest's own, and says how to see more.
    """


class ChecksFailTheReference(PglabError):
    """A check fails on the course's own reference solution: the check (or the solution) is wrong.

    Grading a class with it would blame every learner for the course's mistake, so nobody is graded
    until it is fixed; the message names the check and what it said.
    """


class LearnerError(PglabError):
    """A learner name, roster or learner account that ``pglab learners`` cannot use as asked."""


class HubError(PglabError):
    """The course's JupyterHub cannot start, or cannot prepare a learner's server."""
