"""The lesson's product-catalogue service, as a module you can import and test.

It assembles the course's patterns: one ``ThreadedConnectionPool`` created at start-up, a
``get_db()`` context manager that commits or rolls back and always returns the connection,
parameterized queries, JSONB and ``TEXT[]`` columns, ``RETURNING`` and a ``COPY`` bulk loader.

Differences from the lesson's ``product_catalogue.py``, each on purpose:

* The schema is not a second copy in a string: ``init_db()`` runs ``data/schema.sql``, the file
  the course database itself is built from.
* ``get_db()`` before ``init_pool()`` raises :class:`PoolNotInitialized` with a message that says
  what to call, instead of ``AttributeError: 'NoneType' object has no attribute 'getconn'``. A
  connection that broke while borrowed is closed, not handed to the next caller.
* ``update_stock()`` turns the ``CHECK (stock >= 0)`` violation into :class:`InsufficientStock`.
* ``bulk_create_products()`` quotes every array element, so tags with commas, quotes, braces,
  backslashes or the word NULL come back exactly as they went in (the lesson's ``"{" +
  ",".join(tags) + "}"`` splits ``'kids, 3+'`` into two tags and fails on a double quote). It can
  load in chunks with a progress bar.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from pglab.errors import PglabError
from pglab.settings import load_settings

__all__ = [
    "COLUMNS",
    "CatalogueError",
    "InsufficientStock",
    "PoolNotInitialized",
    "Product",
    "bulk_create_products",
    "close_pool",
    "create_product",
    "delete_product",
    "get_db",
    "get_product",
    "init_db",
    "init_pool",
    "list_products_by_category",
    "pg_array_literal",
    "schema_sql",
    "search_by_metadata",
    "search_by_tag",
    "update_stock",
]

logger = logging.getLogger(__name__)

# uuid.UUID in and out. (JSONB already comes back as dict/list: psycopg2 does that by default.)
psycopg2.extras.register_uuid()

COLUMNS = "id, name, price, category, tags, metadata, stock, created_at, updated_at"


class CatalogueError(PglabError):
    """An expected failure of the catalogue service, with a message that says what happened."""


class PoolNotInitialized(CatalogueError):
    """``get_db()`` was called before ``init_pool()`` (or after ``close_pool()``)."""


class InsufficientStock(CatalogueError):
    """``update_stock()`` would take stock below zero; the database's CHECK refused it."""


# ---------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------


@dataclass
class Product:
    id: uuid.UUID | None
    name: str
    price: float
    category: str
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    stock: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Product:
        """Build a Product from a dict-like row (e.g. a ``RealDictRow``) holding every column."""
        return cls(
            id=row["id"],
            name=row["name"],
            price=float(row["price"]),
            category=row["category"],
            tags=list(row["tags"]) if row["tags"] else [],
            metadata=dict(row["metadata"]) if row["metadata"] else {},
            stock=row["stock"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


# ---------------------------------------------------------------------------
# Pool management
# ---------------------------------------------------------------------------

_pool: psycopg2.pool.ThreadedConnectionPool | None = None


def init_pool(dsn: str | None = None, min_conn: int = 2, max_conn: int = 10) -> None:
    """Create the connection pool (once, at start-up). ``dsn`` defaults to ``$DATABASE_URL``."""
    global _pool
    if dsn is None:
        dsn = os.environ.get("DATABASE_URL")
        if not dsn:
            raise CatalogueError("init_pool() needs a dsn: pass one or set DATABASE_URL")
    if _pool is not None and not _pool.closed:
        _pool.closeall()  # calling init_pool twice replaces the pool instead of leaking one
    _pool = psycopg2.pool.ThreadedConnectionPool(
        minconn=min_conn,
        maxconn=max_conn,
        dsn=dsn,
        connect_timeout=5,  # give up connecting after 5 s
        keepalives=1,  # TCP keepalives: notice a silently dropped connection
        keepalives_idle=60,
        keepalives_interval=10,
        keepalives_count=5,
        cursor_factory=psycopg2.extras.RealDictCursor,
        options="-c statement_timeout=30000",  # cancel any statement running over 30 s
    )
    logger.info("Pool ready (min=%d, max=%d)", min_conn, max_conn)


def close_pool() -> None:
    """Close every pooled connection (at shutdown). Safe to call twice."""
    global _pool
    if _pool is not None:
        if not _pool.closed:
            _pool.closeall()
        _pool = None
        logger.info("Pool closed")


@contextmanager
def pooled_connection(pool: psycopg2.pool.AbstractConnectionPool) -> Iterator[psycopg2.extensions.connection]:
    """Borrow from ``pool``: commit on a clean exit, roll back on an exception, always give it back,
    and a connection that broke is closed rather than handed to the next caller (Part 3's lesson)."""
    conn = pool.getconn()
    try:
        yield conn
        conn.commit()
    except BaseException:
        with suppress(psycopg2.Error):  # a broken connection cannot roll back: closed below
            conn.rollback()
        raise
    finally:
        pool.putconn(conn, close=bool(conn.closed))


@contextmanager
def get_db() -> Iterator[psycopg2.extensions.connection]:
    """Borrow a connection from the catalogue's pool (see :func:`pooled_connection`)."""
    pool = _pool
    if pool is None or pool.closed:
        raise PoolNotInitialized(
            "the catalogue has no connection pool: call init_pool() (or init_pool(dsn)) first"
        )
    with pooled_connection(pool) as conn:
        yield conn


# ---------------------------------------------------------------------------
# Schema setup
# ---------------------------------------------------------------------------


def schema_sql() -> str:
    """The catalogue's schema: the text of ``data/schema.sql`` (its only source)."""
    return (load_settings().data_dir / "schema.sql").read_text(encoding="utf-8")


def init_db() -> None:
    """Create the table and its indexes if they are missing (the schema file uses IF NOT EXISTS)."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(schema_sql())


# ---------------------------------------------------------------------------
# CRUD
# ---------------------------------------------------------------------------


def _one(cur: psycopg2.extensions.cursor) -> Product | None:
    row = cur.fetchone()
    return Product.from_row(row) if row else None


def _all(cur: psycopg2.extensions.cursor) -> list[Product]:
    return [Product.from_row(row) for row in cur.fetchall()]


def create_product(
    name: str,
    price: float,
    category: str,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    stock: int = 0,
) -> Product:
    """Insert a product and return the stored row (id, timestamps) via RETURNING: one round trip."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO products (name, price, category, tags, metadata, stock)
            VALUES (%s, %s, %s, %s, %s, %s)
            RETURNING {COLUMNS}
            """,
            (name, price, category, list(tags or []), psycopg2.extras.Json(metadata or {}), stock),
        )
        product = _one(cur)
    assert product is not None  # INSERT ... RETURNING always returns the inserted row
    return product


def get_product(product_id: uuid.UUID) -> Product | None:
    """One product by id, or None."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {COLUMNS} FROM products WHERE id = %s", (product_id,))
        return _one(cur)


def list_products_by_category(category: str) -> list[Product]:
    """Every product in ``category``, cheapest first (uses idx_products_category)."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM products WHERE category = %s ORDER BY price ASC, name",
            (category,),
        )
        return _all(cur)


def search_by_tag(tag: str) -> list[Product]:
    """Every product carrying ``tag``, by name.

    Written ``tags @> ARRAY[%s]`` so the GIN index idx_products_tags can answer it; the lesson's
    ``%s = ANY(tags)`` returns the same rows but can only scan the whole table.
    """
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM products WHERE tags @> ARRAY[%s]::text[] ORDER BY name, id",
            (tag,),
        )
        return _all(cur)


def search_by_metadata(criteria: Mapping[str, Any]) -> list[Product]:
    """Products whose JSONB metadata contains ``criteria`` (``@>``, uses idx_products_metadata)."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT {COLUMNS} FROM products WHERE metadata @> %s ORDER BY name, id",
            (psycopg2.extras.Json(dict(criteria)),),
        )
        return _all(cur)


def update_stock(product_id: uuid.UUID, delta: int) -> Product | None:
    """Add ``delta`` (negative: remove) to a product's stock; the updated row, or None if no such id.

    The column's ``CHECK (stock >= 0)`` decides whether there is enough: a change that would go
    below zero raises :class:`InsufficientStock` and changes nothing.
    """
    try:
        with get_db() as conn, conn.cursor() as cur:
            cur.execute(
                f"""
                UPDATE products
                   SET stock = stock + %s, updated_at = NOW()
                 WHERE id = %s
                RETURNING {COLUMNS}
                """,
                (delta, product_id),
            )
            return _one(cur)
    except psycopg2.errors.CheckViolation as err:
        raise InsufficientStock(
            f"update_stock({product_id}, {delta}) refused: stock cannot go below zero "
            f"(constraint {err.diag.constraint_name}); nothing was changed"
        ) from err


def delete_product(product_id: uuid.UUID) -> bool:
    """Delete a product; True if a row was deleted."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM products WHERE id = %s RETURNING id", (product_id,))
        return cur.fetchone() is not None


# ---------------------------------------------------------------------------
# Bulk insert via COPY
# ---------------------------------------------------------------------------

COPY_SQL = "COPY products (name, price, category, tags, metadata, stock) FROM STDIN WITH (FORMAT csv)"


def pg_array_literal(items: Iterable[str]) -> str:
    """A PostgreSQL array literal in which every element is double-quoted and escaped.

    Inside ``"..."`` only ``\\`` and ``"`` are special, so ``{"a,b","say \\"hi\\"","NULL"}`` is three
    strings whatever they contain; ``[]`` gives ``{}``.
    """
    quoted = []
    for item in items:
        text = str(item)
        if "\x00" in text:
            raise ValueError(f"PostgreSQL text cannot contain NUL characters: {text!r}")
        quoted.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(quoted) + "}"


def _csv_chunk(products: Iterable[Mapping[str, Any]]) -> tuple[io.StringIO, int]:
    buffer = io.StringIO()
    # QUOTE_ALL: a quoted empty string is '' in COPY's CSV format, an unquoted one would be NULL.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    count = 0
    for p in products:
        writer.writerow([
            p["name"],
            p["price"],
            p["category"],
            pg_array_literal(p.get("tags") or []),
            json.dumps(p.get("metadata") or {}),
            p.get("stock", 0),
        ])
        count += 1
    buffer.seek(0)
    return buffer, count


def bulk_create_products(
    products: Iterable[Mapping[str, Any]],
    progress: bool = False,
    chunk_size: int = 5_000,
) -> int:
    """Insert many products with ``COPY ... FROM STDIN``; returns the number of rows inserted.

    Each mapping needs ``name``, ``price``, ``category``; ``tags`` (list of str), ``metadata``
    (dict) and ``stock`` (int) are optional. Rows go in chunks of ``chunk_size`` (one COPY each)
    inside one transaction: all rows or none. ``progress=True`` shows a tqdm bar per row.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    total = len(products) if isinstance(products, Sequence) else None
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="rows", desc="COPY products")
    inserted = 0
    rows = iter(products)
    try:
        with get_db() as conn, conn.cursor() as cur:
            while True:
                buffer, count = _csv_chunk(itertools.islice(rows, chunk_size))
                if count == 0:
                    break
                cur.copy_expert(COPY_SQL, buffer)
                inserted += cur.rowcount
                if bar is not None:
                    bar.update(count)
    finally:
        if bar is not None:
            bar.close()
    return inserted
