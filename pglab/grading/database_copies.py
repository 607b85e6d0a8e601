"""One fresh database per submission, reachable only by that submission's own role.

A template database is built once from ``data/`` (and rebuilt when those files change); each
submission gets ``CREATE DATABASE … TEMPLATE`` (tens of milliseconds) owned by a throwaway login
role. ``pg_hba.conf`` (see :mod:`pglab.server`) lets members of ``pglab_submissions`` reach only the
database named like themselves; role defaults bound statement and lock waits. Afterwards the
database is dropped with FORCE and the role removed, so nothing a submission did survives it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from pglab import course_db

TEMPLATE = "pglab_grading_template"
TEMPLATE_OWNER = "pglab_template_owner"
SUBMISSIONS_GROUP = "pglab_submissions"
ROLE_DEFAULTS = {
    "statement_timeout": "8s",
    "lock_timeout": "3s",
    "idle_in_transaction_session_timeout": "30s",
}
CONNECTION_LIMIT = 40


@dataclass(frozen=True)
class SubmissionDatabase:
    name: str
    url: str


def data_fingerprint(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in course_db.DATA_FILES:
        digest.update((data_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def _admin(admin_url: str) -> psycopg2.extensions.connection:
    conn = course_db.connect(admin_url)
    conn.autocommit = True
    return conn


def _with_database(url: str, database: str, role: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if role is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(role, safe='')}:{quote(password or '', safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


def ensure_template(admin_url: str, data_dir: Path) -> None:
    """Build (or rebuild, when data/ changed) the template every submission database copies."""
    fingerprint = data_fingerprint(data_dir)
    conn = _admin(admin_url)
    try:
        with conn.cursor() as cur:
            for role in (TEMPLATE_OWNER, SUBMISSIONS_GROUP):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            cur.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (TEMPLATE,),
            )
            row = cur.fetchone()
            if row is not None and row[0] == f"pglab data {fingerprint}":
                return
            if row is not None:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))
            # The database itself stays the admin's: REASSIGN OWNED in each copy must move only
            # the objects inside it (schema, table, indexes), never the template.
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        template = course_db.connect(_with_database(admin_url, TEMPLATE))
        try:
            with template.cursor() as cur:
                cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(TEMPLATE_OWNER)))
                cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(TEMPLATE_OWNER)))
            course_db.load_course_data(template, data_dir)
            with template.cursor() as cur:
                cur.execute("ANALYZE")
            template.commit()
        finally:
            template.close()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(TEMPLATE), sql.Literal(f"pglab data {fingerprint}")))
            cur.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                sql.Identifier(TEMPLATE)))
    finally:
        conn.close()


def create_submission_database(admin_url: str, label: str) -> SubmissionDatabase:
    """A fresh copy of the template, owned by a new role that can reach nothing else."""
    name = f"sub_{label}_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    conn = _admin(admin_url)
    try:
        with conn.cursor() as cur:
            ident = sql.Identifier(name)
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s CONNECTION LIMIT {} IN ROLE {}").format(
                    ident, sql.Literal(CONNECTION_LIMIT), sql.Identifier(SUBMISSIONS_GROUP)),
                (password,),
            )
            for key, value in ROLE_DEFAULTS.items():
                cur.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    ident, sql.Identifier(key), sql.Literal(value)))
            cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                ident, sql.Identifier(TEMPLATE), ident))
        copy = course_db.connect(_with_database(admin_url, name))
        copy.autocommit = True
        try:
            with copy.cursor() as cur:
                cur.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                    sql.Identifier(TEMPLATE_OWNER), ident))
        finally:
            copy.close()
    finally:
        conn.close()
    return SubmissionDatabase(name=name, url=_with_database(admin_url, name, role=name, password=password))


def drop_submission_database(admin_url: str, name: str) -> None:
    conn = _admin(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def drop_leftovers(admin_url: str) -> int:
    """Remove submission databases and roles a killed grading run left behind."""
    conn = _admin(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sub\\_%'")
            names = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'sub\\_%'")
            names += [r[0] for r in cur.fetchall() if r[0] not in names]
    finally:
        conn.close()
    for name in names:
        drop_submission_database(admin_url, name)
    return len(names)
