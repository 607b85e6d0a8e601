"""Checks of Part 6's exercises: an array literal, a CSV load with one COPY, an export with COPY TO.

The loads run on the check's own connection (never the notebook's ``pg2``), so a failed ``COPY``
cannot leave a lesson's connection in an aborted transaction; what was committed is read from a
second connection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from pglab.learner.exercise_checks import closing_quietly, connect, course_url, exercise_check, fixture_products
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import RecordingConnection2, connect2

ARRAY = "A hand-built array literal"
FIX = "The fix"
LOADERS = "Five loaders"
COPY_FROM = "`copy_from`: tabs and backslashes"
TRICKY = {"a comma": ["kids, 3+", "toys"], "a double quote": ['12" vinyl'], "a backslash": ["C:\\temp", "a\\"],
          "braces": ["{curly}", "}"], "the word NULL": ["NULL", "null"], "spaces": ["  padded  ", "two words"],
          "an empty string": ["", "x"], "a quote and a tab": ["it's", "tab\there", "new\nline"],
          "non-ASCII": ["café", "☕", "日本"], "no items": []}


@exercise_check("6.1", "Quote an array literal")
def check_6_1(check: Exercise, pg_array_literal: Callable[..., Any], url: str | None = None) -> None:
    conn = connect(course_url(url))
    conn.autocommit = True  # a malformed literal fails its own statement only
    try:
        with conn.cursor() as cur:
            for label, items in TRICKY.items():
                check.expect(f"{label}: {items!r} comes back exactly",
                             lambda items=items: _round_trip(cur, pg_array_literal(list(items)), items),
                             'double-quote every element and put a backslash before each \\ and "', see=FIX)
    finally:
        closing_quietly(conn)


def _round_trip(cur: Any, literal: object, items: list[str]) -> bool:
    if not isinstance(literal, str):
        raise Wrong(f"got {shown(literal)}, expected a string such as '{{\"a\",\"b\"}}'")
    try:
        cur.execute("SELECT %s::text[]", (literal,))
    except Exception as err:
        raise Wrong(f"the server refused {shown(literal)}: {str(err).strip().splitlines()[0]}") from None
    return same(cur.fetchone()[0], items, f"{literal} read back")


SUPPLIER = [("Lamp, brass", "19.90", "home"), ('Poster "Waves"', "7.50", "art"), ("Tab\there", "1.00", "misc"),
            ("C:\\new items", "2.00", "misc"), ("Two\nlines", "3.00", "misc"), ("Café ☕ it's", "4.00", "misc")]


def _csv(rows: Sequence[tuple[str, ...]]) -> str:
    text = io.StringIO()
    csv.writer(text).writerows([("name", "price", "category"), *rows])
    return text.getvalue()


@exercise_check("6.2", "Load a CSV file with a header")
def check_6_2(check: Exercise, load_supplier_csv: Callable[..., Any], table: str, url: str | None = None) -> None:
    url = course_url(url)
    conn = connect2(url)
    reader = connect(url)
    try:
        _empty(reader, table)
        if check.expect(f"returns {len(SUPPLIER)}, the number of data rows (one name has a newline in it)",
                        lambda: same(load_supplier_csv(conn, _csv(SUPPLIER)), len(SUPPLIER)),
                        "COPY ... FROM STDIN WITH (FORMAT csv, HEADER true); return cur.rowcount", see=LOADERS):
            check.expect("another connection sees every row exactly, the header skipped (so it was committed)",
                         lambda: same(sorted(_stored(reader, table)), sorted(SUPPLIER), "rows committed"),
                         "FORMAT csv reads quotes, commas and tabs as data; conn.commit() at the end", see=COPY_FROM)
        check.expect("one COPY statement did it (no INSERT)",
                     lambda: same([s.verb for s in conn.sent], ["COPY"], "statements sent"),
                     "cur.copy_expert(...) once, with the whole text", see=LOADERS)
        closing_quietly(conn)
        conn = connect2(url)
        _empty(reader, table)
        check.expect("a file with only the header loads 0 rows and returns 0",
                     lambda: same(load_supplier_csv(conn, "name,price,category\n"), 0), "cur.rowcount after COPY",
                     see=LOADERS)
        closing_quietly(conn)
        conn = connect2(url)
        check.expect("a malformed file (a price that is not a number) raises an error",
                     lambda: _raises(load_supplier_csv, conn, _csv([("Good", "1.00", "misc"),
                                                                     ("Bad", "cheap", "misc")])),
                     "let COPY's error reach the caller: no except that returns 0", see=LOADERS)
    finally:
        closing_quietly(conn)
        reader.rollback()
        _empty(reader, table)
        closing_quietly(reader)


def _empty(reader: Any, table: str) -> None:
    with reader.cursor() as cur:
        cur.execute("SET lock_timeout = '5s'")
        cur.execute(f"DELETE FROM {table}")
    reader.commit()


def _stored(reader: Any, table: str) -> list[tuple[str, ...]]:
    with reader.cursor() as cur:
        cur.execute(f"SELECT name, price::text, category FROM {table}")
        rows = [tuple(r) for r in cur.fetchall()]
    reader.rollback()
    return rows


def _raises(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        got = fn(*args)
    except Exception:
        return True
    raise Wrong(f"returned {shown(got)} instead of raising")


EXPORT_CATEGORY = "Exercise 6.3 O'Hara's, \"quoted\""
EXPORT_ROWS = [("Comma, name", "1.50"), ('Quote "name"', "2.00"), ("Two\nlines", "3.25"), ("Café it's", "4.00")]


@exercise_check("6.3", "Export a query with COPY TO")
def check_6_3(check: Exercise, export_category_csv: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    rows = [{"name": n, "price": p, "category": EXPORT_CATEGORY} for n, p in EXPORT_ROWS]
    with fixture_products(url, rows):
        conn = connect2(url)
        try:
            check.expect(f"{EXPORT_CATEGORY!r}: its {len(rows)} (name, price) rows as CSV, no header",
                         lambda: _csv_rows(export_category_csv(conn, EXPORT_CATEGORY), EXPORT_ROWS),
                         "COPY (SELECT name, price FROM products WHERE category = {}) TO STDOUT WITH (FORMAT csv), "
                         "with sql.Literal(category) in the braces", see=LOADERS)
            check.expect("the server wrote it: one COPY ... TO STDOUT",
                         lambda: _copied(conn), "cur.copy_expert(statement, buffer): the server formats the CSV",
                         see=LOADERS)
            check.expect("the category 'x'' OR ''1''=''1' is no injection: empty CSV",
                         lambda: same(export_category_csv(conn, "x' OR '1'='1"), ""),
                         "quote the value with sql.Literal",
                         see=LOADERS)
            check.expect("the connection is usable afterwards",
                         lambda: _select_one(conn), "roll back what you opened, on success and on failure",
                         see=LOADERS)
        finally:
            closing_quietly(conn)


def _csv_rows(text: object, wanted: list[tuple[str, str]]) -> bool:
    if not isinstance(text, str):
        raise Wrong(f"got {shown(text)}, expected the CSV text")
    return same(sorted(tuple(r) for r in csv.reader(io.StringIO(text))), sorted(wanted), "rows in your CSV")


def _copied(conn: RecordingConnection2) -> bool:
    copies = [s for s in conn.sent if s.kind == "copy" and "STDOUT" in s.text.upper()]
    if len(copies) != 1:
        raise Wrong(f"sent: {shown([s.text for s in conn.sent])}")
    return True


def _select_one(conn: Any) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
        return bool(cur.fetchone()[0] == 1)
