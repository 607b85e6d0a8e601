"""What a check sees of the learner's work: call their functions, run a snippet, query their database.

Two implementations behind one interface, so a check module runs unchanged in three places:
:class:`KernelSubmission` (``pglab grade``: the learner's code lives in a sandboxed kernel),
:class:`LocalSubmission` (the learner's own self-check, and nbgrader's in-kernel autograde), both
returning JSON-shaped values (see :mod:`pglab.grading.wire`).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pglab.grading.checks import CheckFailed, LearnerError
from pglab.grading.kernel_session import KernelSession
from pglab.grading.wire import to_jsonable

MISSING = "__pglab_missing__"


class Submission:
    """Base: database access shared by both kinds; subclasses reach the learner's code."""

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
    """The learner's namespace in this very process (self-check; nbgrader's in-kernel grading)."""

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
            raise LearnerError(type(err).__name__, str(err)[:500]) from None
        return to_jsonable(scope.get("result"))


class KernelSubmission(Submission):
    """The learner's code in a sandboxed kernel; only JSON comes back."""

    def __init__(self, session: KernelSession, database_url: str) -> None:
        super().__init__(database_url)
        self.session = session

    def run(self, code: str, timeout: float | None = None) -> Any:
        return self.session.evaluate(code, timeout=timeout)
