"""What a check sees of the learner's work: call their functions, run a snippet, query their database.

The ``sub`` fixture of the course's checks (:mod:`pglab.grading.pytest_plugin`) is a
:class:`Submission`. One interface, several places the learner's code can live, so a check module
runs unchanged wherever it is run: :class:`LocalSubmission` is the learner's namespace in this very
process (their own *Check your work* cell, and plain ``nbgrader autograde``); the grader's
submissions reach a sandboxed kernel and return only JSON (see :mod:`pglab.learner.wire`).

Nothing here imports zmq or jupyter_client: it runs in the learner's kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pglab.learner.wire import to_jsonable

MISSING = "__pglab_missing__"


class CheckFailed(AssertionError):
    """The learner's work did not do what the check expects; ``str()`` says what to fix."""


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

    # -- the learner's code -------------------------------------------------------------------

    def call(self, function: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        """Call the learner's ``function`` with JSON-able arguments; return its result as JSON."""
        payload = json.dumps([args, kwargs])
        answer = self.run(
            f"import json as _json\n"
            f"if not callable(globals().get({function!r})):\n"
            f"    result = {{{MISSING!r}: True}}\n"
            f"else:\n"
            f"    _a, _k = _json.loads({payload!r})\n"
            f"    result = {function}(*_a, **_k)",
            timeout=timeout,
        )
        if isinstance(answer, dict) and answer.get(MISSING) is True:
            raise CheckFailed(f"`{function}` is not defined: run its cell, and keep the name and signature")
        return answer

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
