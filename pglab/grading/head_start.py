"""A grading run's head start: the kernel fork server launched before the grader is imported.

The fork server imports what kernels need (IPython, the checks contract) before it says it is ready:
0.4 s on the course's 2-core machine, which every run waited for after importing the grader
(nbgrader, SQLAlchemy, nbformat: 1.2 s), so a re-run of one learner paid both one after the other.
Launched first, it boots on the other core while this process imports; :func:`grading_context
<pglab.grading.sandbox.grading_context>` then waits for its answer where it used to start it, with
the same errors. This module imports only what launching needs, none of the grader.

Nothing here decides anything: when any part cannot be had (no database server yet, no bubblewrap,
no workspace), there is no head start and the run starts as it always did, and reports what is
wrong the way it always did.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import psycopg2

from pglab.db.provision import admin_url
from pglab.errors import PglabError
from pglab.grading.kernels.bubblewrap import SandboxPlan, find_bwrap
from pglab.grading.kernels.forkserver import ForkServer
from pglab.grading.workspace import GradingWorkspace


@dataclass
class HeadStart:
    """A workspace and a fork server launched in it (not yet answered), for the run to adopt."""

    admin_url: str
    plan: SandboxPlan | None  # None: launched without the sandbox (--unsafe-no-sandbox)
    workspace: GradingWorkspace
    forkserver: ForkServer
    _closed: bool = field(default=False, repr=False)

    def fits(self, url: str, sandboxed: bool) -> bool:
        """Whether it was launched for the server and the sandboxing the run grades with."""
        return not self._closed and url == self.admin_url and (self.plan is not None) == sandboxed

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop the fork server and remove the workspace (once, by whoever holds it last)."""
        if not self._closed:
            self._closed = True
            try:
                self.forkserver.close()
            finally:
                self.workspace.close()


def head_start(unsafe_no_sandbox: bool) -> HeadStart | None:
    """The fork server launched for a run about to grade; None when it cannot be (see above)."""
    try:
        url = admin_url()
        plan = None if unsafe_no_sandbox else SandboxPlan.for_server(url, find_bwrap())
        workspace = GradingWorkspace()
    except (PglabError, OSError, psycopg2.Error):
        return None
    try:
        forkserver = plan.start_forkserver(workspace.path, wait=False) if plan else ForkServer(wait=False)
    except (PglabError, OSError):
        with contextlib.suppress(OSError):
            workspace.close()
        return None
    return HeadStart(url, plan, workspace, forkserver)
