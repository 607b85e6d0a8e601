"""Bulk loading: executemany vs execute_values vs COPY, with psycopg2 and psycopg 3.

Generated product rows (name, price, category, tags TEXT[], metadata JSONB, stock) are loaded into a
scratch table shaped like ``products`` (created, truncated between runs, and dropped by the script):

- psycopg2 ``cursor.executemany`` (one INSERT round trip per row);
- psycopg2 ``psycopg2.extras.execute_values`` (multi-row INSERTs, ``page_size`` rows each);
- psycopg2 ``cursor.copy_expert`` with CSV built by ``csv.writer`` into a ``StringIO``;
- psycopg 3 ``cursor.copy()`` + ``write_row`` (the driver formats every value, lists included);
- psycopg 3 ``cursor.executemany`` (pipelined: no round trip per row).

Each timing covers building the data the driver needs, the load and the commit. The median of
``--repeat`` runs is printed per method, with its speed-up over psycopg2 executemany. The database
is ``DATABASE_URL`` if set, otherwise the course database (started if needed)::

    python benchmarks/copy_vs_insert.py                    # 20,000 rows, 3 runs per method
    python benchmarks/copy_vs_insert.py --rows 100000 --repeat 1
    python benchmarks/copy_vs_insert.py --indexes          # keep products' indexes on the scratch table
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg.types.json import Jsonb

from pglab.learner.catalogue import pg_array_literal

TABLE = "scratch_bench_products"
COLUMNS = "name, price, category, tags, metadata, stock"
INSERT = f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
COPY_CSV = f"COPY {TABLE} ({COLUMNS}) FROM STDIN WITH (FORMAT csv)"
COPY_TEXT = f"COPY {TABLE} ({COLUMNS}) FROM STDIN"

Row = tuple[str, float, str, list[str], dict[str, Any], int]
Psycopg2Conn = psycopg2.extensions.connection

CATEGORIES = ["electronics", "books", "kitchen", "garden", "toys", "sports", "clothing", "office"]
TAGS = ["python", "async", "postgresql", "eco-friendly", "sale", "new-arrival", "kids, 3+", '12" vinyl']


def make_rows(n: int, seed: int = 7) -> list[Row]:
    """``n`` product-like rows; a few tags contain a comma or a double quote, as in the catalogue."""
    rng = random.Random(seed)
    return [
        (
            f"Bulk Item {i}",
            round(rng.uniform(1, 500), 2),
            rng.choice(CATEGORIES),
            rng.sample(TAGS, rng.randint(0, 3)),
            {"brand": f"Brand {i % 50}", "rating": round(rng.uniform(1, 5), 1), "reviews": rng.randint(0, 5000)},
            rng.randint(0, 1000),
        )
        for i in range(n)
    ]


def load_executemany(conn: Psycopg2Conn, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur:
        cur.executemany(INSERT, [(n, p, c, t, psycopg2.extras.Json(m), s) for n, p, c, t, m, s in rows])
    conn.commit()


def load_execute_values(conn: Psycopg2Conn, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur:  # page_size=100 rows per INSERT statement, the default
        psycopg2.extras.execute_values(
            cur, f"INSERT INTO {TABLE} ({COLUMNS}) VALUES %s",
            [(n, p, c, t, psycopg2.extras.Json(m), s) for n, p, c, t, m, s in rows],
        )
    conn.commit()


def load_copy_expert(conn: Psycopg2Conn, rows: Sequence[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for name, price, category, tags, metadata, stock in rows:
        writer.writerow([name, price, category, pg_array_literal(tags), json.dumps(metadata), stock])
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.copy_expert(COPY_CSV, buffer)
    conn.commit()


def load_copy3(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur, cur.copy(COPY_TEXT) as copy:
        for name, price, category, tags, metadata, stock in rows:
            copy.write_row((name, price, category, tags, Jsonb(metadata), stock))
    conn.commit()


def load_executemany3(conn: psycopg.Connection, rows: Sequence[Row]) -> None:
    with conn.cursor() as cur:
        cur.executemany(INSERT, [(n, p, c, t, Jsonb(m), s) for n, p, c, t, m, s in rows])
    conn.commit()


EXECUTEMANY = "psycopg2 executemany"
METHODS: dict[str, str] = {
    EXECUTEMANY: "pg2",
    "psycopg2 execute_values": "pg2",
    "psycopg2 copy_expert (CSV)": "pg2",
    "psycopg 3 copy + write_row": "pg3",
    "psycopg 3 executemany (pipelined)": "pg3",
}
LOADERS: dict[str, Callable[[Any, Sequence[Row]], None]] = {
    EXECUTEMANY: load_executemany,
    "psycopg2 execute_values": load_execute_values,
    "psycopg2 copy_expert (CSV)": load_copy_expert,
    "psycopg 3 copy + write_row": load_copy3,
    "psycopg 3 executemany (pipelined)": load_executemany3,
}


def create_table(conn: Psycopg2Conn, indexes: bool) -> None:
    like = "INCLUDING ALL" if indexes else "INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
    with conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (LIKE products {like})")
    conn.commit()


def contents_and_truncate(conn: Psycopg2Conn) -> tuple[int, str]:
    """Row count and a digest of every loaded value (the same for every method), then TRUNCATE."""
    with conn.cursor() as cur:
        cur.execute(f"""SELECT count(*), md5(string_agg(concat_ws('|', name, price, category, tags::text,
                                                                 metadata::text, stock), ',' ORDER BY name))
                        FROM {TABLE}""")
        count, digest = cur.fetchone()
        cur.execute(f"TRUNCATE {TABLE}")
    conn.commit()
    return count, digest


def run(url: str, n_rows: int, repeat: int, indexes: bool) -> dict[str, list[float]]:
    rows = make_rows(n_rows)
    pg2 = psycopg2.connect(url)
    pg3 = psycopg.connect(url)
    connections = {"pg2": pg2, "pg3": pg3}
    results: dict[str, list[float]] = {}
    digests: dict[str, str] = {}
    try:
        create_table(pg2, indexes)
        for name, loader in LOADERS.items():
            conn = connections[METHODS[name]]
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                loader(conn, rows)
                samples.append(time.perf_counter() - start)
                loaded, digests[name] = contents_and_truncate(pg2)
                if loaded != n_rows or digests[name] != digests[EXECUTEMANY]:
                    raise RuntimeError(f"{name} loaded {loaded} rows (expected {n_rows}) "
                                       f"or different values than executemany")
            results[name] = samples
            print(f"  {name:<36} median {statistics.median(samples):8.3f} s "
                  f"({', '.join(f'{s:.3f}' for s in samples)})", flush=True)
    finally:
        try:
            with pg2.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            pg2.commit()
        finally:
            pg3.close()
            pg2.close()
    return results


def report(results: dict[str, list[float]], n_rows: int) -> str:
    base = statistics.median(results[EXECUTEMANY])
    width = max(len(name) for name in results)
    lines = [f"{'method':<{width}}  {'median':>9}  {'rows/s':>10}  {'vs executemany':>14}"]
    for name, samples in results.items():
        m = statistics.median(samples)
        lines.append(f"{name:<{width}}  {m:>7.3f} s  {n_rows / m:>10,.0f}  {base / m:>13.1f}x")
    copy_ratio = base / statistics.median(results["psycopg2 copy_expert (CSV)"])
    lines.append("")
    lines.append(f"COPY (psycopg2 copy_expert) vs executemany: {copy_ratio:.1f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows per load (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed loads per method (default 3)")
    parser.add_argument("--indexes", action="store_true",
                        help="copy products' indexes (primary key, GIN on tags and metadata) to the scratch table")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL")
    if not url:
        from pglab.db.provision import database_url

        url = database_url()
    shape = "with products' indexes" if args.indexes else "no indexes"
    print(f"loading {args.rows:,} rows into {TABLE} ({shape}), {args.repeat} run(s) per method")
    results = run(url, args.rows, args.repeat, args.indexes)
    print()
    print(report(results, args.rows))


if __name__ == "__main__":
    main()
