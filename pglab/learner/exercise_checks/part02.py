"""Checks of Part 2's exercises: connect as a named program, tell connection failures apart."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extensions

from pglab.learner.exercise_checks import closing_quietly, course_url, exercise_check
from pglab.learner.exercises import Exercise, Wrong, same, shown

URL_OR_KEYWORDS = "A URL, keywords, or both"
FAILURES = "What failure looks like"
# An application_name a hand-built URL or options string cannot carry: spaces, &, =, %, #, a quote.
AWKWARD_APP = "ex 2.1 & co's =50% #1"


@exercise_check("2.1", "Connect as a named program")
def check_2_1(check: Exercise, connect_as: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    for app in ("exercise-2.1", AWKWARD_APP):
        _check_one_app(check, connect_as, url, app)


def _check_one_app(check: Exercise, connect_as: Callable[..., Any], url: str, app: str) -> None:
    made: list[Any] = []
    try:
        if check.expect(f"connect_as(URL, {app!r}) returned an open psycopg2 connection",
                        lambda: made.append(connect_as(url, app)) or _open(made[0]),
                        "psycopg2.connect(url, application_name=..., connect_timeout=5)", see=URL_OR_KEYWORDS):
            check.expect(f"the server sees application_name {app!r}",
                         lambda: same(_seen_app(made[0]), app, "the server's application_name"),
                         "pass application_name= as a keyword argument: libpq merges it with the URL "
                         "and no character needs escaping", see=URL_OR_KEYWORDS)
            check.expect("connect_timeout is 5",
                         lambda: same(made[0].get_dsn_parameters().get("connect_timeout"), "5",
                                      "connect_timeout"),
                         "pass connect_timeout=5 too", see=URL_OR_KEYWORDS)
    finally:
        closing_quietly(*[m for m in made if isinstance(m, psycopg2.extensions.connection)])




def _open(conn: object) -> bool:
    if not isinstance(conn, psycopg2.extensions.connection) or conn.closed:
        raise Wrong(f"got {shown(conn)}")
    return True


def _seen_app(conn: psycopg2.extensions.connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        return str(cur.fetchone()[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with(url: str, **changes: Any) -> str:
    params = psycopg2.extensions.parse_dsn(url)
    params.update(changes)
    return psycopg2.extensions.make_dsn(**params)


@exercise_check("2.2", "Tell the failures apart")
def check_2_2(check: Exercise, diagnose: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    expected = {"the course URL": (url, "connected"),
                "a wrong password": (_with(url, password="not-the-password"), "refused by the server"),
                "a database that does not exist": (_with(url, dbname="no_such_db"), "refused by the server"),
                "a role that does not exist": (_with(url, user="no_such_role"), "refused by the server"),
                "a port where nothing listens": (_with(url, host="127.0.0.1", port=_free_port()), "nothing listens")}
    for case, (target, wanted) in expected.items():
        check.expect(f"{case}: {wanted!r}", lambda target=target, wanted=wanted: same(diagnose(target), wanted),
                     "catch psycopg2.OperationalError: the server's refusals start with FATAL; "
                     "'Connection refused' comes from the operating system", see=FAILURES)
