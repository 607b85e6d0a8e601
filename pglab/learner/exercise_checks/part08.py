"""Checks of Part 8's exercises: limits set when the connection opens, a lock you do not wait for.

Nothing here compares times. What the server had in force is read from the server: the source of
each setting in ``pg_settings`` (``client`` when it came with the connection, ``session`` after a
``SET``), the ``lock_timeout`` in force when the learner's ``SELECT ... FOR UPDATE`` ran, and the
SQLSTATE of the error that ended the wait.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extensions

from pglab.learner.exercise_checks import closing_quietly, connect, course_url, exercise_check
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import RecordingConnection2, connect2

CONNECT_TIMEOUT = "`connect_timeout`: a server that never answers"
STATEMENT_TIMEOUT = "`statement_timeout`: cancel a query that runs too long"
LOCK_TIMEOUT = "`lock_timeout`: stop waiting for a lock"
IDLE = "`idle_in_transaction_session_timeout`: the server ends forgotten transactions"
LIMITS = {"statement_timeout": ("2s", STATEMENT_TIMEOUT), "lock_timeout": ("500ms", LOCK_TIMEOUT),
          "idle_in_transaction_session_timeout": ("10s", IDLE)}
LOCK_NOT_AVAILABLE = "55P03"


@exercise_check("8.1", "A connection with production limits")
def check_8_1(check: Exercise, production_connect: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    saved = os.environ.get("PGOPTIONS")
    opened: list[Any] = []
    try:
        if check.expect("production_connect() returned an open psycopg2 connection",
                        lambda: opened.append(production_connect(url)) or _open(opened[0]),
                        "psycopg2.connect(url, options='-c statement_timeout=2s -c ...', ...)", see=CONNECT_TIMEOUT):
            check.expect("PGOPTIONS in this process's environment is as it was",
                         lambda: same(os.environ.get("PGOPTIONS"), saved, "PGOPTIONS"),
                         "pass options= to this one connect(): an environment variable changes every "
                         "connection the process opens later", see=STATEMENT_TIMEOUT)
            with opened[0].cursor() as cur:
                for setting, (wanted, section) in LIMITS.items():
                    cur.execute("SELECT current_setting(%s), source FROM pg_settings WHERE name = %s",
                                (setting, setting))
                    got = cur.fetchone()
                    check.expect(f"{setting} = {wanted}, set as the connection opened (source 'client')",
                                 lambda got=got, wanted=wanted: same(tuple(got or ()), (wanted, "client"),
                                                                     "(value, source)"),
                                 "options='-c statement_timeout=2s -c lock_timeout=500ms -c "
                                 "idle_in_transaction_session_timeout=10s': a SET afterwards shows as 'session'",
                                 see=section)
                cur.execute("SELECT current_setting('application_name')")
                app = cur.fetchone()[0]
            opened[0].rollback()
            check.expect("application_name = pglab-08-exercise", lambda: same(app, "pglab-08-exercise"),
                         "application_name='pglab-08-exercise'", see=CONNECT_TIMEOUT)
            check.expect("connect_timeout = 5",
                         lambda: same(opened[0].get_dsn_parameters().get("connect_timeout"), "5", "connect_timeout"),
                         "connect_timeout=5", see=CONNECT_TIMEOUT)
    finally:
        if saved is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = saved
        closing_quietly(*[c for c in opened if isinstance(c, psycopg2.extensions.connection)])


def _open(conn: object) -> bool:
    if not isinstance(conn, psycopg2.extensions.connection) or conn.closed:
        raise Wrong(f"got {shown(conn)}")
    return True


@exercise_check("8.2", "Read a row without waiting on a lock")
def check_8_2(check: Exercise, stock_if_free: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    holder = connect(url)
    # The safety net for an answer that sets no lock_timeout: its wait ends after 3 s, with 57014.
    conn = connect2(url, options="-c statement_timeout=3s")
    conn.probe = "SELECT current_setting('lock_timeout')"
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id, stock FROM products ORDER BY id LIMIT 1 FOR UPDATE")
            product_id, stock = cur.fetchone()
        check.expect("returns None while another session holds the row lock",
                     lambda: same(stock_if_free(conn, product_id), None),
                     "SET LOCAL lock_timeout = '200ms', then catch psycopg2.errors.LockNotAvailable and roll back",
                     see=LOCK_TIMEOUT)
        check.expect("the wait was ended by lock_timeout (SQLSTATE 55P03), not by a statement_timeout",
                     lambda: _ended_by_lock_timeout(conn), "SET LOCAL lock_timeout = '200ms' before the SELECT "
                     "... FOR UPDATE", see=LOCK_TIMEOUT)
        holder.rollback()
        conn.sent.clear()
        check.expect("returns the stock once the lock is released",
                     lambda: same(stock_if_free(conn, product_id), stock),
                     "roll back after a LockNotAvailable so the connection can run the next query", see=LOCK_TIMEOUT)
        check.expect("the SELECT ... FOR UPDATE ran with lock_timeout 200ms in force",
                     lambda: _locked_with(conn, "200ms"),
                     "SET LOCAL lock_timeout = '200ms' (or set_config('lock_timeout', '200ms', true))",
                     see=LOCK_TIMEOUT)
        conn.commit()  # a SET (not LOCAL) in that transaction would now stay on the session
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('lock_timeout'), source FROM pg_settings WHERE name = 'lock_timeout'")
            session = cur.fetchone()
        check.expect("the session's lock_timeout is unchanged afterwards",
                     lambda: same(tuple(session or ()), ("0", "default"), "(lock_timeout, source)"),
                     "SET LOCAL (this transaction only), not SET", see=LOCK_TIMEOUT)
        conn.rollback()
        check.expect("an id that is not a UUID raises an error (only a lock you cannot get means None)",
                     lambda: _raises(stock_if_free, conn, "not-a-uuid"),
                     "catch psycopg2.errors.LockNotAvailable only, not every exception", see=LOCK_TIMEOUT)
    finally:
        closing_quietly(conn, holder)


def _locking(conn: RecordingConnection2) -> list[Any]:
    found = [s for s in conn.sent if "FOR UPDATE" in s.text.upper() or "FOR SHARE" in s.text.upper()]
    if not found:
        raise Wrong(f"no SELECT ... FOR UPDATE among {shown([s.text for s in conn.sent])}")
    return found


def _ended_by_lock_timeout(conn: RecordingConnection2) -> bool:
    last = _locking(conn)[-1]  # NOWAIT ends it with the same SQLSTATE, at once
    return same(last.sqlstate, LOCK_NOT_AVAILABLE, "SQLSTATE of the error that ended the wait")


def _locked_with(conn: RecordingConnection2, wanted: str) -> bool:
    last = _locking(conn)[-1]
    if "NOWAIT" in last.text.upper():
        return True
    return same(last.probe, wanted, "lock_timeout in force")


def _raises(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        got = fn(*args)
    except Exception:
        return True
    raise Wrong(f"returned {shown(got)} instead of raising")
