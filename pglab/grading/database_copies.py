"""One fresh database per submission, reachable only by that submission's own role.

A template database is built once from ``data/`` (and rebuilt when those files change); each
submission gets ``CREATE DATABASE … TEMPLATE`` (tens of milliseconds) owned by a throwaway login
role. ``pg_hba.conf`` (see :mod:`pglab.db.server`) lets members of ``pglab_submissions`` reach only the
database named like themselves; role defaults bound statement and lock waits. Afterwards the
database is dropped with FORCE and the role removed, so nothing a submission did survives it.

Every grading run holds an advisory lock on the server for as long as it lives (:class:`RunClaim`)
and names its databases after it, so the next run can tell a killed run's leftovers (lock gone with
its connection) from those of a run still going on the same server, and drops only the former.
Every admin call is bounded (connect, statement and lock timeouts) and a server that does not
answer becomes a :class:`~pglab.errors.GraderFault`, never a learner's zero.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from pglab.db import course_data, scratch_tablespace
from pglab.errors import DatabaseUnreachable, FaultKind, GraderFault
from pglab.grading.timeouts import TIMEOUTS, seconds

TEMPLATE = "pglab_grading_template"
TEMPLATE_OWNER = "pglab_template_owner"
SUBMISSIONS_GROUP = "pglab_submissions"
ROLE_DEFAULTS = {
    "statement_timeout": seconds(TIMEOUTS.submission_statement_s),
    "lock_timeout": seconds(TIMEOUTS.submission_lock_s),
    "idle_in_transaction_session_timeout": seconds(TIMEOUTS.submission_idle_s),
}
CONNECTION_LIMIT = 40
ADMIN_OPTIONS = (f"-c statement_timeout={seconds(TIMEOUTS.admin_statement_s)} "
                 f"-c lock_timeout={seconds(TIMEOUTS.admin_lock_s)}")
RUN_LOCK_CLASS = 0x70676C62  # pg_advisory_lock(class, run id): "pglb"
TEMPLATE_LOCK_CLASS = 0x70676C63  # pg_advisory_lock(class, 0): one run at a time checks or builds the template
RUN_NAME = re.compile(r"sub_([0-9a-f]{8})_")
# Before a copy: when the server started (to spot restarts), and whether its scratch tablespace is
# there (asked only as a superuser: pg_ls_dir needs one; after a reboot its folder is gone until the
# server's next start). And (PostgreSQL 16+) the submission role's password hashed with one SCRAM
# iteration, not 4096: the iterations slow down guessing a weak password from a stolen hash, and this
# one is 128 random bits, lives for one notebook and is never shown; what they cost was paid at every
# login, by the learner's kernel, the checks and the server alike (~15 ms of CPU per notebook).
COPY_SETTINGS = (
    "SELECT pg_postmaster_start_time(), "
    "CASE WHEN current_setting('server_version_num')::int >= 160000 "
    "THEN set_config('scram_iterations', '1', false) END, "
    "CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN EXISTS ("
    "SELECT 1 FROM pg_tablespace t, pg_ls_dir(pg_tablespace_location(t.oid), true, false) AS f(name) "
    "WHERE t.spcname = %s AND f.name LIKE 'PG\\_%%') ELSE false END")


@dataclass(frozen=True)
class SubmissionDatabase:
    name: str
    url: str
    server_started: datetime | None = None  # pg_postmaster_start_time() when it was made


@contextlib.contextmanager
def admin_connection(admin_url: str, database: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """An autocommit admin connection whose failures are grader faults (the server is ours to keep up)."""
    url = admin_url if database is None else _with_database(admin_url, database)
    try:
        conn = course_data.connect(url, options=ADMIN_OPTIONS)
    except DatabaseUnreachable as err:
        raise GraderFault(FaultKind.DATABASE, str(err)) from None
    try:
        conn.autocommit = True
        yield conn
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as err:
        raise GraderFault(FaultKind.DATABASE, str(err) or type(err).__name__) from None
    finally:
        conn.close()


class _KeptConnections(threading.local):
    """Each thread's admin connections kept between notebooks, by URL."""

    def __init__(self) -> None:
        self.by_url: dict[str, psycopg2.extensions.connection] = {}


_KEPT = _KeptConnections()


@contextlib.contextmanager
def kept_admin_connection(admin_url: str) -> Iterator[psycopg2.extensions.connection]:
    """Like :func:`admin_connection`, but kept by this thread for its next notebook's copy or drop.

    A login costs a backend process and a SCRAM exchange on both sides; making and dropping a copy
    took three of them per notebook. A connection that fails in any way is closed and forgotten,
    and its failure is a :class:`GraderFault` as with a fresh one; the next call logs in again.
    Not for session state that must end (advisory locks): that stays with :func:`admin_connection`.
    """
    conn = _KEPT.by_url.pop(admin_url, None)
    if conn is None or conn.closed:
        try:
            conn = course_data.connect(admin_url, options=ADMIN_OPTIONS)
        except DatabaseUnreachable as err:
            raise GraderFault(FaultKind.DATABASE, str(err)) from None
        conn.autocommit = True
    try:
        yield conn
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as err:
        conn.close()
        raise GraderFault(FaultKind.DATABASE, str(err) or type(err).__name__) from None
    except BaseException:
        conn.close()
        raise
    _KEPT.by_url[admin_url] = conn


class RunClaim:
    """This grading run's mark on the server: an advisory lock held on a connection of its own.

    The lock dies with the connection, so with the process however it ends; :func:`drop_leftovers`
    keeps the databases of runs whose lock is still held. After a server restart the claim is taken
    again before the next database is made.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.run_id = secrets.randbelow(0x7FFFFFFF) + 1
        self.label = f"{self.run_id:08x}"
        self._conn: psycopg2.extensions.connection | None = None
        self._lock = threading.Lock()
        self.hold()

    def hold(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    with self._conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    return
                except psycopg2.Error:
                    self._conn.close()
                    self._conn = None
            try:
                conn = course_data.connect(self.admin_url, options=ADMIN_OPTIONS)
                conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_lock(%s, %s)", (RUN_LOCK_CLASS, self.run_id))
            except (DatabaseUnreachable, psycopg2.Error) as err:
                raise GraderFault(FaultKind.DATABASE, str(err)) from None
            self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def data_fingerprint(data_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in course_data.DATA_FILES:
        digest.update((data_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def _with_database(url: str, database: str, role: str | None = None, password: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if role is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(role, safe='')}:{quote(password or '', safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, path="/" + database))


def ensure_template(admin_url: str, data_dir: Path) -> None:
    """Build (or rebuild, when data/ changed) the template every submission database copies.

    Runs starting at once on one server take turns (an advisory lock held by this connection, waited
    for at most the admin connection's lock_timeout): otherwise one would drop the template another
    is still loading.
    """
    fingerprint = data_fingerprint(data_dir)
    with admin_connection(admin_url) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, 0)", (TEMPLATE_LOCK_CLASS,))
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
        with admin_connection(admin_url, TEMPLATE) as template:
            template.autocommit = False
            with template.cursor() as cur:
                cur.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(TEMPLATE_OWNER)))
                cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(TEMPLATE_OWNER)))
            course_data.load_course_data(template, data_dir)
            with template.cursor() as cur:
                cur.execute("ANALYZE")
            template.commit()
        with conn.cursor() as cur:
            cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(TEMPLATE), sql.Literal(f"pglab data {fingerprint}")))
            cur.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                sql.Identifier(TEMPLATE)))


def create_submission_database(admin_url: str, label: str) -> SubmissionDatabase:
    """A fresh copy of the template, owned by a new role that can reach nothing else.

    ``label`` is the run's (:attr:`RunClaim.label`): it marks whose database this is.

    The copy goes to the embedded server's scratch tablespace on a RAM disk when it has one
    (:mod:`pglab.db.scratch_tablespace`: on this project's disks that cut a copy's cost 5-fold).
    """
    name = f"sub_{label}_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    with kept_admin_connection(admin_url) as conn:
        with conn.cursor() as cur:
            cur.execute(COPY_SETTINGS, (scratch_tablespace.NAME,))
            started, _, scratch = cur.fetchone()
            ident = sql.Identifier(name)
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s CONNECTION LIMIT {} IN ROLE {}").format(
                    ident, sql.Literal(CONNECTION_LIMIT), sql.Identifier(SUBMISSIONS_GROUP)),
                (password,),
            )
            for key, value in ROLE_DEFAULTS.items():
                cur.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(
                    ident, sql.Identifier(key), sql.Literal(value)))
            where = sql.SQL(" TABLESPACE {}" if scratch else "").format(sql.Identifier(scratch_tablespace.NAME))
            cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}{}").format(
                ident, sql.Identifier(TEMPLATE), ident, where))
        with admin_connection(admin_url, name) as copy, copy.cursor() as cur:
            cur.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(TEMPLATE_OWNER), ident))
    return SubmissionDatabase(name=name, url=_with_database(admin_url, name, role=name, password=password),
                              server_started=started)


def drop_submission_database(admin_url: str, name: str) -> datetime | None:
    """Drop a submission's database and role; return when the server was started (to spot restarts)."""
    with kept_admin_connection(admin_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
        cur.execute("SELECT pg_postmaster_start_time()")
        started: datetime | None = cur.fetchone()[0]
    return started


def drop_leftovers(admin_url: str) -> int:
    """Remove submission databases and roles of grading runs that are gone (killed, or lost their server).

    A run still holding its advisory lock keeps its databases: two runs may share one server.
    """
    with admin_connection(admin_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = %s "
                    "AND objsubid = 2 AND granted", (RUN_LOCK_CLASS,))
        live = {f"{int(r[0]):08x}" for r in cur.fetchall()}
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sub\\_%' "
                    "UNION SELECT rolname FROM pg_roles WHERE rolname LIKE 'sub\\_%'")
        names = [r[0] for r in cur.fetchall()]
    leftovers = [n for n in names if not ((m := RUN_NAME.match(n)) and m.group(1) in live)]
    for name in leftovers:
        drop_submission_database(admin_url, name)
    return len(leftovers)
