"""How much a connection pool saves: a new connection per request against a pooled checkout.

Each request runs ``SELECT 1`` and commits. Three ways of serving it are timed:

- connect + SELECT 1 + close (psycopg2), what a handler without a pool does;
- checkout + SELECT 1 + return with psycopg2's ``ThreadedConnectionPool``;
- the same with psycopg 3's ``psycopg_pool.ConnectionPool``.

The database is ``DATABASE_URL`` if set, otherwise the course database (started if needed)::

    python benchmarks/pool_vs_connect.py              # 500 requests per batch, 3 batches
    python benchmarks/pool_vs_connect.py -n 2000 -r 5
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import psycopg2
import psycopg2.pool
from psycopg_pool import ConnectionPool

from pglab.db.provision import database_url
from pglab.learner import measure
from pglab.settings import mask_password

CONNECT = "connect + SELECT 1 + close (psycopg2)"
PSYCOPG2_POOL = "ThreadedConnectionPool checkout + SELECT 1"
PSYCOPG_POOL = "psycopg_pool checkout + SELECT 1"


def connect_each_time(url: str) -> Callable[[], None]:
    def request() -> None:
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            conn.commit()
        finally:
            conn.close()

    return request


def psycopg2_checkout(pool: psycopg2.pool.ThreadedConnectionPool) -> Callable[[], None]:
    def request() -> None:
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            conn.commit()
        finally:
            pool.putconn(conn)

    return request


def psycopg_checkout(pool: ConnectionPool) -> Callable[[], None]:
    def request() -> None:
        with pool.connection() as conn:
            conn.execute("SELECT 1").fetchone()

    return request


def per_request(request: Callable[[], None], requests: int, repeats: int) -> list[float]:
    """Seconds per request: the duration of each batch of ``requests`` calls, divided by ``requests``."""
    for _ in range(5):  # warm up: first connections, caches, lazy imports
        request()

    def batch() -> None:
        for _ in range(requests):
            request()

    return [s / requests for s in measure.time_calls(batch, repeat=repeats, warmup=0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=500, help="requests per batch (default 500)")
    parser.add_argument("-r", "--repeats", type=int, default=3, help="timed batches per method (default 3)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.repeats < 1:
        parser.error("--requests and --repeats must be at least 1")

    url = os.environ.get("DATABASE_URL") or database_url()
    print(f"database: {mask_password(url)}")
    print(f"{args.repeats} batches of {args.requests} requests per method; medians per request\n")

    results = {CONNECT: per_request(connect_each_time(url), args.requests, args.repeats)}
    pool2 = psycopg2.pool.ThreadedConnectionPool(1, 1, url)
    try:
        results[PSYCOPG2_POOL] = per_request(psycopg2_checkout(pool2), args.requests, args.repeats)
    finally:
        pool2.closeall()
    with ConnectionPool(url, min_size=1, max_size=1, open=True) as pool3:
        results[PSYCOPG_POOL] = per_request(psycopg_checkout(pool3), args.requests, args.repeats)

    print(measure.summarize(results, unit="ms"))
    print()
    for name in (PSYCOPG2_POOL, PSYCOPG_POOL):
        pool_name = name.split(" checkout")[0]
        print(f"{pool_name} pooled checkout is {measure.ratio(results[CONNECT], results[name]):.1f}x "
              "faster than connecting")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
