"""What JupyterHub does for pglab before a learner's server starts: their database and their notebooks.

One module serves every hub the course runs on: ``hub/jupyterhub_config.py`` (one machine, each
learner a system user, LocalProcessSpawner) and ``hub/z2jh-values.yaml`` (Kubernetes, KubeSpawner)
both set ``c.Spawner.pre_spawn_hook = pre_spawn_hook``. On a learner's first login the hook creates
their database and role on the shared server (``PGLAB_ADMIN_URL``, named after the hub user by
:mod:`pglab.classroom.learner_names`); on every start it puts their
``DATABASE_URL`` into the server's environment, points nbgrader at the class exchange, and hides the
instructor tools from learners. On one machine it also copies the lessons into the learner's home
(as the learner, never over their work), after making their home private
(:mod:`pglab.classroom.private_homes`); a Kubernetes user pod copies in its postStart hook.

Instructors are the hub's admins (PAM's ``admin_groups``, or ``admin_users``): they get the same
environment plus ``PGLAB_ADMIN_URL``, which ``pglab grade`` needs to create a database per submission.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglab.classroom.private_homes import make_home_private
from pglab.classroom.system_accounts import check_system_account_name, missing_home, system_account
from pglab.errors import HubError, one_line
from pglab.settings import PROJECT_ROOT

DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
JUPYTER_CONFIG = PROJECT_ROOT / "hub" / "jupyter-config"
COURSE_CONFIG = JUPYTER_CONFIG / "course"  # nbgrader: course id and exchange, for everyone
LEARNER_CONFIG = JUPYTER_CONFIG / "learner"  # formgrader and Create Assignment switched off
COPY_TIMEOUT_S = 60


@dataclass(frozen=True)
class HubSettings:
    admin_url: str
    exchange: str
    bin_dir: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HubSettings:
        env = os.environ if environ is None else environ
        admin_url = env.get("PGLAB_ADMIN_URL", "")
        if not admin_url:
            raise HubError("PGLAB_ADMIN_URL is not set in the hub's environment: set it to a superuser URL on the "
                           "class's PostgreSQL server (`pglab hub` sets it for its embedded server)")
        return cls(admin_url=admin_url, exchange=env.get("PGLAB_EXCHANGE") or DEFAULT_EXCHANGE,
                   bin_dir=str(Path(sys.executable).parent))


def spawn_environment(settings: HubSettings, database_url: str, instructor: bool, local: bool) -> dict[str, str]:
    """The variables a learner's (or instructor's) JupyterLab, kernels and terminals start with.

    ``local``: the server runs on this machine from the hub's own venv, so its PATH starts there
    (a Kubernetes user image keeps its own PATH).
    """
    config_path = [str(COURSE_CONFIG)] if instructor else [str(LEARNER_CONFIG), str(COURSE_CONFIG)]
    env = {
        "DATABASE_URL": database_url,
        "PGLAB_EXCHANGE": settings.exchange,
        "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
    }
    if local:
        env["PATH"] = os.pathsep.join([settings.bin_dir, "/usr/local/bin", "/usr/bin", "/bin"])
    if instructor:
        env["PGLAB_ADMIN_URL"] = settings.admin_url
    return env


async def pre_spawn_hook(spawner: Any) -> None:
    """JupyterHub's ``Spawner.pre_spawn_hook``: provision the user's database, set the spawn environment."""
    from pglab.classroom.learners import ensure_learner

    settings = HubSettings.from_environment()
    user = spawner.user
    instructor = bool(getattr(user, "admin", False))
    local = _runs_local_processes(spawner)
    if local:  # the server runs as the system user of the same name: it must exist, its home theirs alone
        check_system_account_name(user.name)
        await asyncio.to_thread(make_home_private, user.name)
    try:
        # Blocking database work runs in a thread: the hub keeps serving everyone else meanwhile.
        url = await asyncio.to_thread(ensure_learner, settings.admin_url, user.name)
    except Exception as err:  # PglabError (a bad name, server down) or a driver error: one line in the hub log
        raise HubError(f"cannot prepare the database of {user.name!r}: {one_line(err)}") from err
    spawner.environment = {**spawner.environment, **spawn_environment(settings, url, instructor, local)}
    if local:
        await copy_lessons_as(user.name, settings.bin_dir)


def _runs_local_processes(spawner: Any) -> bool:
    try:
        from jupyterhub.spawner import LocalProcessSpawner
    except ImportError:
        return False
    return isinstance(spawner, LocalProcessSpawner)


async def copy_lessons_as(username: str, bin_dir: str) -> None:
    """Run :mod:`pglab.classroom.course_copy` under the learner's own uid, in their home."""
    entry = system_account(username)
    home = Path(entry.pw_dir)
    if not home.is_dir():
        raise missing_home(home, username)
    switch: dict[str, Any] = {}
    if os.geteuid() == 0 and entry.pw_uid != 0:
        switch = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    process = await asyncio.create_subprocess_exec(
        str(Path(bin_dir) / "python"), "-m", "pglab.classroom.course_copy", str(home), cwd=str(home),
        env={"HOME": str(home), "PATH": os.pathsep.join([bin_dir, "/usr/bin", "/bin"])},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, **switch)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=COPY_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        raise HubError(f"copying the lessons into {home} took over {COPY_TIMEOUT_S} s") from None
    if process.returncode != 0:
        raise HubError(f"copying the lessons into {home} failed: {one_line(output.decode()[-500:])}")
