"""What a check sees of the learner's work: call their functions, run a snippet, query their database.

The ``sub`` fixture of the course's checks (:mod:`pglab.checks.plugin`) is a
:class:`Submission`. One interface, several places the learner's code can live, so a check module
runs unchanged wherever it is run: :class:`LocalSubmission` is the learner's namespace in this very
process (their own *Check your work* cell, and plain ``nbgrader autograde``); the grader's
submissions reach a sandboxed kernel and return only JSON (see :mod:`pglab.checks.wire`).

Nothing here imports zmq or jupyter_client: it runs in the learner's kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pglab.checks.wire import to_jsonable

MISSING = "__pglab_missing__"
RETURNED = "__pglab_returned__"


@dataclass(frozen=True)
class Returned:
    """What the learner's function gave back, described where it ran (see :func:`pglab.checks.wire.describe`).

    A check that cannot use a return value (it iterates over ``None``) says which function returned
    what, and what its signature promised, instead of a bare ``TypeError``.
    """

    function: str
    what: str  # "None", "a dict of 2 items", "a generator"
    kind: str  # its type's name: "NoneType", "dict", "generator"
    promised: str = ""  # the function's return annotation, when it has one

    @property
    def unexpected(self) -> bool:
        """Not what the signature promises (``None`` from a function promising a list; a generator
        for ``list[Product]``), or ``None`` from a function that promises nothing."""
        if not self.promised:
            return self.kind == "NoneType"
        promised = self.promised.replace("Optional[", "None | ")
        kinds = {alternative.strip().split("[")[0].strip() for alternative in promised.split("|")}
        kinds = {"NoneType" if k == "None" else k.rsplit(".", 1)[-1] for k in kinds}
        return self.kind not in kinds and "Any" not in kinds

    def note(self) -> str:
        """``get_x returned None (a function without `return` returns None); the check expected list[dict]``."""
        what = self.what + (" (a function without `return` returns None)" if self.kind == "NoneType" else "")
        expected = f"; the check expected {self.promised}" if self.promised else ""
        return f"{self.function} returned {what}{expected}"


class CheckFailed(AssertionError):
    """The learner's work did not do what the check expects; ``str()`` says what to fix."""


class SandboxError(Exception):
    """The learner's kernel could not answer: their code timed out, killed it, or it would not start."""


class LearnerCodeError(Exception):
    """The learner's code raised while a check called it (``type_name`` and ``message`` are theirs)."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


class Submission:
    """Base: database access shared by every kind; subclasses reach the learner's code (``run``)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._conn: psycopg2.extensions.connection | None = None
        self.returned: Returned | None = None  # the last call's return value, described

    # -- the learner's code -------------------------------------------------------------------

    def call(self, function: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call the learner's ``function`` with JSON-able arguments; return its result as JSON."""
        payload = json.dumps([args, kwargs])
        answer = self.run(
            f"import json as _json\n"
            f"from pglab.checks.wire import describe as _describe, promised_return as _promised\n"
            f"if not callable(globals().get({function!r})):\n"
            f"    result = {{{MISSING!r}: True}}\n"
            f"else:\n"
            f"    _a, _k = _json.loads({payload!r})\n"
            f"    _r = {function}(*_a, **_k)\n"
            f"    result = {{{RETURNED!r}: _describe(_r), 'kind': type(_r).__name__,\n"
            f"              'promised': _promised({function}), 'value': _r}}",
            timeout=timeout,
        )
        if isinstance(answer, dict) and answer.get(MISSING) is True:
            raise CheckFailed(f"`{function}` is not defined: run its cell, and keep the name and signature")
        if not isinstance(answer, dict) or RETURNED not in answer:
            raise CheckFailed(f"calling `{function}` gave no answer: keep its name and signature")
        self.returned = Returned(function, str(answer[RETURNED]), str(answer.get("kind")),
                                 str(answer.get("promised") or ""))
        return answer.get("value")

    def run(self, code: str, timeout: float | None = None) -> Any:
        """Run ``code`` beside the learner's namespace; return what it assigned to ``result``, as JSON."""
        raise NotImplementedError

    # -- the submission's database, from the trusted side ----------------------------------

    def sql(self, query: str, params: Any = None) -> list[dict]:
        """Run ``query`` on the submission's database as its role; commit; return rows as dicts."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.database_url, connect_timeout=5)
        conn = self._conn
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(query, params)
                rows = [to_jsonable(dict(r)) for r in cur.fetchall()] if cur.description else []
            conn.commit()
            return rows
        except psycopg2.Error:
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def database_url(namespace: dict[str, Any]) -> str:
    """The database the learner's own code uses: the set-up cell's, else the environment's."""
    return str(namespace.get("DATABASE_URL") or os.environ.get("DATABASE_URL", ""))


class LocalSubmission(Submission):
    """The learner's namespace in this very process (*Check your work*; nbgrader's in-kernel grading)."""

    def __init__(self, namespace: dict[str, Any], database_url: str) -> None:
        super().__init__(database_url)
        self.namespace = namespace

    def run(self, code: str, timeout: float | None = None) -> Any:
        scope = dict(self.namespace)
        try:
            exec(code, scope)
        except (CheckFailed, KeyboardInterrupt):
            raise
        except Exception as err:
            raise LearnerCodeError(type(err).__name__, str(err)[:500]) from None
        return to_jsonable(scope.get("result"))
