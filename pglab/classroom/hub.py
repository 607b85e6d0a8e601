"""``pglab hub``: the course's JupyterHub on this machine (``jupyterhub -f hub/jupyterhub_config.py``).

It runs as root, because each learner's JupyterLab runs as that learner's own system user. Before
starting the hub it makes sure the class's PostgreSQL answers (the embedded server unless
``PGLAB_ADMIN_URL`` names another), creates the nbgrader exchange (``PGLAB_EXCHANGE``, default
``/srv/nbgrader/exchange``) writable by everyone as nbgrader requires, and picks free ports for the
hub's internal API and the proxy's API so several hubs (or test runs) can share a machine. The hub's
own state (its sqlite database, cookie secret) lives in ``PGLAB_HUB_HOME`` (default ``.pglab/hub``).
SIGTERM, SIGINT or SIGHUP stop JupyterHub, its proxy and every learner's server
(:mod:`pglab.classroom.hub_shutdown`).
"""

from __future__ import annotations

import grp
import importlib.util
import os
import shutil
import stat
import sys
from pathlib import Path

from pglab.classroom.hub_hooks import DEFAULT_EXCHANGE
from pglab.classroom.hub_shutdown import run_until_stopped
from pglab.classroom.private_homes import readable_instructor_clones
from pglab.db.server import free_port
from pglab.errors import HubError
from pglab.settings import PROJECT_ROOT, load_settings, mask_password

HUB_CONFIG = PROJECT_ROOT / "hub" / "jupyterhub_config.py"
PROXY = "configurable-http-proxy"
# Reference solutions, hidden checks and gradebook, the tests' answer corpus, and git's copy of them all.
INSTRUCTOR_ONLY = ("solutions", "grader", "tests", ".git")


def learners_group() -> str:
    """The system group whose members may log in as learners (PAM), from PGLAB_LEARNERS_GROUP."""
    return os.environ.get("PGLAB_LEARNERS_GROUP") or "pglab-learners"


def instructors_group() -> str:
    """The system group of instructors (hub admins, readers of the hidden checks), PGLAB_INSTRUCTORS_GROUP."""
    return os.environ.get("PGLAB_INSTRUCTORS_GROUP") or "pglab-instructors"


def group_id(group: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise HubError(f"the instructors' group {group!r} does not exist: create it (`groupadd {group}`), add the "
                       "instructors to it, or name another with PGLAB_INSTRUCTORS_GROUP") from None


def protect_instructor_files(group: str, root: Path = PROJECT_ROOT) -> int:
    """Keep learners, who share this machine, out of the solutions and hidden checks.

    Everything under :data:`INSTRUCTOR_ONLY` goes to the instructors' group, readable by it and by
    nobody else but the owner. Returns how many paths were changed.
    """
    gid = group_id(group)
    changed = 0
    for top in (root / name for name in INSTRUCTOR_ONLY):
        for path in [top, *top.rglob("*")] if top.exists() else []:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = stat.S_IMODE(info.st_mode)
            wanted = (mode & ~0o007) | 0o040 | (0o010 if stat.S_ISDIR(info.st_mode) else 0)
            if info.st_gid != gid or mode != wanted:
                os.chown(path, -1, gid)
                path.chmod(wanted)
                changed += 1
    return changed


def proxy_command() -> str:
    """configurable-http-proxy from npm: the one ``make hub-setup`` put in the venv, else on PATH."""
    local = Path(sys.executable).parent.parent / "node_modules" / ".bin" / PROXY
    found = str(local) if local.exists() else shutil.which(PROXY)
    if found is None:
        raise HubError(f"{PROXY} is not installed: run `make hub-setup` (it needs node and npm; on Debian or "
                       "Ubuntu `apt-get install nodejs npm`)")
    return found


def admin_url() -> str:
    settings = load_settings()
    if settings.admin_url:
        return settings.admin_url
    if settings.external:
        raise HubError(f"{settings.describe_external()} is set but PGLAB_ADMIN_URL is not: the hub creates a "
                       "database and role per learner, so set PGLAB_ADMIN_URL to a superuser URL on that server")
    from pglab.db.provision import ensure_course_database

    course = ensure_course_database(settings)
    assert course.embedded is not None
    return course.embedded.admin_url()


def prepare_exchange(root: Path) -> None:
    """nbgrader's exchange: every learner writes into it, so it is world-writable (nbgrader's own advice),
    and sticky, like /tmp: nobody removes or renames a course folder they do not own."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o1777)


def run_hub(port: int = 8000, extra: list[str] | None = None) -> int:
    if os.geteuid() != 0:
        raise HubError("run `pglab hub` as root (sudo): each learner's JupyterLab runs as their own system user")
    if importlib.util.find_spec("jupyterhub") is None:
        raise HubError("JupyterHub is not installed: run `make hub-setup` (or `pip install -e '.[hub]'`)")
    proxy = proxy_command()
    group_id(instructors_group())  # before anything starts or changes
    url = admin_url()
    protected = protect_instructor_files(instructors_group())
    exchange = Path(os.environ.get("PGLAB_EXCHANGE") or DEFAULT_EXCHANGE)
    prepare_exchange(exchange)
    state = Path(os.environ.get("PGLAB_HUB_HOME") or load_settings().home / "hub")
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ, PGLAB_ADMIN_URL=url, PGLAB_EXCHANGE=str(exchange), PGLAB_HUB_PROXY=proxy)
    command = [sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG), "--port", str(port),
               f"--JupyterHub.hub_port={free_port()}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
               *(arg for arg in (extra or []) if arg != "--")]
    print(f"class database server: {mask_password(url)}; exchange: {exchange}; hub state: {state}", flush=True)
    if protected:
        print(f"{', '.join(INSTRUCTOR_ONLY)} are now readable by the group {instructors_group()} only "
              f"({protected} paths changed)", flush=True)
    for name, clone in readable_instructor_clones(instructors_group()):
        print(f"warning: {name}'s course clone {clone} can be read by every learner (solutions, hidden checks): "
              f"run `chmod 700 {clone.parent}` (the hub does it when {name} next logs in)", flush=True)
    print(f"JupyterHub for the course on port {port} (Ctrl-C or SIGTERM stops it and every learner's server)",
          flush=True)
    return run_until_stopped(command, cwd=state, env=env)
