"""The few errors pglab raises on purpose.

Each message is one line a learner or instructor can act on: what went wrong, with the numbers
that matter, and what to try. The command line prints ``str(error)`` and exits 1, never a traceback.
"""


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
