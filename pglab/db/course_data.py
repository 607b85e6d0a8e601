"""The course database: its role, its contents, and putting them back.

One source of truth: ``data/schema.sql`` creates the tables, ``data/copy_products.sql`` is the
COPY statement, ``data/products.csv`` the rows. The embedded path, docker compose
(``docker/initdb/``) and the tests all load those same three files.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from pglab.errors import DatabaseUnreachable, DataError, one_line
from pglab.settings import COURSE_DATABASE, COURSE_ROLE, mask_password

DATA_FILES = ("schema.sql", "copy_products.sql", "products.csv")


def connect(url: str, **kwargs: object) -> psycopg2.extensions.connection:
    """psycopg2.connect with a one-line error that names the (masked) URL and what to try."""
    return _connect_or_explain(url, f"cannot connect to {mask_password(url)}",
                               "check that the server is running and the URL is right, or unset DATABASE_URL "
                               "to use the embedded server", **kwargs)


def _connect_or_explain(dsn: str, failed: str, advice: str, **kwargs: object) -> psycopg2.extensions.connection:
    kwargs.setdefault("connect_timeout", 5)
    try:
        return psycopg2.connect(dsn, **kwargs)
    except psycopg2.OperationalError as err:
        reason = one_line(err)
        raise DatabaseUnreachable(f"{failed}: {reason} - {advice}") from None


def url_from_libpq_variables(names: tuple[str, ...]) -> str:
    """The URL of the server that libpq's ``PG*`` variables point at, without a password.

    Notebooks, ``%sql`` and ``pglab db url`` need a URL where the learner set variables; libpq fills
    in the password from ``PGPASSWORD`` or ``~/.pgpass`` when the URL is used.
    """
    conn = _connect_or_explain("", f"cannot connect with the libpq variables {', '.join(names)}",
                               "check them, or unset them to use the embedded server")
    try:
        params = conn.get_dsn_parameters()
    finally:
        conn.close()
    user, dbname = quote(params.get("user", ""), safe=""), quote(params.get("dbname", ""), safe="")
    host, port = params.get("host", "localhost"), params.get("port", "5432")
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}@/{dbname}?host={quote(host, safe='/')}&port={port}"
    return f"postgresql://{user}@{host}:{port}/{dbname}"


def check_data_files(data_dir: Path) -> None:
    missing = [name for name in DATA_FILES if not (data_dir / name).is_file()]
    if missing:
        raise DataError(
            f"course data missing in {data_dir}: {', '.join(missing)} - "
            "run pglab from a checkout of the course or set PGLAB_DATA to its data/ folder"
        )


def ensure_course_role_and_database(admin_url: str, course_password: str) -> bool:
    """Create the learner role and the empty course database; return True if it was created."""
    conn = connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (COURSE_ROLE,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(sql.Identifier(COURSE_ROLE)),
                    (course_password,),
                )
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (COURSE_DATABASE,))
            if cur.fetchone() is not None:
                return False
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(COURSE_DATABASE), sql.Identifier(COURSE_ROLE)
                )
            )
            return True
    finally:
        conn.close()


def products_loaded(url: str) -> bool:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.products') IS NOT NULL")
            row = cur.fetchone()
            return bool(row and row[0])
    finally:
        conn.close()


def load_course_data(conn: psycopg2.extensions.connection, data_dir: Path) -> int:
    """Create the schema and COPY the catalogue in, inside the caller's transaction."""
    check_data_files(data_dir)
    with conn.cursor() as cur:
        cur.execute((data_dir / "schema.sql").read_text())
        with (data_dir / "products.csv").open(encoding="utf-8", newline="") as rows:
            cur.copy_expert((data_dir / "copy_products.sql").read_text(), rows)
        return cur.rowcount


def reset_course_database(url: str, data_dir: Path) -> tuple[int, int]:
    """Rebuild everything in the course database's ``public`` schema from ``data/``.

    Other sessions on this database (a notebook kernel holding a lock, a transaction left open)
    are ended first, so the reset cannot hang; they reconnect on their next query. Returns
    (sessions ended, products loaded). Files on disk are never touched.
    """
    check_data_files(data_dir)
    conn = connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            row = cur.fetchone()
            ended = int(row[0]) if row else 0
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '10s'")
            cur.execute("DROP SCHEMA IF EXISTS public CASCADE")
            cur.execute("CREATE SCHEMA public")
        loaded = load_course_data(conn, data_dir)
        conn.commit()
        return ended, loaded
    except psycopg2.Error as err:
        conn.rollback()
        reason = one_line(err)
        raise DataError(f"could not rebuild the course database: {reason}") from None
    finally:
        conn.close()
