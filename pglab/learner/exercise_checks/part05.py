"""Checks of Part 5's exercises: a JSON fragment, a tag search the index serves, a wall clock in a zone.

Where the exercise is about an index, the check runs ``EXPLAIN`` on the learner's own statement (as
recorded), with sequential scans discouraged so that a usable index shows up in the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extras

from pglab.learner.exercise_checks import closing_quietly, connect, course_url, exercise_check, fixture_products
from pglab.learner.exercises import Exercise, Wrong, answer, same, shown
from pglab.learner.statement_recording import Sent, connect2

CONTAINS = "`->`, `->>`, `@>` and `?`"
GIN = "Does `@>` use the GIN index?"
ARRAY_INDEX = "Which array search uses `idx_products_tags`?"
TIMESTAMPTZ = "TIMESTAMPTZ"
NAIVE = "The naive-datetime trap"
AUTHOR = "O'Brien \"the\" café"
TAG = "O'Reilly \"quoted\", tag"


def plan(url: str, statement: str, params: Any) -> str:
    """The plan of ``statement`` with sequential scans discouraged, one line per node."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("EXPLAIN " + statement, params)
            return "\n".join(r[0] for r in cur.fetchall())
    finally:
        closing_quietly(conn)


def _uses_index(url: str, sent: list[Sent], index: str) -> bool:
    reads = [s for s in sent if s.verb in ("SELECT", "WITH")]
    if not reads:
        raise Wrong("no SELECT was sent on the cursor you were given")
    shown_plan = plan(url, reads[-1].text, reads[-1].params)
    if index not in shown_plan:
        raise Wrong(f"EXPLAIN of your {shown(reads[-1].text)} says: {shown(shown_plan.splitlines()[0])}")
    return True


@exercise_check("5.1", "Find by a JSON fragment")
def check_5_1(check: Exercise, count_with_metadata: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    meta = {"license": "MIT", "author": AUTHOR, "platforms": ["linux", "macos"], "version": "9.1"}
    with fixture_products(url, [{"name": "Exercise 5.1", "price": "1", "category": "software", "metadata": meta}]):
        conn = connect2(url)
        conn.autocommit = True
        ref = connect(url)
        try:
            cur = conn.cursor()
            for fragment in ({"license": "MIT"}, {"license": "MIT", "version": "9.1"}, {"author": AUTHOR},
                             {"platforms": ["linux"]}, {"license": "no such license"}, {}):
                with ref.cursor() as ref_cur:
                    ref_cur.execute("SELECT count(*) FROM products WHERE metadata @> %s",
                                    (psycopg2.extras.Json(fragment),))
                    wanted = ref_cur.fetchone()[0]
                ref.rollback()
                check.expect(f"{fragment}: {wanted} products",
                             lambda f=fragment, w=wanted: same(count_with_metadata(cur, f), w),
                             "WHERE metadata @> %s with the dict wrapped in psycopg2.extras.Json(...): "
                             "@> also matches a list that contains the fragment's list", see=CONTAINS)
            check.expect("the GIN index idx_products_metadata can serve your statement (EXPLAIN of it)",
                         lambda: _uses_index(url, conn.sent, "idx_products_metadata"),
                         "one SELECT count(*) ... WHERE metadata @> %s; ->> comparisons or a filter in "
                         "Python cannot use it", see=GIN)
        finally:
            closing_quietly(conn, ref)


@exercise_check("5.2", "A tag search the index can serve")
def check_5_2(check: Exercise, tagged_sql: Any, url: str | None = None) -> None:
    url = course_url(url)
    statement = answer(tagged_sql)
    if not isinstance(statement, str):
        raise Wrong(f"TAGGED_SQL is {shown(statement)}, expected a string")
    rows = [{"name": "Exercise 5.2 both", "price": "1", "category": "software", "tags": ["python", TAG]},
            {"name": "Exercise 5.2 one", "price": "1", "category": "software", "tags": [TAG]}]
    with fixture_products(url, rows):
        conn = connect(url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT name, tags FROM products")
                everything = cur.fetchall()
                for wanted_tags in (["python"], ["python", "async"], [TAG], ["python", TAG], ["no such tag"]):
                    wanted = sorted(n for n, t in everything if set(wanted_tags) <= set(t))
                    check.expect(f"{wanted_tags}: the {len(wanted)} products with all of them",
                                 lambda w=wanted_tags, names=wanted: cur.execute(statement, (w,)) or
                                 same(sorted(r[0] for r in cur.fetchall()), names),
                                 "tags @> %s: the column contains all of the list's elements", see=ARRAY_INDEX)
            check.expect("the planner can use idx_products_tags for it (EXPLAIN of your statement)",
                         lambda: "idx_products_tags" in plan(url, statement, (["python"],)) or
                         _no_index(url, statement), "= ANY(tags) and && ... for one tag have no index path "
                         "for 'all of them'; @> has", see=ARRAY_INDEX)
        finally:
            closing_quietly(conn)


def _no_index(url: str, statement: str) -> bool:
    raise Wrong(f"EXPLAIN says: {shown(plan(url, statement, (['python'],)).splitlines()[0])}")


@exercise_check("5.3", "A wall-clock time in a named zone")
def check_5_3(check: Exercise, to_instant: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute("SET TIME ZONE 'Asia/Tokyo'")  # the session zone must not matter
        for wall, zone in ((datetime(2024, 7, 14, 22, 30), "Europe/Paris"),
                           (datetime(2024, 1, 5, 8, 0), "America/New_York"),
                           (datetime(2024, 3, 1, 9, 15), "Asia/Kolkata")):
            wanted = wall.replace(tzinfo=ZoneInfo(zone))
            conn.sent.clear()
            check.expect(f"{wall:%Y-%m-%d %H:%M} in {zone} is {wanted.astimezone(timezone.utc):%H:%M} UTC",
                         lambda wall=wall, zone=zone, wanted=wanted: _instant(to_instant(cur, wall, zone), wanted),
                         "SELECT %s::timestamp AT TIME ZONE %s returns the timestamptz", see=TIMESTAMPTZ)
            check.expect(f"the server did it: {zone!r} and the wall clock went as parameters",
                         lambda wall=wall, zone=zone: _carried(conn.sent, wall, zone),
                         "let the server convert: one SELECT with both values as parameters", see=TIMESTAMPTZ)
        check.expect("the session's TimeZone is still Asia/Tokyo afterwards",
                     lambda: cur.execute("SHOW TimeZone") or same(cur.fetchone()[0], "Asia/Tokyo", "TimeZone"),
                     "do not SET TIME ZONE: AT TIME ZONE names the zone for one expression", see=NAIVE)
        cur.execute("SET TIME ZONE 'Asia/Tokyo'")
        check.expect("an unknown zone, 'Mars/Olympus_Mons', raises an error",
                     lambda: _raises(to_instant, cur, datetime(2024, 1, 1), "Mars/Olympus_Mons"),
                     "let the server's error reach the caller", see=TIMESTAMPTZ)
    finally:
        closing_quietly(conn)


def _instant(got: object, wanted: datetime) -> bool:
    if not isinstance(got, datetime) or got.tzinfo is None:
        raise Wrong(f"got {shown(got)}, expected an aware datetime equal to {wanted.isoformat()}")
    return same(got, wanted)


def _carried(sent: list[Sent], wall: datetime, zone: str) -> bool:
    if not sent:
        raise Wrong("nothing was sent to the server")
    walls = (wall, wall.isoformat(), str(wall))
    if not any(s.carries(zone) for s in sent) or not any(s.carries(w) for s in sent for w in walls):
        raise Wrong(f"the server got {shown(sent[-1].text)} with {shown(sent[-1].params)}")
    return True


def _raises(fn: Callable[..., Any], *args: Any) -> bool:
    try:
        got = fn(*args)
    except Exception:
        return True
    raise Wrong(f"returned {shown(got)} instead of raising")
