"""Hidden checks for the upsert challenge (`set_price_watch`).

Each check adds its own product (category ``zz-grader-upsert``); deleting it afterwards removes its
watch too (ON DELETE CASCADE). Stored rows are read back with trusted SQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from pglab.checks.submission import LearnerCodeError

CATEGORY = "zz-grader-upsert"


def _first_line(message: str, limit: int) -> str:
    """The first line of a learner-side error, short enough for a one-line reason."""
    lines = message.strip().splitlines()
    return lines[0][:limit] if lines else ""


def _product(sub: Any, name: str) -> str:
    rows = sub.sql(
        "INSERT INTO products (name, price, category) VALUES (%s, 50, %s) RETURNING id::text AS id", (name, CATEGORY)
    )
    return rows[0]["id"]


def _cleanup(sub: Any) -> None:
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))


@pytest.fixture
def own_rows(sub):
    """The rows a check arranges in the submission's database: none left over from an interrupted
    check before it runs, none after it, whatever happened (a failure here fails the check)."""
    _cleanup(sub)
    yield
    _cleanup(sub)


def _stored(sub: Any, product: str) -> list[dict]:
    return sub.sql("SELECT target_price, note FROM price_watch WHERE product_id = %s", (product,))


def _first_call_works(sub: Any, product: str, price: float = 20.0) -> dict:
    got = sub.call("set_price_watch", product, price)
    assert isinstance(got, dict) and got.get("inserted") is True, (
        "make the first call for a product work first: it should return the new watch as a dict with inserted=True"
    )
    return got


def _moment(value: object, key: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        pytest.fail(f"{key} should be the timestamp that RETURNING {key} gives, got {value!r}")


@pytest.mark.points(2)
def test_second_call_updates_the_same_watch(sub, own_rows):
    """a second call for the same product updates its watch and says inserted=False"""
    product = _product(sub, "grader watch update")
    _first_call_works(sub, product, 50.0)
    got = sub.call("set_price_watch", product, 45.25, "second")
    assert isinstance(got, dict), f"the second call should return a dict, got {type(got).__name__}"
    assert got.get("inserted") is False, (
        f"the second call for the same product updated the row, so inserted should be False, got "
        f"{got.get('inserted')!r}: compute it in the statement, RETURNING ..., (xmax = 0) AS inserted"
    )
    assert got.get("target_price") == 45.25 and got.get("note") == "second", (
        f"the second call should return the new target_price 45.25 and note 'second', got "
        f"{got.get('target_price')!r} and {got.get('note')!r}: "
        "DO UPDATE SET target_price = EXCLUDED.target_price, note = EXCLUDED.note"
    )
    stored = _stored(sub, product)
    assert stored == [{"target_price": 45.25, "note": "second"}], (
        f"after the second call price_watch holds {stored} for the product: the update must change "
        "the one existing row"
    )


@pytest.mark.points(1)
def test_update_keeps_created_at_and_moves_updated_at(sub, own_rows):
    """an update keeps created_at and sets updated_at to the time of the update"""
    product = _product(sub, "grader watch timestamps")
    first = _first_call_works(sub, product)
    second = sub.call("set_price_watch", product, 18.0)
    assert isinstance(second, dict), f"the second call should return a dict, got {type(second).__name__}"
    created = (_moment(first.get("created_at"), "created_at"), _moment(second.get("created_at"), "created_at"))
    updated = (_moment(first.get("updated_at"), "updated_at"), _moment(second.get("updated_at"), "updated_at"))
    assert created[1] == created[0], (
        f"created_at changed from {first.get('created_at')} to {second.get('created_at')} on an update: "
        "leave created_at out of DO UPDATE SET, it records when the watch was first created"
    )
    assert updated[1] > updated[0], (
        f"updated_at stayed {second.get('updated_at')} after an update: set updated_at = now() in DO UPDATE SET"
    )


@pytest.mark.points(2)
def test_unknown_product_raises(sub, own_rows):
    """an unknown product_id raises (the foreign key), and the next call still works"""
    product = _product(sub, "grader watch unknown")
    _first_call_works(sub, product)
    ghost = str(uuid.uuid4())
    try:
        got = sub.call("set_price_watch", ghost, 10.0)
    except LearnerCodeError:
        pass
    else:
        pytest.fail(
            f"set_price_watch for a product that does not exist returned {got!r}: it must raise "
            "(the foreign key refuses the row), so do not catch the error"
        )
    left = sub.sql("SELECT count(*) AS n FROM price_watch WHERE product_id = %s", (ghost,))[0]["n"]
    assert left == 0, "a watch for a product that does not exist was stored"
    try:
        after = sub.call("set_price_watch", product, 9.0)
    except LearnerCodeError as err:
        pytest.fail(
            f"after the foreign-key error, the next call raised {err.type_name}: roll the "
            "failed transaction back (get_db() does) before the connection is used again"
        )
    assert isinstance(after, dict) and after.get("target_price") == 9.0, (
        f"after the foreign-key error, updating a real product's watch returned {after!r}"
    )


@pytest.mark.points(1)
def test_a_note_with_quotes_is_stored_as_sent(sub, own_rows):
    """a note with quotes and SQL-looking text is stored exactly: values are parameters"""
    note = "O'Brien's \"birthday\" list; -- 10% off, then DROP TABLE price_watch"
    _first_call_works(sub, _product(sub, "grader watch ordinary"))
    product = _product(sub, "grader watch note")
    try:
        got = sub.call("set_price_watch", product, 25.0, note)
    except LearnerCodeError as err:
        pytest.fail(
            f"a note with a quote raised {err.type_name} ({_first_line(err.message, 80)}): "
            "the value was pasted into the SQL text; pass it as a parameter, "
            "cur.execute(sql, (product_id, target_price, note))"
        )
    stored = [row["note"] for row in _stored(sub, product)]
    assert stored == [note], f"the note {note!r} was stored as {stored}: pass it as a parameter"
    assert isinstance(got, dict) and got.get("note") == note, (
        f"the note {note!r} came back as {got.get('note') if isinstance(got, dict) else got!r}: "
        "return the note column from RETURNING"
    )


RACE = """
import threading as _threading
import time as _time

import psycopg2 as _psycopg2

_box = {}


def _second_session():
    try:
        _box["value"] = set_price_watch(PRODUCT, 12.5, "second session")
    except Exception as exc:
        _box["error"] = f"{type(exc).__name__} ({str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"


_other = _psycopg2.connect(DATABASE_URL)
try:
    with _other.cursor() as _cur:
        _cur.execute("INSERT INTO price_watch (product_id, target_price, note) VALUES (%s, 99, 'first session')",
                     (PRODUCT,))
    _worker = _threading.Thread(target=_second_session)
    _worker.start()
    # Commit only once the learner's statement waits for the first session's uncommitted row (or 3 s).
    _watcher = _psycopg2.connect(DATABASE_URL)
    _watcher.autocommit = True
    try:
        _deadline = _time.monotonic() + 3
        while _time.monotonic() < _deadline and _worker.is_alive():
            with _watcher.cursor() as _cur:
                _cur.execute("SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND wait_event_type = 'Lock'")
                if _cur.fetchone()[0]:
                    break
            _time.sleep(0.02)
    finally:
        _watcher.close()
    _other.commit()
    _worker.join(8)
finally:
    _other.close()
result = {"value": _box.get("value"), "error": _box.get("error"), "finished": not _worker.is_alive()}
"""


@pytest.mark.points(2)
def test_holds_up_when_another_session_inserts_first(sub, own_rows):
    """a watch another session inserts at the same moment is updated, not a duplicate-key error"""
    _first_call_works(sub, _product(sub, "grader watch ordinary"))
    product = _product(sub, "grader watch race")
    got = sub.run(RACE.replace("PRODUCT", repr(product)), timeout=20)
    assert got["finished"], "set_price_watch was still waiting 8 s after the other session committed"
    assert got["error"] is None, (
        f"while another session was inserting a watch for the same product, your function raised "
        f"{got['error']}: checking first and inserting after is a race; let one statement decide, "
        "INSERT ... ON CONFLICT (product_id) DO UPDATE"
    )
    value = got["value"]
    assert isinstance(value, dict) and value.get("target_price") == 12.5, (
        f"the other session's row existed when your statement ran, so the result should be that watch "
        f"updated to target_price 12.5; got {value!r}"
    )
    stored = [row["target_price"] for row in _stored(sub, product)]
    assert stored == [12.5], (
        f"after both sessions the watch's target_price is {stored}: the later call "
        "should have updated the row the other session inserted"
    )
