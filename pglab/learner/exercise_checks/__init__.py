"""The checks of the lesson exercises, one module per part (``part01`` … ``part09``).

A notebook's check cell is one call, e.g. ``part04.check_4_1(search_products)``: the check opens its
own connections (so a failed statement can never leave a lesson's shared connection aborted),
sends what the exercise is about — values that break hand-built SQL, exact boundaries, ties, empty
results, inputs that must fail — looks at what the database saw and at the session left behind, and
puts everything back. The expectations are plain code, so tests import them too.

What the checks share lives here: :func:`exercise_check` (never crash, always report), the course
URL, and rows added for one check and removed after it (:func:`fixture_products`).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from pglab.learner.exercises import Exercise, NotAnswered, shown

P = ParamSpec("P")

# Values that break SQL or CSV built by hand: a quote, a comment, %, backslash, tab, newline, non-ASCII.
AWKWARD_NAME = "O'Malley's \"100%\" C:\\new\ttab — café"
INJECTION = "x' OR '1'='1'; --"


def course_url(url: str | None = None) -> str:
    """The course database the lesson's setup cell connected to (``DATABASE_URL``)."""
    return url or os.environ["DATABASE_URL"]


def exercise_check(number: str, title: str) -> Callable[[Callable[Concatenate[Exercise, P], None]],
                                                        Callable[P, str]]:
    """Make ``body(check, ...)`` a check that prints its report and never raises.

    Whatever the learner's code does — return an odd type, raise, leave a transaction open — the
    body's own ``finally`` blocks put the database back, and anything that still escapes becomes
    one more line to fix instead of a traceback in the check cell.
    """
    def wrap(body: Callable[Concatenate[Exercise, P], None]) -> Callable[P, str]:
        @functools.wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> str:
            check = Exercise(number, title)
            try:
                body(check, *args, **kwargs)
            except (NotAnswered, NotImplementedError):
                check.not_done = True
            except Exception as err:
                first = (str(err).strip().splitlines() or [""])[0]
                check.results.append(("the check could run your answer to the end", False,
                                      f"it stopped on {type(err).__name__}: {shown(first)}"))
            return check.report()
        run.number = number  # type: ignore[attr-defined]
        run.title = title  # type: ignore[attr-defined]
        return run
    return wrap


def connect(url: str, **kwargs: Any) -> psycopg2.extensions.connection:
    """A plain psycopg2 connection for the check's own reads (never the learner's)."""
    return psycopg2.connect(url, application_name="pglab-exercise-check", **kwargs)


@contextmanager
def fixture_products(url: str, rows: Sequence[dict[str, Any]]) -> Iterator[list[uuid.UUID]]:
    """Commit ``rows`` into ``products`` for one check and delete them afterwards, whatever happens.

    Each row gives name, price and category, and may give id, tags, metadata and stock.
    """
    conn = connect(url)  # ids as text: registering the UUID adapter would change the lesson's own cells
    ids: list[uuid.UUID] = []
    try:
        with conn.cursor() as cur:
            for row in rows:
                cur.execute(
                    "INSERT INTO products (id, name, price, category, tags, metadata, stock) "
                    "VALUES (COALESCE(%s::uuid, gen_random_uuid()), %s, %s, %s, %s, %s, %s) RETURNING id::text",
                    (str(row["id"]) if row.get("id") else None, row["name"], Decimal(str(row["price"])),
                     row["category"],
                     list(row.get("tags", [])), psycopg2.extras.Json(row.get("metadata", {})),
                     row.get("stock", 10)))
                ids.append(uuid.UUID(cur.fetchone()[0]))
        conn.commit()
        yield ids
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '5s'")
            cur.execute("DELETE FROM products WHERE id = ANY(%s::uuid[])", ([str(i) for i in ids],))
        conn.commit()
        conn.close()


def closing_quietly(*things: Any) -> None:
    """Roll back and close connections (or pools) the check opened; a broken one is just dropped."""
    for thing in things:
        if thing is None:
            continue
        try:
            if hasattr(thing, "closeall"):
                thing.closeall()
                continue
            if not thing.closed:
                thing.rollback()
            thing.close()
        except Exception:  # already broken: closing is all that is left to do
            pass
