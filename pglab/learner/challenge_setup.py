"""What every challenge notebook's locked set-up cell provides: the names the lesson's code uses.

``get_db()`` has the lesson's semantics: a connection from a pool whose cursors are
``RealDictCursor``; commit when the block succeeds, roll back when it raises, and the connection
always goes back to the pool. ``Product`` is the lesson's dataclass with ``from_row``.
"""

from __future__ import annotations

import contextlib
import os

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from pglab.learner.catalogue import Product, pooled_connection

__all__ = ["DATABASE_URL", "Product", "get_db", "pool"]

psycopg2.extras.register_uuid()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from pglab.db.provision import database_url

    return database_url()


DATABASE_URL = _database_url()
pool = psycopg2.pool.ThreadedConnectionPool(
    1, 8, dsn=DATABASE_URL, cursor_factory=psycopg2.extras.RealDictCursor, connect_timeout=5,
)


def get_db() -> contextlib.AbstractContextManager[psycopg2.extensions.connection]:
    """A pooled connection (commit, or roll back; a broken one is closed, never pooled again)."""
    return pooled_connection(pool)
