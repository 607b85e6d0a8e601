"""Connections that remember what the learner's code sent: the statements and their parameters.

An exercise about parameters, round trips or ``COPY`` is checked on what the database saw, not only
on what came back: a value pasted into the SQL text with an f-string returns the right rows for a
harmless value, but it shows in :attr:`Sent.text` instead of :attr:`Sent.params`. Both drivers are
covered: :func:`connect2` (psycopg2) and :func:`connect3` (psycopg 3) give real connections whose
cursors append one :class:`Sent` per statement to the connection's ``sent`` list.

``probe`` (psycopg2 only) is a query run on the same connection after each statement that
succeeded; its result is kept in :attr:`Sent.probe`. It shows what the server had in force for that
statement, e.g. ``SELECT current_setting('lock_timeout')``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.sql


@dataclass
class Sent:
    """One statement as the driver got it: ``kind`` is execute, executemany or copy."""

    kind: str
    text: str
    params: Any = None
    probe: Any = None
    sqlstate: str | None = None

    @property
    def verb(self) -> str:
        """The statement's first word, upper-case (``SELECT``, ``INSERT``, ``COPY``, ``WITH``)."""
        words = self.text.split()
        return words[0].upper().lstrip("(") if words else ""

    def carries(self, value: object) -> bool:
        """True if ``value`` went as one of the parameters (not pasted into the text)."""
        params = self.params
        if params is None:
            return False
        values: Iterable[Any] = params.values() if isinstance(params, dict) else params
        if self.kind == "executemany":
            values = [v for row in values for v in (row.values() if isinstance(row, dict) else row)]
        return any(_equal(v, value) for v in values)


def _equal(a: object, b: object) -> bool:
    try:
        return bool(a == b) or (isinstance(a, (list, tuple)) and any(_equal(x, b) for x in a))
    except Exception:
        return False


def _text2(cur: psycopg2.extensions.cursor, query: Any) -> str:
    if isinstance(query, psycopg2.sql.Composable):
        return query.as_string(cur)
    return query.decode() if isinstance(query, bytes) else str(query)


class _Recording2:
    """The recording part of a psycopg2 cursor (mixed in before the driver's cursor class)."""

    connection: RecordingConnection2

    def _record(self, kind: str, query: Any, params: Any, run: Any) -> Any:
        sent = Sent(kind, _text2(self, query), params)
        self.connection.sent.append(sent)
        try:
            result = run()
        except psycopg2.Error as err:
            sent.sqlstate = err.pgcode
            raise
        if self.connection.probe:
            with psycopg2.extensions.cursor(self.connection) as probe:
                probe.execute(self.connection.probe)
                sent.probe = probe.fetchone()[0]
        return result

    def execute(self, query: Any, vars: Any = None) -> Any:
        return self._record("execute", query, vars, lambda: super(_Recording2, self).execute(query, vars))  # type: ignore[misc]

    def executemany(self, query: Any, vars_list: Any) -> Any:
        rows = list(vars_list)
        return self._record("executemany", query, rows,
                            lambda: super(_Recording2, self).executemany(query, rows))  # type: ignore[misc]

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        return self._record("copy", sql, None,
                            lambda: super(_Recording2, self).copy_expert(sql, file, size))  # type: ignore[misc]

    def copy_from(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        return self._record("copy", f"COPY {table} FROM STDIN", None,
                            lambda: super(_Recording2, self).copy_from(file, table, *args, **kwargs))  # type: ignore[misc]

    def copy_to(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        return self._record("copy", f"COPY {table} TO STDOUT", None,
                            lambda: super(_Recording2, self).copy_to(file, table, *args, **kwargs))  # type: ignore[misc]


class RecordingCursor2(_Recording2, psycopg2.extensions.cursor):
    """A plain psycopg2 cursor that records what it sends."""


class RecordingRealDictCursor2(_Recording2, psycopg2.extras.RealDictCursor):
    """A ``RealDictCursor`` (the catalogue's rows) that records what it sends."""


class RecordingConnection2(psycopg2.extensions.connection):
    """A psycopg2 connection whose cursors (any factory the code asks for) record what they send."""

    def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(dsn, *args, **kwargs)
        self.sent: list[Sent] = []
        self.probe = ""
        self.cursor_factory = RecordingCursor2

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        factory = kwargs.get("cursor_factory")
        if factory is psycopg2.extras.RealDictCursor:
            kwargs["cursor_factory"] = RecordingRealDictCursor2
        return super().cursor(*args, **kwargs)


def connect2(url: str, **kwargs: Any) -> RecordingConnection2:
    """A psycopg2 connection to ``url`` that records every statement its cursors send."""
    conn = psycopg2.connect(url, connection_factory=RecordingConnection2, **kwargs)
    assert isinstance(conn, RecordingConnection2)
    return conn


def start_recording(conn: psycopg2.extensions.connection) -> list[Sent]:
    """Make an existing psycopg2 connection record (its default cursors); returns the list it fills.

    For a pooled connection the caller lends out: the cursor factory is put back by
    :func:`stop_recording`.
    """
    sent: list[Sent] = []
    conn.cursor_factory = type("RecordingFor", (_RecordingOn, conn.cursor_factory or psycopg2.extensions.cursor),
                               {"sent": sent})
    return sent


class _RecordingOn:
    """Records into a list given by the class (for connections that are not RecordingConnection2)."""

    sent: list[Sent]

    def execute(self, query: Any, vars: Any = None) -> Any:
        self.sent.append(Sent("execute", _text2(self, query), vars))
        return super().execute(query, vars)  # type: ignore[misc]

    def executemany(self, query: Any, vars_list: Any) -> Any:
        rows = list(vars_list)
        self.sent.append(Sent("executemany", _text2(self, query), rows))
        return super().executemany(query, rows)  # type: ignore[misc]


def stop_recording(conn: psycopg2.extensions.connection) -> None:
    """Undo :func:`start_recording`: the connection's cursors are the driver's again."""
    factory = conn.cursor_factory
    if factory is not None and issubclass(factory, _RecordingOn):
        conn.cursor_factory = factory.__mro__[2]


class RecordingCursor3(psycopg.Cursor[Any]):
    """A psycopg 3 cursor that records what it sends (``conn.execute()`` goes through it too)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self._sent().append(Sent("execute", _text3(self, query), params))
        return super().execute(query, params, **kwargs)

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        rows = list(params_seq)
        self._sent().append(Sent("executemany", _text3(self, query), rows))
        return super().executemany(query, rows, **kwargs)

    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        self._sent().append(Sent("copy", _text3(self, statement), params))
        return super().copy(statement, params, **kwargs)

    def _sent(self) -> list[Sent]:
        conn = self.connection
        if not hasattr(conn, "sent"):
            conn.sent = []  # type: ignore[attr-defined]
        return conn.sent  # type: ignore[attr-defined]


def _text3(cur: psycopg.Cursor[Any], query: Any) -> str:
    if isinstance(query, psycopg.sql.Composable):
        return query.as_string(cur)
    return query.decode() if isinstance(query, bytes) else str(query)


def connect3(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A psycopg 3 connection to ``url`` whose cursors record into ``conn.sent``."""
    conn = psycopg.connect(url, cursor_factory=RecordingCursor3, **kwargs)
    conn.sent = []  # type: ignore[attr-defined]
    return conn


def sent_by(conn: object) -> list[Sent]:
    """The statements a recording connection of either driver has sent so far."""
    return list(getattr(conn, "sent", []))
