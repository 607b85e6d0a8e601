"""Checks of Part 3's exercises: give the connection back, size the pools of a fleet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2.pool

from pglab.learner.exercise_checks import AWKWARD_NAME, closing_quietly, course_url, exercise_check, fixture_products
from pglab.learner.exercises import Exercise, Wrong, same, shown

GET_DB = "A `get_db()` that always gives the connection back"
LEAK = "Spotting a leak"
SIZE = "How big should a pool be?"
LIMIT = "The server's own limit"


@exercise_check("3.1", "Give the connection back")
def check_3_1(check: Exercise, safe_price: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    name = f"Exercise 3.1 {AWKWARD_NAME}"
    with fixture_products(url, [{"name": name, "price": "12.34", "category": "books"}]):
        pool = psycopg2.pool.ThreadedConnectionPool(1, 2, url, application_name="pglab-ex31")
        try:
            check.expect("five lookups of unknown products on a pool of 2: each None, no PoolError (nothing leaked)",
                         lambda: same([safe_price(pool, f"no such product #{n}") for n in range(5)], [None] * 5),
                         "put the connection back in a finally: block, not only on the happy path", see=GET_DB)
            check.expect(f"the price of {name!r} comes back as the float 12.34",
                         lambda: _float(safe_price(pool, name), 12.34),
                         "WHERE name = %s with (name,); float(row[0])", see=GET_DB)
            check.expect("an error inside the lookup reaches the caller, three times, and costs no connection",
                         lambda: _raises_three_times(safe_price, pool) and _float(safe_price(pool, name), 12.34),
                         "let the exception propagate (no except that returns None): "
                         "try/finally gives the connection back either way", see=LEAK)
        finally:
            closing_quietly(pool)


def _float(got: object, wanted: float) -> bool:
    if not isinstance(got, float):
        raise Wrong(f"got {shown(got)} of type {type(got).__name__}, expected the float {wanted}")
    return same(got, wanted)


def _raises_three_times(safe_price: Callable[..., Any], pool: Any) -> bool:
    for _ in range(3):
        try:
            got = safe_price(pool, object())  # psycopg2 cannot send an object(): the execute() raises
        except psycopg2.pool.PoolError:
            raise
        except Exception:
            continue
        raise Wrong(f"safe_price(pool, object()) returned {shown(got)} instead of raising")
    return True


@exercise_check("3.2", "Size the pools of a fleet")
def check_3_2(check: Exercise, pool_size_per_process: Callable[..., Any],
              server_limits: dict[str, int] | None = None) -> None:
    sample = {"max_connections": 100, "superuser_reserved_connections": 3, "reserved_connections": 0}
    cases: list[tuple[tuple[Any, ...], int]] = [
        ((sample, 1, 4), 23), ((sample, 3, 4), 7), ((sample, 3, 8, 0), 4), ((sample, 2, 1, 1), 48),
        ((sample, 1, 1, 97), 0), ((sample, 10, 10), 0), ((sample, 1, 1, 100), 0),
        (({**sample, "reserved_connections": 12}, 1, 4), 20), (({**sample, "max_connections": 5}, 1, 1), 0)]
    for args, wanted in cases:
        check.expect(f"pool_size_per_process({_limits(args[0])}, {', '.join(map(str, args[1:]))}) is {wanted}",
                     lambda args=args, wanted=wanted: _int(pool_size_per_process(*args), wanted),
                     "(max_connections - both reserved settings - spare) // (hosts * workers_per_host), "
                     "an int, never below 0", see=SIZE)
    # A learner may change the signature's default, and a server before PostgreSQL 16 has no
    # reserved_connections setting (server_limits() then has no such key): both must still size right.
    check.expect("pool_size_per_process({max=100, superuser=3, reserved=0}, 1, 1) is 92: spare defaults to 5",
                 lambda: _int(pool_size_per_process(sample, 1, 1), 92),
                 "keep the default spare=5 of the signature", see=SIZE)
    before_16 = {"max_connections": 100, "superuser_reserved_connections": 3}
    check.expect(f"pool_size_per_process({_limits(before_16)}, 1, 1) is 92 (before PostgreSQL 16: no reserved)",
                 lambda: _int(pool_size_per_process(before_16, 1, 1), 92),
                 "a missing reserved_connections counts as 0: limits.get(\"reserved_connections\", 0)", see=LIMIT)
    if server_limits:
        check.expect("on this server, 2 hosts × 2 workers get pools that fit",
                     lambda: 2 * 2 * pool_size_per_process(server_limits, 2, 2) + 5 <= _slots(server_limits),
                     "subtract both reserved settings from max_connections", see=LIMIT)


def _limits(limits: dict[str, int]) -> str:
    return "{" + ", ".join(f"{k.split('_')[0]}={v}" for k, v in limits.items()) + "}"


def _int(got: object, wanted: int) -> bool:
    if type(got) is not int:
        raise Wrong(f"got {shown(got)} of type {type(got).__name__}, expected the int {wanted}")
    return same(got, wanted)


def _slots(limits: dict[str, int]) -> int:
    return limits["max_connections"] - limits["superuser_reserved_connections"] - limits.get("reserved_connections", 0)
