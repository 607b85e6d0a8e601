"""Checks of Part 1's exercises (psycopg 3): dict rows, a dict as JSONB, a parameterised SET."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg

from pglab.learner.exercise_checks import (
    AWKWARD_NAME,
    INJECTION,
    closing_quietly,
    connect,
    course_url,
    exercise_check,
    fixture_products,
)
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import connect3, sent_by

ROWS = "Rows as tuples or as dictionaries"
ADAPTATION = "Adaptation: a `dict` is not JSONB until you say so"
BINDING = "Going further: server-side binding — psycopg 3 sends `$1`, not the value"
FIRST_ID, SECOND_ID = uuid.UUID(int=(1 << 128) - 1), uuid.UUID(int=1)  # inserted in this order


def _as_row(found: Any) -> Any:
    """The learner's dict with the price as a Decimal whatever its numeric type (float, str)."""
    if isinstance(found, dict) and "price" in found:
        return {**found, "price": Decimal(str(found["price"]))}
    return found


@exercise_check("1.1", "Rows as dictionaries")
def check_1_1(check: Exercise, product_by_name: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    rows = [{"id": FIRST_ID, "name": AWKWARD_NAME, "price": "12.50", "category": "books"},
            {"id": SECOND_ID, "name": AWKWARD_NAME, "price": "7.25", "category": "games"}]
    with fixture_products(url, rows):
        conn = connect3(url)
        try:
            known = conn.execute("SELECT name, price, category FROM products WHERE name <> %s ORDER BY id LIMIT 1",
                                 (AWKWARD_NAME,)).fetchone()
            assert known is not None
            conn.rollback()
            first = dict(zip(("name", "price", "category"), known, strict=True))
            check.expect(f"product_by_name(conn, {known[0]!r}) is the dict {shown(first)}",
                         lambda: same(_as_row(product_by_name(conn, known[0])), first),
                         "a dict_row cursor, SELECT name, price, category ... WHERE name = %s", see=ROWS)
            conn.rollback()
            conn.sent.clear()  # type: ignore[attr-defined]
            wanted = {"name": AWKWARD_NAME, "price": Decimal("7.25"), "category": "games"}
            check.expect(f"two products are called {AWKWARD_NAME!r}: you return the one with the smaller id",
                         lambda: same(_as_row(product_by_name(conn, AWKWARD_NAME)), wanted),
                         "ORDER BY id LIMIT 1 picks the first one; without ORDER BY the order is the table's",
                         see=ROWS)
            conn.rollback()
            check.expect("the name went as a parameter, not inside the SQL text",
                         lambda: _sent_as_parameter(conn, AWKWARD_NAME),
                         "cur.execute(sql, (name,)) with %s in the SQL", see=BINDING)
            conn.rollback()
            check.expect(f"a name that is not there, {INJECTION!r}, returns None",
                         lambda: same(product_by_name(conn, INJECTION), None),
                         "fetchone() returns None when there is no row; pass the name as a parameter", see=ROWS)
        finally:
            closing_quietly(conn)


def _sent_as_parameter(conn: Any, value: str) -> bool:
    statements = sent_by(conn)
    if not statements:
        raise Wrong("nothing was sent on the connection you were given")
    pasted = [s.text for s in statements if value in s.text]
    if pasted or not any(s.carries(value) for s in statements):
        last = statements[-1]
        raise Wrong(f"the SQL text sent was {shown(last.text)} with parameters {shown(last.params)}")
    return True


@exercise_check("1.2", "Store a dict as JSONB")
def check_1_2(check: Exercise, add_product: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    name = f"Exercise 1.2 {AWKWARD_NAME}"
    meta = {"license": "MIT", "author": "O'Brien \"the\" \\ café ☕", "platforms": ["linux", "macos"],
            "support": {"until": 2030, "paid": True, "notes": None}}
    conn = connect3(url)
    other = connect(url)
    try:
        new_id: list[Any] = []
        if check.expect("add_product() returned the new id",
                        lambda: new_id.append(add_product(conn, name, meta)) or new_id[0] is not None,
                        "INSERT ... RETURNING id, then fetchone()[0]", see=ADAPTATION):
            stored = conn.execute("SELECT name, price::text, category, metadata, jsonb_typeof(metadata) "
                                  "FROM products WHERE id::text = %s", (str(new_id[0]),)).fetchone()
            check.expect("the row has the name, 9.99, 'software' and the same metadata",
                         lambda: same(stored and stored[:4], (name, "9.99", "software", meta)),
                         "a name with a quote needs a parameter; the dict needs Jsonb(metadata)", see=ADAPTATION)
            check.expect("the server stored a JSON object, not a string",
                         lambda: same(stored and stored[4], "object", "jsonb_typeof(metadata)"),
                         "Jsonb(json.dumps(...)) stores a JSON string: pass the dict itself to Jsonb(...)",
                         see=ADAPTATION)
            with other.cursor() as cur:
                cur.execute("SELECT count(*) FROM products WHERE name = %s", (name,))
                seen = cur.fetchone()[0]
            check.expect("nothing committed: another connection does not see the row yet",
                         lambda: same(seen, 0, "rows another connection sees"),
                         "do not call conn.commit(): the caller decides", see=ADAPTATION)
    finally:
        closing_quietly(conn)
        with other.cursor() as cur:
            cur.execute("DELETE FROM products WHERE name = %s", (name,))
        other.commit()
        closing_quietly(other)


@exercise_check("1.3", "A SET you can parameterise")
def check_1_3(check: Exercise, set_statement_timeout: Callable[..., Any], url: str | None = None) -> None:
    conn = psycopg.connect(course_url(url), autocommit=True, application_name="pglab-ex13")
    try:
        for wanted in ("3s", "250ms"):
            check.expect(f"after set_statement_timeout(conn, {wanted!r}), the session's statement_timeout is {wanted}",
                         lambda wanted=wanted: set_statement_timeout(conn, wanted)
                         or same(_setting(conn), (wanted, "session"), "(statement_timeout, source)"),
                         "set_config('statement_timeout', %s, false): false means for the session, "
                         "not only this transaction", see=BINDING)
        for bad in ("1s'; SET application_name = 'injected", "forever"):
            check.expect(f"{bad!r} is refused by the server with an error, and nothing else runs",
                         lambda bad=bad: _refused(conn, set_statement_timeout, bad),
                         "send the value as a parameter (set_config) and let the error reach the caller",
                         see=BINDING)
    finally:
        closing_quietly(conn)


def _setting(conn: psycopg.Connection[Any]) -> tuple[str, str]:
    row = conn.execute("SELECT current_setting('statement_timeout'), source FROM pg_settings "
                       "WHERE name = 'statement_timeout'").fetchone()
    assert row is not None
    return row[0], row[1]


def _refused(conn: psycopg.Connection[Any], set_statement_timeout: Callable[..., Any], bad: str) -> bool:
    before = _setting(conn)
    try:
        set_statement_timeout(conn, bad)
    except psycopg.Error:
        conn.rollback()
        name = conn.execute("SELECT current_setting('application_name')").fetchone()
        return same(name and name[0], "pglab-ex13", "application_name afterwards")
    raise Wrong(f"it returned without an error; the session's statement_timeout is {_setting(conn)[0]!r} "
                f"(was {before[0]!r})")
