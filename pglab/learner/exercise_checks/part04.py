"""Checks of Part 4's exercises: an injection-proof search, a LIKE pattern, a summary in one statement.

Each check adds its own rows in a transaction on its own connection and rolls them back: a
category whose name has a quote in it, prices exactly at the boundary, ties broken by name, names
that differ only in case.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg2.extensions

from pglab.learner.exercise_checks import INJECTION, closing_quietly, course_url, exercise_check
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import RecordingConnection2, Sent, connect2

PLACEHOLDERS = "`%s` placeholders: the values travel separately from the SQL"
INJECTION_LIVE = "SQL injection, live"
PERCENT = "The `%` literal gotcha"
SUMMARIES = "Summaries: `GROUP BY`, `HAVING`, CTEs and correlated subqueries"
CATEGORY = "Exercise 4 O'Hara's \"100%\" \\ café"


def _add(cur: psycopg2.extensions.cursor, rows: list[tuple[str, str, str, int]]) -> None:
    for name, price, category, stock in rows:
        cur.execute("INSERT INTO products (name, price, category, stock) VALUES (%s, %s, %s, %s)",
                    (name, Decimal(price), category, stock))


def _rows(got: object) -> list[tuple[Any, ...]]:
    if not isinstance(got, (list, tuple)):
        raise Wrong(f"got {shown(got)}, expected a list of tuples")
    return [tuple(r) for r in got]


def _parameters(conn: RecordingConnection2, *values: object) -> bool:
    """Every value travelled as a parameter of the learner's statements, none inside the SQL text."""
    sent: list[Sent] = conn.sent
    if not sent:
        raise Wrong("nothing was sent on the cursor you were given")
    missing = [v for v in values if not any(s.carries(v) for s in sent)]
    if missing:
        raise Wrong(f"{', '.join(map(shown, missing))} not among the parameters; the SQL sent was "
                    f"{shown(sent[-1].text)} with {shown(sent[-1].params)}")
    return True


@exercise_check("4.1", "A search that cannot be injected")
def check_4_1(check: Exercise, search_products: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        # Inserted in reverse order of name: a sort on price alone keeps them that way.
        _add(cur, [("Delta", "10.00", CATEGORY, 1), ("Charlie", "10.00", CATEGORY, 1), ("Bravo", "10.00", CATEGORY, 1),
                   ("Alpha", "10.00", CATEGORY, 1), ("Cheap", "5.50", CATEGORY, 1), ("Edge", "12.00", CATEGORY, 1),
                   ("Over", "12.01", CATEGORY, 1), ("Elsewhere", "1.00", "books", 1)])
        conn.sent.clear()
        wanted = [("Cheap", Decimal("5.50")), ("Alpha", Decimal("10.00")), ("Bravo", Decimal("10.00")),
                  ("Charlie", Decimal("10.00")), ("Delta", Decimal("10.00")), ("Edge", Decimal("12.00"))]
        check.expect(f"category {CATEGORY!r} up to 12: these 6 rows, in this order — {shown(wanted)}",
                     lambda: same(_rows(search_products(cur, CATEGORY, 12)), wanted),
                     "WHERE category = %s AND price <= %s ORDER BY price, name: 12.00 itself is 'at most 12', "
                     "and equal prices go by name", see=PLACEHOLDERS)
        check.expect("both the category and max_price went as parameters, not inside the SQL text",
                     lambda: _parameters(conn, CATEGORY, 12),
                     "cur.execute(sql, (category, max_price)) — an f-string puts them in the text", see=PLACEHOLDERS)
        check.expect("a max_price below every price: an empty list",
                     lambda: same(_rows(search_products(cur, CATEGORY, 1)), []), "fetchall() of no rows is []",
                     see=PLACEHOLDERS)
        check.expect(f"the category {INJECTION!r} matches nothing (no injection)",
                     lambda: same(_rows(search_products(cur, INJECTION, 10_000)), []),
                     "pass the values in execute()'s second argument, never inside the SQL text", see=INJECTION_LIVE)
    finally:
        closing_quietly(conn)


@exercise_check("4.2", "A pattern as a parameter")
def check_4_2(check: Exercise, count_starting_with: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        _add(cur, [("O'Malley's guide", "1", CATEGORY, 1), ("O'Malley's atlas", "1", CATEGORY, 1),
                   ("o'malley lower case", "1", CATEGORY, 1), ("Guide to O'Malley", "1", CATEGORY, 1),
                   ("Tab\there", "1", CATEGORY, 1), ("O'Malley's elsewhere", "1", "books", 1)])
        conn.sent.clear()
        for prefix, wanted, hint in [
                ("O'Malley", 2, "LIKE is case-sensitive (ILIKE is not), and the pattern is prefix + '%' "
                                "built in Python"),
                ("o'malley", 1, "LIKE, not ILIKE: a prefix in lower case matches only lower-case names"),
                ("Tab\t", 1, "pass the pattern as a parameter: a tab travels as it is"),
                ("", 5, "the empty prefix matches every name in the category"),
                ("Zzz", 0, "no match is 0")]:
            check.expect(f"{prefix!r} in {CATEGORY!r}: {wanted}",
                         lambda prefix=prefix, wanted=wanted: same(count_starting_with(cur, prefix, CATEGORY), wanted),
                         hint, see=PERCENT)
        check.expect("the pattern went as a parameter, ending in %",
                     lambda: _parameters(conn, "O'Malley%", CATEGORY),
                     "cur.execute('... name LIKE %s AND category = %s', (prefix + '%', category))", see=PERCENT)
    finally:
        closing_quietly(conn)


@exercise_check("4.3", "Stock per category, with its smallest item")
def check_4_3(check: Exercise, stock_summary: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        cur.execute("SELECT category, name, stock FROM products")
        by_category: dict[str, list[tuple[int, str]]] = {}
        for category, name, stock in cur.fetchall():
            by_category.setdefault(category, []).append((stock, name))
        totals = {c: sum(s for s, _ in rows) for c, rows in by_category.items()}
        least = {c: {n for s, n in r if s == min(r)[0]} for c, r in by_category.items()}
        for limit in (sorted(totals.values())[len(totals) // 2], min(totals.values())):
            wanted = sorted(((c, len(r), totals[c]) for c, r in by_category.items() if totals[c] < limit),
                            key=lambda row: row[2])
            conn.sent.clear()
            got: list[tuple[Any, ...]] = []
            check.expect(f"max_total={limit} (one category's total exactly): the {len(wanted)} categories below it, "
                         "with count and total, smallest total first",
                         lambda limit=limit, wanted=wanted, got=got: _summary(stock_summary(cur, limit), wanted, got),
                         "GROUP BY category HAVING sum(stock) < %s ORDER BY the total: 'below' leaves the "
                         "limit itself out", see=SUMMARIES)
            if got:
                check.expect(f"max_total={limit}: each category's least-stocked product",
                             lambda got=got: all(_least(r, least) for r in got),
                             "a correlated subquery: ORDER BY p.stock LIMIT 1 for the row's category", see=SUMMARIES)
            check.expect(f"max_total={limit}: one statement, with max_total as its parameter",
                         lambda limit=limit: same(len(conn.sent), 1, "statements sent") and _parameters(conn, limit),
                         "one execute() of one SELECT (a CTE and a subquery are still one statement)", see=SUMMARIES)
    finally:
        closing_quietly(conn)


def _least(row: tuple[Any, ...], least: dict[str, set[str]]) -> bool:
    if len(row) < 4 or row[3] not in least.get(row[0], set()):
        names = sorted(least.get(row[0], []))
        raise Wrong(f"got {shown(row)}; a least-stocked product of {row[0]!r} is one of {shown(names)}")
    return True


def _summary(result: object, wanted: list[tuple[Any, ...]], got: list[tuple[Any, ...]]) -> bool:
    """The rows' (category, products, total) in order; among equal totals any order is right."""
    got.extend(_rows(result))
    key = [(r[2], r[0]) for r in wanted]
    mine = [r[:3] for r in got]
    if sorted(mine, key=lambda r: (r[2], r[0])) != sorted(wanted, key=lambda r: (r[2], r[0])):
        return same(mine, wanted)
    return same([r[2] for r in mine], [k[0] for k in key], "the totals, in order")
