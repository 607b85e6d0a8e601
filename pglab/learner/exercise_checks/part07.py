"""Checks of Part 7's exercises: INSERT ... RETURNING, an upsert that says what it did, get-or-create.

The learner's code gets a cursor of the check's own connection, which records every statement: one
round trip means one statement sent. Everything runs in a transaction that is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pglab.learner.exercise_checks import closing_quietly, course_url, exercise_check
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import RecordingConnection2, connect2

TWO_OR_ONE = "Two round trips or one"
UPSERTS = "Upserts: `INSERT ... ON CONFLICT`"
DO_NOTHING = "`DO NOTHING`: and what RETURNING gives back"
AWKWARD_USER = "Grace O'Hopper \"amazing\" ☕"


def _one_statement(conn: RecordingConnection2) -> bool:
    return same(len(conn.sent), 1, f"statements sent ({shown([s.verb for s in conn.sent])})")


@exercise_check("7.1", "Insert and learn the id in one round trip")
def check_7_1(check: Exercise, add_user: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        email = f"grace-{uuid.uuid4().hex}@example.com"
        got: list[Any] = []
        if check.expect(f"add_user(cur, {AWKWARD_USER!r}, email) returned (id, created_at)",
                        lambda: got.append(add_user(cur, AWKWARD_USER, email)) or _pair(got[0]),
                        "INSERT ... RETURNING id, created_at, then return cur.fetchone()", see=TWO_OR_ONE):
            check.expect("in one round trip", lambda: _one_statement(conn),
                         "end the INSERT with RETURNING id, created_at: no second SELECT", see=TWO_OR_ONE)
            cur.execute("SELECT id, name, created_at FROM scratch_users WHERE email = %s", (email,))
            stored = cur.fetchone()
            check.expect("that id, that name and that created_at are what the server stored",
                         lambda: same(tuple(got[0]), stored and (stored[0], stored[2]), "(id, created_at)")
                         and same(stored and stored[1], AWKWARD_USER, "name"),
                         "return what RETURNING gave back, not a time taken in Python", see=TWO_OR_ONE)
    finally:
        closing_quietly(conn)


def _pair(got: object) -> bool:
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[1], datetime):
        raise Wrong(f"got {shown(got)}, expected a pair (id, created_at)")
    return True


@exercise_check("7.2", "An upsert that says what it did")
def check_7_2(check: Exercise, save_preference: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        cur.execute("DELETE FROM scratch_user_preferences WHERE user_id = 7002")
        for value, wanted in (("it's dark", "inserted"), ("it's dark", "unchanged"), ("light", "updated"),
                              ("it's dark", "updated"), ("it's dark", "unchanged")):
            conn.sent.clear()
            check.expect(f"save_preference(cur, 7002, 'theme', {value!r}) -> {wanted!r}, in one statement",
                         lambda value=value, wanted=wanted: same(save_preference(cur, 7002, "theme", value), wanted)
                         and _one_statement(conn),
                         "ON CONFLICT (user_id, key) DO UPDATE SET ... WHERE p.value IS DISTINCT FROM "
                         "EXCLUDED.value RETURNING old.id IS NULL (no row: unchanged)", see=UPSERTS)
        cur.execute("SELECT value, ctid::text FROM scratch_user_preferences WHERE user_id = 7002 AND key = 'theme'")
        before = cur.fetchone()
        check.expect("the stored value is \"it's dark\"", lambda: same(before and before[0], "it's dark", "value"),
                     see=UPSERTS)

        def unchanged_writes_nothing() -> bool:
            same(save_preference(cur, 7002, "theme", "it's dark"), "unchanged")
            cur.execute("SELECT value, ctid::text FROM scratch_user_preferences WHERE user_id = 7002 AND key = 'theme'")
            return same(cur.fetchone(), before, "(value, ctid) after")
        check.expect("an unchanged value writes no new row version (same ctid)", unchanged_writes_nothing,
                     "add WHERE p.value IS DISTINCT FROM EXCLUDED.value to DO UPDATE", see=UPSERTS)
    finally:
        closing_quietly(conn)


@exercise_check("7.3", "Get or create, in one statement")
def check_7_3(check: Exercise, preference_id: Callable[..., Any], url: str | None = None) -> None:
    conn = connect2(course_url(url))
    try:
        cur = conn.cursor()
        cur.execute("DELETE FROM scratch_user_preferences WHERE user_id = 7003")
        ids: list[Any] = []
        versions: list[Any] = []
        for value in ("it's dark", "light", "light"):
            conn.sent.clear()
            check.expect(f"preference_id(cur, 7003, 'theme', {value!r}) returns an id in one statement",
                         lambda value=value: ids.append(preference_id(cur, 7003, "theme", value)) or
                         _int(ids[-1]) and _one_statement(conn),
                         "WITH ins AS (INSERT ... ON CONFLICT DO NOTHING RETURNING id) SELECT id FROM ins "
                         "UNION ALL SELECT id FROM ... WHERE ... LIMIT 1", see=DO_NOTHING)
            cur.execute("SELECT ctid::text FROM scratch_user_preferences WHERE user_id = 7003")
            versions.append(cur.fetchone())
        check.expect("the same id every time", lambda: same(len(set(ids)), 1, f"ids {shown(ids)}"), see=DO_NOTHING)
        cur.execute("SELECT value FROM scratch_user_preferences WHERE user_id = 7003")
        check.expect("the existing preference is left as it is: value and row version",
                     lambda: same(cur.fetchall(), [("it's dark",)], "stored") and
                     same(len(set(versions)), 1, "row versions (ctid)"),
                     "DO NOTHING, not DO UPDATE: an update writes a new row version even when nothing changes",
                     see=DO_NOTHING)
    finally:
        closing_quietly(conn)


def _int(got: object) -> bool:
    if type(got) is not int:
        raise Wrong(f"got {shown(got)}, expected the id (an int)")
    return True
