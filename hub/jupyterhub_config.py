"""JupyterHub for a pglab class on one machine; `pglab hub` runs `jupyterhub -f` on this file as root.

Every learner is a system user and their JupyterLab runs as them (LocalProcessSpawner), in their home
folder. Before a server starts, pglab's hook (pglab/classroom/hub_hooks.py, the same one the Kubernetes
values use) creates the learner's database on first login, puts their DATABASE_URL in the server's
environment, points nbgrader at the class exchange and copies the lessons into ~/course.

Who may log in: system accounts (PAM) in the learners' or the instructors' group; instructors are the
hub's admins. Both group names come from the environment. To use another authenticator
(NativeAuthenticator, OAuth, LTI 1.3), put its lines in a file named by PGLAB_HUB_SITE_CONFIG: it is
loaded last, so it overrides anything here (docs/classroom.md shows each).
"""

import os
import sys
from pathlib import Path

from pglab.classroom.hub import instructors_group, learners_group
from pglab.classroom.hub_hooks import pre_spawn_hook

c = get_config()  # noqa: F821 - provided by traitlets when JupyterHub loads this file

LEARNERS_GROUP, INSTRUCTORS_GROUP = learners_group(), instructors_group()
BIN = Path(sys.executable).parent  # the course's venv: JupyterHub and every learner's server run from it

# Log in with the machine's accounts; the groups say who may, and who is an instructor.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {LEARNERS_GROUP, INSTRUCTORS_GROUP}
c.PAMAuthenticator.admin_groups = {INSTRUCTORS_GROUP}
c.PAMAuthenticator.open_sessions = False  # no login session per server (containers often lack pam_systemd)

# Each learner's JupyterLab: as their own user, in their home, opening on JupyterLab.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab"
c.Spawner.pre_spawn_hook = pre_spawn_hook
c.Spawner.start_timeout = 120  # a class logging in at once on a small machine
c.Spawner.http_timeout = 90

# The proxy: configurable-http-proxy from npm (`make hub-setup` installs it into the venv).
if os.environ.get("PGLAB_HUB_PROXY"):
    c.ConfigurableHTTPProxy.command = [os.environ["PGLAB_HUB_PROXY"]]

site = os.environ.get("PGLAB_HUB_SITE_CONFIG")
if site:
    load_subconfig(site)  # noqa: F821 - provided by traitlets
