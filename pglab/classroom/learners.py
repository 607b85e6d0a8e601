"""One database and one login role per learner, on the server at ``PGLAB_ADMIN_URL`` (or the embedded one).

Learner ``alice`` (their hub user name; :mod:`pglab.classroom.learner_names` turns names such as
``Jane.Doe`` or ``jane@example.org`` into plain, unique ones) gets a login role ``alice`` (a random
password, a connection limit, no CREATEDB, CREATEROLE, SUPERUSER, REPLICATION or BYPASSRLS; a member
of the NOLOGIN group ``pglab_learners``) and a database ``alice`` cloned from the grader's course
template (built from ``data/``, see :mod:`pglab.grading.database_copies`), owned by alice with
everything in it, and with every privilege revoked from PUBLIC. Role and database share one name so
that the embedded server's ``pg_hba.conf`` can say ``sameuser`` for the group: a learner's login
reaches their own database and no other, not even those that leave CONNECT to PUBLIC (``postgres``,
``catalogue``).

Passwords live in the table ``learner_logins`` of the database ``pglab_classroom`` on the same
server (beside each learner's hub name, so two hub names never share a database), which only the
admin role may open: whoever holds the admin URL (who could reset any
password anyway) can read them, nobody else. A hub, on one machine or on Kubernetes, needs nothing
but that URL to hand each learner theirs; there is no file to share or keep in step.

Adding is idempotent and re-asserts what keeps a learner contained (role attributes, password,
database owner and privileges), so adding a learner again also undoes what a learner may change
(their own password, a GRANT on their own database). All provisioning runs under one advisory lock
in ``pglab_classroom``, so concurrent hub spawns cannot race, and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import csv
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from pglab.classroom.learner_names import database_name, database_names
from pglab.db import course_data
from pglab.errors import DatabaseUnreachable, LearnerError, one_line
from pglab.grading.database_copies import TEMPLATE, TEMPLATE_OWNER, ensure_template
from pglab.settings import load_settings, mask_password

LEARNERS_GROUP = "pglab_learners"
CLASSROOM_DATABASE = "pglab_classroom"
# Bounds what one learner can take of the server's max_connections (Part 3's flood cell takes every
# slot it can get); room for the lessons' pools (up to 5) and a few notebooks open at once. No
# statement_timeout or other role defaults: the lessons set and SHOW those themselves.
CONNECTION_LIMIT = 10
PROVISIONED = "pglab learner database"  # the database's comment once its contents belong to the learner
LOCK_KEY = 1_400_014  # pg_advisory_lock key (in pglab_classroom): one provisioning at a time
LOCK_TIMEOUT = "60s"
ROSTER_COLUMNS = ("username", "login_id", "sis_login_id", "user", "login", "student_id", "id")


@dataclass(frozen=True)
class Learner:
    hub_name: str  # the name people know them by
    name: str  # their database and role
    url: str  # the learner's DATABASE_URL, password included
    added_now: bool  # False when the learner was there already (and was checked again)


@dataclass(frozen=True)
class LearnerStatus:
    hub_name: str
    name: str
    has_database: bool
    sessions: int


def read_roster(path: Path) -> list[str]:
    """Learner names from a CSV: the first column named like a login (``username``, ``login_id``,
    ``student_id``, ``id``...) of an LMS or nbgrader export, or a bare list with one name per line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise LearnerError(f"cannot read the roster {path}: {one_line(err)}") from None
    if not rows:
        raise LearnerError(f"the roster {path} has no names in it")
    header = [re.sub(r"[\s_]+", "_", cell.strip().lower()) for cell in rows[0][1]]
    column = next((header.index(c) for c in ROSTER_COLUMNS if c in header), None)
    if column is not None:
        numbered = [(number, row[column] if column < len(row) else "") for number, row in rows[1:]]
    elif len(header) == 1:
        numbered = [(number, row[0]) for number, row in rows]
    else:
        raise LearnerError(
            f"the roster {path} has no column named {', '.join(ROSTER_COLUMNS)}: give the login column "
            "one of these names, or list one learner name per line")
    names: list[str] = []
    bad: list[str] = []
    for number, cell in numbered:
        if not cell.strip():
            continue
        try:
            name = cell.strip().lower()  # an LMS export's logins, as JupyterHub's default normalisation has them
            database_name(name)
            names.append(name)
        except LearnerError:
            bad.append(f"line {number}: {cell.strip()!r}")
    if bad:
        shown = "; ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise LearnerError(
            f"the roster {path} has names that cannot be learner names ({shown}): a name must be non-empty, "
            "without control characters; nothing was added")
    if not names:
        raise LearnerError(f"the roster {path} has no names in it")
    return names


def add_learners(admin_url: str, names: Sequence[str]) -> list[Learner]:
    """Make sure each learner has their role, password and database; adding twice changes nothing."""
    wanted = _validated(names)
    with _provisioning(admin_url) as cur:
        ensure_template(admin_url, load_settings().data_dir)
        return [_ensure_one(cur, admin_url, hub_name, name) for hub_name, name in wanted.items()]


def ensure_learner(admin_url: str, hub_name: str) -> str:
    """The learner's DATABASE_URL, provisioning them first if needed (what a hub's pre_spawn_hook calls)."""
    return add_learners(admin_url, [hub_name])[0].url


def learner_url(admin_url: str, hub_name: str) -> str:
    """The learner's DATABASE_URL; provisions nothing (a LearnerError when the learner is not there)."""
    name = database_name(hub_name)
    missing = LearnerError(f"{hub_name} is not a learner on this server: run `pglab learners add {hub_name}` first")
    conn = _open_classroom(admin_url, create=False)
    if conn is None:
        raise missing
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM information_schema.columns "
                        "WHERE table_name = 'learner_logins' AND column_name = 'hub_name'")
            recorded = "hub_name" if cur.fetchone() else "NULL"  # NULL: an older pglab recorded no hub names
            cur.execute(f"SELECT password, {recorded} FROM learner_logins WHERE name = %s", (name,))
            row = cur.fetchone()
    except psycopg2.errors.UndefinedTable:
        row = None
    finally:
        conn.close()
    if row is None or row[1] not in (None, hub_name):
        raise missing
    return _learner_url(admin_url, name, row[0])


def reset_learner(admin_url: str, hub_name: str) -> Learner:
    """Give the learner a fresh copy of the course database (their sessions end; the password stays)."""
    name = database_name(hub_name)
    with _provisioning(admin_url) as cur:
        if not _role(cur, name).is_learner or _recorded_hub_name(cur, name) not in (None, hub_name):
            raise LearnerError(f"{hub_name} is not a learner on this server: run `pglab learners add {hub_name}`")
        ensure_template(admin_url, load_settings().data_dir)
        if _database_owner(cur, name) == name:
            cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        return _ensure_one(cur, admin_url, hub_name, name)


def remove_learners(admin_url: str, names: Sequence[str]) -> list[str]:
    """Drop the learners' databases and roles; returns the hub names removed (absent names are skipped)."""
    wanted = _validated(names)
    removed: list[str] = []
    with _provisioning(admin_url) as cur:
        for hub_name, name in wanted.items():
            role = _role(cur, name)
            if role.exists and not role.is_learner:
                raise LearnerError(f"{name} is a role on this server but not a pglab learner: left alone")
            if _recorded_hub_name(cur, name) not in (None, hub_name):
                continue  # the database of another hub user: not this one's to remove
            cur.execute("DELETE FROM learner_logins WHERE name = %s", (name,))
            if not role.exists:
                continue
            cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", (name,))
            if _database_owner(cur, name) == name:
                cur.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            try:
                cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
            except psycopg2.errors.DependentObjectsStillExist as err:
                raise LearnerError(
                    f"{name}'s database is gone but the role still owns objects elsewhere ({one_line(err)}): "
                    f"run REASSIGN OWNED BY {name} TO postgres; DROP OWNED BY {name}; in those databases, "
                    "then remove again") from None
            removed.append(hub_name)
    return removed


def list_learners(admin_url: str) -> list[LearnerStatus]:
    """Every learner role on the server, by hub name (their database name where none was recorded)."""
    hub_names: dict[str, str] = {}
    classroom = _open_classroom(admin_url, create=False)
    if classroom is not None:
        try:
            with classroom.cursor() as cur:
                cur.execute("SELECT name, hub_name FROM learner_logins WHERE hub_name IS NOT NULL")
                hub_names = dict(cur.fetchall())
        except (psycopg2.errors.UndefinedTable, psycopg2.errors.UndefinedColumn):
            pass  # nothing provisioned yet, or only by an older pglab: database names are all there is
        finally:
            classroom.close()
    conn = course_data.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT r.rolname, d.oid IS NOT NULL, "
                "       (SELECT count(*) FROM pg_stat_activity a WHERE a.usesysid = r.oid) "
                "FROM pg_roles g JOIN pg_auth_members m ON m.roleid = g.oid JOIN pg_roles r ON r.oid = m.member "
                "LEFT JOIN pg_database d ON d.datname = r.rolname AND d.datdba = r.oid "
                "WHERE g.rolname = %s ORDER BY r.rolname", (LEARNERS_GROUP,))
            found = [LearnerStatus(hub_names.get(name, name), name, bool(has_db), int(sessions))
                     for name, has_db, sessions in cur.fetchall()]
    finally:
        conn.close()
    return sorted(found, key=lambda status: status.hub_name)


# -- provisioning steps ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _RoleState:
    exists: bool
    is_learner: bool


def _validated(names: Sequence[str]) -> dict[str, str]:
    """Hub name -> database name, in order, duplicates dropped; refuses names that would share one."""
    if isinstance(names, str):  # a lone name would otherwise be read letter by letter
        names = [names]
    wanted = database_names(list(dict.fromkeys(names)))
    if not wanted:
        raise LearnerError("no learner names given: name them, or pass --roster FILE.csv")
    return wanted


def _recorded_hub_name(cur: psycopg2.extensions.cursor, name: str) -> str | None:
    """The hub name recorded for the database ``name`` (None: not recorded, by an older pglab or at all)."""
    cur.execute("SELECT hub_name FROM learner_logins WHERE name = %s", (name,))
    row = cur.fetchone()
    return row[0] if row else None


def _ensure_one(cur: psycopg2.extensions.cursor, admin_url: str, hub_name: str, name: str) -> Learner:
    recorded = _recorded_hub_name(cur, name)
    if recorded not in (None, hub_name):
        raise LearnerError(f"hub users {recorded!r} and {hub_name!r} would share the database {name}: "
                           "rename one of them (JupyterHub's Authenticator.username_map can)")
    role = _role(cur, name)
    ident = sql.Identifier(name)
    if role.exists and not role.is_learner:
        raise LearnerError(
            f"a role {name} already exists on this server and is not a pglab learner: "
            "choose another learner name (pglab will not take over an existing role)")
    password = None
    if role.exists:
        cur.execute("SELECT password FROM learner_logins WHERE name = %s", (name,))
        row = cur.fetchone()
        password = row[0] if row else None
    else:
        cur.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(ident, sql.Identifier(LEARNERS_GROUP)))
    password = password or secrets.token_urlsafe(18)
    cur.execute(
        sql.SQL("ALTER ROLE {} LOGIN PASSWORD %s CONNECTION LIMIT {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS INHERIT").format(ident, sql.Literal(CONNECTION_LIMIT)),
        (password,))
    cur.execute(
        "INSERT INTO learner_logins (name, password, hub_name) VALUES (%s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET password = EXCLUDED.password, hub_name = EXCLUDED.hub_name",
        (name, password, hub_name))

    cur.execute("SELECT pg_get_userbyid(datdba), shobj_description(oid, 'pg_database') "
                "FROM pg_database WHERE datname = %s", (name,))
    database = cur.fetchone()
    if database is None:
        cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(ident, sql.Identifier(TEMPLATE), ident))
    elif database[0] != name:
        raise LearnerError(
            f"a database {name} already exists on this server and belongs to {database[0]}, not to the learner: "
            "choose another learner name (pglab will not take over an existing database)")
    if database is None or database[1] != PROVISIONED:
        _hand_over(admin_url, name)
        cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(ident, sql.Literal(PROVISIONED)))
    # Nobody but the owner: PUBLIC's default CONNECT and TEMPORARY, and any GRANT the learner made.
    cur.execute("SELECT DISTINCT a.grantee FROM pg_database d, aclexplode(d.datacl) a "
                "WHERE d.datname = %s AND a.grantee <> d.datdba", (name,))
    grantees = [row[0] for row in cur.fetchall()]
    cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
    for grantee in grantees:
        if grantee != 0:  # 0 is PUBLIC, done above
            cur.execute("SELECT quote_ident(rolname) FROM pg_roles WHERE oid = %s", (grantee,))
            holder = cur.fetchone()
            if holder:
                cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {} CASCADE").format(ident, sql.SQL(holder[0])))
    return Learner(hub_name=hub_name, name=name, url=_learner_url(admin_url, name, password),
                   added_now=not role.exists or database is None)


def _hand_over(admin_url: str, name: str) -> None:
    """Make the learner the owner of everything the template copy holds (schema, tables, sequences)."""
    copy = course_data.connect(_with_database(admin_url, name))
    copy.autocommit = True
    try:
        with copy.cursor() as cur:
            cur.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                sql.Identifier(TEMPLATE_OWNER), sql.Identifier(name)))
    finally:
        copy.close()


def _role(cur: psycopg2.extensions.cursor, name: str) -> _RoleState:
    # Direct membership only: pg_has_role() says yes to every role for a superuser.
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "               WHERE m.member = r.oid AND g.rolname = %s) "
        "FROM pg_roles r WHERE r.rolname = %s", (LEARNERS_GROUP, name))
    row = cur.fetchone()
    return _RoleState(exists=row is not None, is_learner=bool(row and row[0]))


def _database_owner(cur: psycopg2.extensions.cursor, name: str) -> str | None:
    cur.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,))
    row = cur.fetchone()
    return row[0] if row else None


# -- connections ----------------------------------------------------------------------------------

def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise LearnerError(f"{mask_password(url)} is not a postgresql:// URL: set PGLAB_ADMIN_URL to one")
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def _learner_url(admin_url: str, name: str, password: str) -> str:
    parts = urlsplit(_with_database(admin_url, name))
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(name, safe='')}:{quote(password, safe='')}@{host}"))


def _open_classroom(admin_url: str, create: bool) -> psycopg2.extensions.connection | None:
    """An admin connection to ``pglab_classroom``; with ``create``, the database is made if missing,
    without it None is returned (no learner was ever added on this server)."""
    url = _with_database(admin_url, CLASSROOM_DATABASE)
    try:
        conn = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as first:
        admin = course_data.connect(admin_url)  # the server itself unreachable: that is the error to show
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (CLASSROOM_DATABASE,))
                if cur.fetchone() is not None:
                    raise DatabaseUnreachable(f"cannot connect to {mask_password(url)}: {one_line(first)}") from None
                if not create:
                    return None
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase):  # a concurrent first add made it
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(CLASSROOM_DATABASE)))
                cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(CLASSROOM_DATABASE)))
        finally:
            admin.close()
        conn = course_data.connect(url)
    conn.autocommit = True
    return conn


@contextmanager
def _provisioning(admin_url: str) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor in ``pglab_classroom`` holding the provisioning lock, the group and table in place."""
    conn = _open_classroom(admin_url, create=True)
    assert conn is not None
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
            try:
                cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            except psycopg2.errors.LockNotAvailable:
                raise LearnerError(
                    f"another `pglab learners` run (or a hub spawn) has been provisioning for {LOCK_TIMEOUT}: "
                    "try again when it is done") from None
            cur.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            cur.execute("CREATE TABLE IF NOT EXISTS learner_logins ("
                        " name text PRIMARY KEY, password text NOT NULL, added timestamptz NOT NULL DEFAULT now())")
            cur.execute("ALTER TABLE learner_logins ADD COLUMN IF NOT EXISTS hub_name text UNIQUE")
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LEARNERS_GROUP,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(LEARNERS_GROUP)))
            yield cur
    except psycopg2.Error as err:
        raise LearnerError(f"provisioning learners failed: {one_line(err)}") from None
    finally:
        conn.close()  # ends the session, and with it the advisory lock
