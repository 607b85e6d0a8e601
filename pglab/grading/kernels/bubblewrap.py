"""The grading sandbox's outer wall: bubblewrap (``bwrap``) around the kernel fork server.

``bwrap`` starts the fork server (:mod:`pglab.grading.kernels.forkserver`) once per grading run with
no network (its own network namespace: only a loopback nobody else is on), its own PID, IPC and UTS
namespaces, a new session, ``--die-with-parent``, and a filesystem view of: the system directories
and the Python (interpreter, virtualenv, the ``pglab`` package) read-only, a minimal ``/dev``, the
database server's Unix socket, and the grading workspace, the only writable folder. Nothing else of
the instructor's home or course exists in it. Each kernel the server forks then isolates itself from
its siblings (:mod:`pglab.grading.kernels.namespaces`).

Run as root, ``bwrap`` keeps uid 0 but only the capabilities to switch to the throw-away grading user
(CAP_SETUID, CAP_SETGID); as an ordinary user it runs in a user namespace of its own.

Where the sandbox cannot be had, :class:`SandboxUnavailable` says in one line what fixes it;
``pglab grade --unsafe-no-sandbox`` is the explicit way to grade anyway.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2

import pglab
from pglab.db import course_data
from pglab.errors import PglabError

if TYPE_CHECKING:
    from pglab.grading.kernels.forkserver import ForkServer

BWRAP_ENV = "PGLAB_BWRAP"  # the bwrap program to use (default: `bwrap` on PATH)
SOCKET_DIR_INSIDE = "/run/pglab-database"  # what kernels see: the socket alone
SERVER_DIR_INSIDE = "/run/pglab-database-server"  # the server's socket folder, for the fork server only
UNSAFE_HINT = "or grade without it with `pglab grade --unsafe-no-sandbox` (trusted submissions only)"


class SandboxUnavailable(PglabError):
    """The grading sandbox cannot be set up on this machine; the message says what fixes it."""


def install_command() -> str:
    return "apt-get install -y bubblewrap" if os.geteuid() == 0 else "sudo apt-get install bubblewrap"


def userns_fix() -> str:
    """The command that enables unprivileged user namespaces here (the knob this kernel has)."""
    knobs = (("kernel/apparmor_restrict_unprivileged_userns", "1", "0"),  # Ubuntu 24.04
             ("kernel/unprivileged_userns_clone", "0", "1"),  # older Debian
             ("user/max_user_namespaces", "0", "15000"))
    for knob, blocking, fixed in knobs:
        try:
            if Path("/proc/sys", knob).read_text().strip() == blocking:
                return f"sudo sysctl -w {knob.replace('/', '.')}={fixed}"
        except OSError:
            continue
    return "sudo sysctl -w user.max_user_namespaces=15000"


def find_bwrap() -> str:
    program = os.environ.get(BWRAP_ENV) or "bwrap"
    found = shutil.which(program)
    if found is None:
        raise SandboxUnavailable(
            f"the grading sandbox needs bubblewrap, and {program!r} was not found: run "
            f"`{install_command()}`, {UNSAFE_HINT}")
    return found


@dataclass(frozen=True)
class DatabaseSocket:
    """The database server's Unix socket on this machine: the sandbox's only way out."""

    path: Path  # .../.s.PGSQL.<port>
    port: int

    @property
    def inside(self) -> str:
        return f"{SOCKET_DIR_INSIDE}/{self.path.name}"


def find_database_socket(admin_url: str) -> DatabaseSocket:
    """Ask the server where its Unix socket is; the sandbox has no network to reach it by TCP."""
    conn = course_data.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('unix_socket_directories'), current_setting('port')")
            directories, port = cur.fetchone()
    except psycopg2.Error as err:
        raise SandboxUnavailable(f"could not ask the database server for its socket: {err}") from None
    finally:
        conn.close()
    for directory in (d.strip() for d in str(directories).split(",")):
        candidate = Path(directory) / f".s.PGSQL.{port}"
        try:
            if directory and stat.S_ISSOCK(candidate.stat().st_mode):
                return DatabaseSocket(candidate, int(port))
        except OSError:
            continue
    raise SandboxUnavailable(
        "sandboxed kernels reach their database only through the server's Unix socket, and none of "
        f"{directories!r} holds one on this machine: grade on the embedded server (unset PGLAB_ADMIN_URL), "
        f"{UNSAFE_HINT}")


def socket_url(url: str, socket: DatabaseSocket) -> str:
    """``url`` with its host replaced by the socket folder as seen inside the sandbox."""
    parts = urlsplit(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    host = quote(SOCKET_DIR_INSIDE, safe="")
    return urlunsplit(parts._replace(netloc=f"{credentials}{host}:{socket.port}"))


def _python_paths() -> list[Path]:
    """The folders the kernels import from: the interpreter's, the virtualenv's, pglab's own."""
    wanted = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent,
              Path(pglab.__file__).resolve().parent}
    project = Path(pglab.__file__).resolve().parent.parent
    venv = Path(sys.prefix).resolve()
    for entry in sys.path:  # e.g. PYTHONPATH; nothing else of the course (tests/, solutions/...)
        path = Path(entry or ".").resolve()
        if path.is_dir() and path != Path.cwd() and (not path.is_relative_to(project) or path.is_relative_to(venv)):
            wanted.add(path)
    ordered = sorted(p.resolve() for p in wanted if p.exists())
    # Drop folders inside another one (they are bound with it) and the system's own (bound below).
    result: list[Path] = []
    for path in ordered:
        if any(path.is_relative_to(p) for p in result):
            continue
        if any(path == Path(s) or path.is_relative_to(s) for s in ("/usr", "/etc")):
            continue
        result.append(path)
    return result


def bwrap_command(bwrap: str, workspace: Path, socket: DatabaseSocket) -> list[str]:
    """The ``bwrap`` arguments that wrap the fork server (the program follows them)."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:  # keep only what it takes to become the throw-away user
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    binds: list[tuple[str, str, str]] = [("--ro-bind", "/usr", "/usr"), ("--ro-bind", "/etc", "/etc")]
    links: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            links += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            binds.append(("--ro-bind", str(path), str(path)))
    binds += [("--ro-bind", str(p), str(p)) for p in _python_paths()]
    # The socket's folder, not only the socket: a restarted server makes a new socket file, which a
    # bind of the old one would not show. Each kernel binds the socket of the moment and covers the
    # folder (it also holds the server's log): see namespaces.enter_kernel_namespaces.
    binds += [("--ro-bind", str(socket.path.parent), SERVER_DIR_INSIDE), ("--bind", str(workspace), str(workspace))]
    # bwrap makes the folders above a mount point 0700 when run as root: the throw-away user
    # could not reach the Python or its own folder. Make them 0755 first.
    targets = [Path(dest) for _, _, dest in binds] + [Path("/dev"), Path("/proc")]
    parents = sorted({parent for t in targets for parent in t.parents
                      if parent != Path("/") and not any(parent.is_relative_to(b) for b in targets)},
                     key=lambda p: len(p.parts))
    for parent in parents:
        args += ["--perms", "0755", "--dir", str(parent)]
    args += ["--perms", "0755", "--dir", SOCKET_DIR_INSIDE]
    for kind, source, dest in binds:
        args += [kind, source, dest]
    args += [*links, "--dev", "/dev", "--remount-ro", "/dev",
             # The host's /proc, for the fork server only: see pglab.grading.kernels.namespaces.
             "--bind", "/proc", "/proc",
             "--remount-ro", "/",
             "--chdir", str(workspace)]
    return args


@dataclass(frozen=True)
class SandboxPlan:
    """What a sandboxed grading run needs, found before anything is graded."""

    bwrap: str
    socket: DatabaseSocket

    @classmethod
    def for_server(cls, admin_url: str, bwrap: str | None = None) -> SandboxPlan:
        return cls(bwrap or find_bwrap(), find_database_socket(admin_url))

    def start_forkserver(self, workspace: Path, wait: bool = True) -> ForkServer:
        """The kernel fork server inside ``bwrap``, after it entered a kernel's namespaces once
        (``wait`` False: launched only, see :meth:`ForkServer.wait_ready`)."""
        from pglab.grading.kernels.forkserver import ForkServer

        try:
            return ForkServer(bwrap_command(self.bwrap, workspace, self.socket),
                              database_socket=(SERVER_DIR_INSIDE, self.socket.inside), wait=wait)
        except OSError as err:
            raise SandboxUnavailable(f"the grading sandbox could not start ({err}): {start_fix(str(err))}"
                                     ) from None


def start_fix(reason: str) -> str:
    """What to do when ``bwrap`` did not start: user namespaces only when that is what it said."""
    if any(sign in reason for sign in ("namespace", "uid map", "Operation not permitted", "No permission")):
        return f"run `{userns_fix()}` (user namespaces), {UNSAFE_HINT}"
    return f"run the same command again, {UNSAFE_HINT}"
