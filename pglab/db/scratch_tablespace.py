"""The embedded server's scratch tablespace: submission databases on a RAM disk.

Grading makes and drops one database per notebook (:mod:`pglab.grading.database_copies`), some 300
files each time. On a disk whose ext4 runs without a journal (this project's CI machines), every
new file makes the kernel step over the inodes freed in the last minutes (``recently_deleted()``
in ``ext4_create``): during a class's grading a database copy cost 150–290 ms of system time and
was the largest single cost of a notebook. The same copy, connection and drop cost 28 ms when the
copy lives on a tmpfs (``benchmarks/classroom_grading.py``, 2 cores, 2026-12-04).

So the embedded server gets a tablespace whose folder is on ``/dev/shm``, used for nothing but the
throwaway submission copies; the course database, the grading template and learners' databases
stay on disk. What a notebook writes to its database goes to memory: the tablespace is made only
when ``/dev/shm`` is a tmpfs with room to spare (:data:`MIN_FREE_BYTES`). A reboot empties the
tmpfs: the next start of the server makes the tablespace again (dropping the copies a dead run
left in it, whose files went with the reboot). Everything here is an optimisation: when it cannot
be had, the copies are made on disk as before.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
from pathlib import Path

import psycopg2
from psycopg2 import sql

NAME = "pglab_scratch"
RAM_DISK = Path("/dev/shm")
MIN_FREE_BYTES = 2 << 30
LOCK = (0x70676C64, 0)  # pg_advisory_lock(class, 0): "pgld", one start at a time remakes it


def folder(pgdata: Path) -> Path | None:
    """The tablespace's folder for the cluster in ``pgdata``: named after the cluster's system
    identifier (the first 8 bytes of ``global/pg_control``, set by ``initdb``), so a cluster made
    again in the same place (tests do) never takes an older one's folder for its own. None when
    that cannot be read (no cluster yet)."""
    try:
        with open(pgdata / "global" / "pg_control", "rb") as control:
            identifier = int.from_bytes(control.read(8), "little")
    except OSError:
        return None
    return RAM_DISK / f"pglab-scratch-{identifier:016x}"


def _in_use(where: Path) -> bool:
    """PostgreSQL keeps a ``PG_<version>_<catalog>`` folder in a tablespace's folder while it exists."""
    return any(where.glob("PG_*"))


def _ram_disk_with_room() -> bool:
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            tmpfs = any(fields[1] == str(RAM_DISK) and fields[2] == "tmpfs"
                        for fields in (line.split() for line in mounts) if len(fields) > 2)
        if not tmpfs:
            return False
        space = os.statvfs(RAM_DISK)
    except OSError:
        return False
    return space.f_bavail * space.f_frsize >= MIN_FREE_BYTES


def ensure(admin_url: str, pgdata: Path, server_user: pwd.struct_passwd | None) -> None:
    """Make (or remake, after a reboot) the scratch tablespace of the running server in ``pgdata``.

    ``server_user``: the system user the server runs as, when it is not this process's.
    """
    where = folder(pgdata)
    if where is None or _in_use(where) or not _ram_disk_with_room():
        return
    conn = None
    try:
        where.mkdir(mode=0o700, exist_ok=True)
        if server_user is not None:
            os.chown(where, server_user.pw_uid, server_user.pw_gid)
        conn = psycopg2.connect(admin_url, connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s, %s)", LOCK)  # released when the connection closes
            if _in_use(where):
                return  # another start made it meanwhile
            cur.execute("SELECT d.datname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
                        "WHERE t.spcname = %s AND d.datname LIKE 'sub\\_%%'", (NAME,))
            for (name,) in cur.fetchall():  # copies whose files a reboot took
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cur.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(NAME)))
            cur.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
                sql.Identifier(NAME), sql.Literal(str(where))))
    except (OSError, psycopg2.Error):
        return  # the copies stay on disk
    finally:
        if conn is not None:
            conn.close()


def remove(pgdata: Path) -> None:
    """With the cluster itself (``EmbeddedServer.destroy``), or a test's cluster after its session."""
    where = folder(pgdata)
    if where is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(where)
