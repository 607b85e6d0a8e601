"""A class on this machine for tests and benchmarks: system users, and ``pglab hub`` serving them.

It lives beside ``benchmarks/classroom.py``, which imports it as a sibling when run as a script
(``python benchmarks/classroom.py``); the tests import it as ``benchmarks.hub_process``. It holds no
course answers, so it may sit outside the instructor-only folders.

The JupyterHub test and ``benchmarks/classroom.py`` both create learners (and instructors) as system
users with homes, groups and passwords, run ``pglab hub`` on a free localhost port with a private
exchange and state folder, and take it all down afterwards, failing or not: the hub (which stops the
servers it spawned), then any process still running under a created user's uid, killed by pid, then
the users and groups. Needs root (``useradd``).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from pglab.classroom.hub import INSTRUCTOR_ONLY
from pglab.db.server import free_port
from pglab.settings import PROJECT_ROOT

STARTUP_S = 120


@dataclass(frozen=True)
class RunningHub:
    base: str  # http://127.0.0.1:PORT
    passwords: dict[str, str]
    exchange: Path
    admin_url: str
    log: Path
    process: subprocess.Popen


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (make, pglab, jupyter, kernels); SIGKILL what is left after 60 s.

    ``pglab hub`` takes up to its STOP_GRACE_S (40 s) to stop JupyterHub, the proxy and the servers,
    which run in sessions of their own: killed early, it would leave them behind."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_as_root(*command: str, **kwargs: object) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def traversable_for_everyone(paths: list[Path]) -> dict[Path, int]:
    """Let other users reach the venv's interpreter and the course (o+x on the folders above them only).

    Returns the folders changed with their old modes, to be put back. On the course's machine the
    interpreter lives under /root (mode 700); a real deployment installs the course where its users
    can read it.
    """
    changed: dict[Path, int] = {}
    for path in paths:
        for folder in [path, *path.parents] if path.is_dir() else path.parents:
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH:
                changed.setdefault(folder, mode)
                folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    return changed


@contextmanager
def class_users(groups: dict[str, list[str]]) -> Iterator[dict[str, str]]:
    """System users with homes, in the given groups (group -> user names), with random passwords."""
    names = [name for members in groups.values() for name in members]
    passwords = {name: secrets.token_urlsafe(12) for name in names}
    opened = traversable_for_everyone([Path(sys.executable).resolve(), Path(sys.prefix), Path(sys.base_prefix),
                                       PROJECT_ROOT])
    try:
        for group, members in groups.items():
            run_as_root("groupadd", group)
            for name in members:
                run_as_root("useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name)
        run_as_root("chpasswd", input="".join(f"{n}:{p}\n" for n, p in passwords.items()))
        probe = subprocess.run(["runuser", "-u", names[0], "--", sys.executable, "-c", "import pglab, jupyterhub"],
                               capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            raise RuntimeError(f"a class user cannot run the course's Python: {probe.stderr[-1500:]}")
        yield passwords
    finally:
        end_processes_of(names)
        for name in names:
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=60)
        for group in groups:
            subprocess.run(["groupdel", group], capture_output=True, timeout=60)
        for folder, mode in opened.items():
            folder.chmod(stat.S_IMODE(mode))


def end_processes_of(users: list[str]) -> None:
    """Kill, by pid, whatever still runs as one of ``users`` (servers the hub did not stop, kernels)."""
    uids = set()
    for name in users:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(name).pw_uid)
    left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]
    for process in left:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(left, timeout=10)


@contextmanager
def running_hub(passwords: dict[str, str], admin_url: str, state: Path, env: dict[str, str],
                keep_log: Path | None = None, port: int | None = None) -> Iterator[RunningHub]:
    """``pglab hub`` on a free localhost port until its REST API answers; stopped (with its servers) after.

    ``env`` is the hub's environment (no database settings); the exchange is a fresh folder outside
    any private temporary folder, since every class user must reach it.
    """
    exchange = Path(tempfile.mkdtemp(prefix="pglab-exchange-"))
    # `pglab hub` closes solutions/ and grader/ to all but the instructors: put this checkout back after.
    before = {path: (path.stat().st_gid, path.stat().st_mode) for top in INSTRUCTOR_ONLY
              for path in [PROJECT_ROOT / top, *(PROJECT_ROOT / top).rglob("*")] if not path.is_symlink()}
    port = port or free_port()
    env = dict(env, PGLAB_ADMIN_URL=admin_url, PGLAB_EXCHANGE=str(exchange), PGLAB_HUB_HOME=str(state))
    log = state / "hub.log"
    with log.open("w") as sink:
        process = subprocess.Popen([sys.executable, "-m", "pglab.cli", "hub", "--port", str(port), "--",
                                    "--ip=127.0.0.1"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/hub/api", timeout=5) as answer:
                    if "version" in json.loads(answer.read()):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pglab hub did not come up:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield RunningHub(base, passwords, exchange, admin_url, log, process)
    finally:
        stop(process)
        end_processes_of(list(passwords))
        for path, (gid, mode) in before.items():
            if path.exists():
                os.chown(path, -1, gid)
                path.chmod(stat.S_IMODE(mode))
        if keep_log is not None and keep_log.parent.is_dir():
            shutil.copy(log, keep_log)
        shutil.rmtree(exchange, ignore_errors=True)


def server_environment(name: str) -> dict[str, str]:
    """The environment the hub gave ``name``'s JupyterLab (what their terminals and kernels get)."""
    return dict(server_process(name).environ())


def server_process(name: str) -> psutil.Process:
    uid = pwd.getpwnam(name).pw_uid
    for process in psutil.process_iter(["uids", "cmdline"]):
        if process.info["uids"] and process.info["uids"].real == uid and any(
                "jupyterhub-singleuser" in part for part in process.info["cmdline"] or []):
            return process
    raise LookupError(f"no JupyterLab server runs as {name}")
