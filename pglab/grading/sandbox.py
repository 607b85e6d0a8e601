"""The sandbox a notebook is graded in, and everything a run grades with.

For a run (:func:`grading_context`): the course template made sure of, a dead run's databases
dropped, this run's advisory lock, a workspace, the kernel fork server (in bubblewrap), the check
runners. For each notebook (:class:`SandboxPool`): an unprivileged user of its own (a lease, so two
runs never share one), an empty private folder, a fresh copy of the course database and a started
kernel, made ahead of need so a kernel boots while another notebook is graded. Any failure here is
the grader's (:class:`~pglab.errors.GraderFault`), never the learner's; every wait is bounded, and
a sandbox's user lease goes back on every path.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pwd
import queue
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pglab.checks.submission import SandboxError
from pglab.db.provision import admin_url
from pglab.db.server import open_parents
from pglab.errors import FaultKind, GraderFault
from pglab.grading.check_runner import CheckRunners
from pglab.grading.database_copies import (
    RunClaim,
    SubmissionDatabase,
    create_submission_database,
    drop_leftovers,
    drop_submission_database,
    ensure_template,
)
from pglab.grading.head_start import HeadStart
from pglab.grading.kernels.bubblewrap import DatabaseSocket, SandboxPlan, socket_url
from pglab.grading.kernels.forkserver import ForkServer, interpreter
from pglab.grading.kernels.session import KernelSession, kill_processes_of
from pglab.grading.phase_times import NotebookPhase, PhaseTimes
from pglab.grading.timeouts import TIMEOUTS, Limits, check
from pglab.grading.workspace import GradingWorkspace
from pglab.settings import PROJECT_ROOT, load_settings


@dataclass(frozen=True)
class GradingContext:
    admin_url: str
    workspace: Path
    limits: Limits
    forkserver: ForkServer
    claim: RunClaim
    hidden_paths: tuple[Path, ...] = ()
    database_socket: DatabaseSocket | None = None  # set in the sandbox: kernels reach the database there
    check_runners: CheckRunners | None = None  # pytest sessions for the checks, one per grading thread


@contextlib.contextmanager
def grading_context(limits: Limits, bwrap: str | None, source_roots: set[Path], out: Path | None = None,
                    check_files: list[Path] | None = None, ahead: HeadStart | None = None
                    ) -> Iterator[GradingContext]:
    """Everything notebooks are graded with, for the length of a run; closed (and cleaned) after it.

    The course template is made sure of, a dead run's databases dropped, this run's advisory lock
    taken, a workspace made and the kernel fork server started (in bubblewrap unless ``bwrap`` is
    None), or those two taken over from ``ahead`` (:mod:`pglab.grading.head_start`) when it was
    launched for the same server and sandboxing. Failures are GraderFaults (nothing can be graded
    now), or SandboxUnavailable.
    """
    check(limits)  # bounds that contradict each other: one line, before anything starts
    url = admin_url()
    settings = load_settings()
    ensure_template(url, settings.data_dir)
    drop_leftovers(url)
    claim = RunClaim(url)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(claim.close)
        adopted = ahead if ahead is not None and ahead.fits(url, sandboxed=bwrap is not None) else None
        if adopted is not None:
            cleanup.callback(adopted.close)
            workspace = adopted.workspace
        else:
            try:
                workspace = GradingWorkspace()
            except OSError as err:
                raise disk_fault(err) from None
            cleanup.callback(workspace.close)
        # instructor-only folders a kernel must not see (hidden tests, answers, the outputs)
        hidden = tuple(p for p in (PROJECT_ROOT / "solutions", PROJECT_ROOT / "grader", PROJECT_ROOT / ".git",
                                   PROJECT_ROOT / "tests", settings.home, *([out.resolve()] if out else []),
                                   *sorted(source_roots)) if p.is_dir())
        forkserver: ForkServer | None = None
        if adopted is not None:
            with contextlib.suppress(OSError):  # it died meanwhile: started afresh below, with a start's errors
                adopted.forkserver.wait_ready()
                plan, forkserver = adopted.plan, adopted.forkserver
        if forkserver is None:
            plan = SandboxPlan.for_server(url, bwrap) if bwrap else None  # SandboxUnavailable says what to run
            forkserver = plan.start_forkserver(workspace.path) if plan else ForkServer()
            cleanup.callback(forkserver.close)
        runners = CheckRunners(check_files or [])
        cleanup.callback(runners.close)
        yield GradingContext(admin_url=url, workspace=workspace.path, limits=limits, forkserver=forkserver,
                             claim=claim, hidden_paths=hidden, database_socket=plan.socket if plan else None,
                             check_runners=runners)


# Machine-wide on purpose, whatever TMPDIR says: two runs must never lease the same user.
USER_LOCKS = Path("/tmp/pglab-grading-users")


class UserLease:
    """An unprivileged user held exclusively by this process (an flock), so that two grading runs
    on one machine never share a user: cleaning up after one kills every process of its user."""

    def __init__(self) -> None:
        self.name = ""
        self._lock: int | None = None
        if os.geteuid() != 0:
            return
        USER_LOCKS.mkdir(mode=0o700, exist_ok=True)
        for index in range(1000):
            fd = os.open(USER_LOCKS / f"{index}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._lock = fd
            self.name = f"pglab-grade{index}"
            break
        else:
            raise GraderFault(FaultKind.KERNEL, "no free grading user: 1000 are in use")
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.name],
                           check=True, capture_output=True, timeout=30)
        kill_processes_of(self.name)  # whatever a killed run left running as this user

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def kernel_environment(database_url: str, workdir: Path) -> dict[str, str]:
    """A minimal environment: no instructor secrets, nothing but what the course needs."""
    bin_dir = str(Path(interpreter()).parent)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "DATABASE_URL": database_url,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "TMPDIR": str(workdir),
        "PGLAB_GRADING": "1",
    }


@dataclass
class Sandbox:
    """A started kernel in an empty private folder, and a fresh database, waiting for a notebook."""

    workdir: Path
    user: str
    database: SubmissionDatabase
    session: KernelSession
    times: PhaseTimes = field(default_factory=PhaseTimes)  # database copy and kernel start, made ahead


def prepare_sandbox(context: GradingContext, user: str) -> Sandbox:
    """A kernel and a database, ready for a notebook; any failure here is the grader's (GraderFault)."""
    workdir = context.workspace / f"sandbox-{secrets.token_hex(4)}"
    try:
        workdir.mkdir(mode=0o700, parents=True)
        if user:
            entry = pwd.getpwnam(user)
            open_parents(workdir)
            open_parents(Path(os.path.realpath(sys.executable)))  # e.g. a pyenv Python under /root
            os.chown(workdir, entry.pw_uid, entry.pw_gid)
    except OSError as err:
        raise disk_fault(err) from None
    context.claim.hold()
    times = PhaseTimes()
    with times.timed(NotebookPhase.DATABASE_COPY):
        database = create_submission_database(context.admin_url, context.claim.label)
    kernel_url = socket_url(database.url, context.database_socket) if context.database_socket else database.url
    session = KernelSession(workdir=workdir, env=kernel_environment(kernel_url, workdir),
                            limits=context.limits, forkserver=context.forkserver, user=user,
                            hidden_paths=context.hidden_paths)
    try:
        with times.timed(NotebookPhase.KERNEL_START):
            session.start()
    except BaseException as err:
        session.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
        with contextlib.suppress(GraderFault):  # else the next run drops it (drop_leftovers)
            drop_submission_database(context.admin_url, database.name)
        if isinstance(err, SandboxError):  # no learner code has run yet: never the learner's doing
            raise GraderFault(FaultKind.KERNEL, str(err)) from None
        raise
    return Sandbox(workdir=workdir, user=user, database=database, session=session, times=times)


def dispose_sandbox(context: GradingContext, sandbox: Sandbox) -> None:
    """Kill the kernel, drop the database; GraderFault when the server restarted meanwhile.

    A restart cuts the learner's connections mid-notebook: what they saw then says nothing about
    their code, so the notebook must be graded again.
    """
    sandbox.session.shutdown()
    shutil.rmtree(sandbox.workdir, ignore_errors=True)
    started = drop_submission_database(context.admin_url, sandbox.database.name)
    if sandbox.database.server_started is not None and started != sandbox.database.server_started:
        raise GraderFault(FaultKind.DATABASE, "the database server restarted while this notebook was graded")


def disk_fault(err: OSError) -> GraderFault:
    kind = FaultKind.DISK if err.errno in (errno.ENOSPC, errno.EDQUOT) else FaultKind.KERNEL
    return GraderFault(kind, f"{err.strerror or err} ({getattr(err, 'filename', '') or 'grading workspace'})")


class SandboxPool:
    """Sandboxes made ahead of need, so a kernel boots while another notebook is being graded.

    Each sandbox has a user of its own from a fixed set (twice the workers: one grading, one
    warming up per worker), returned only after everything that user ran has been killed. Every
    wait is bounded: a sandbox that does not come is a GraderFault, not a hang.
    """

    def __init__(self, context: GradingContext, workers: int, refill: bool = True, expected: int | None = None,
                 made: tuple[Sandbox, UserLease] | None = None) -> None:
        self.context = context
        self.workers = workers
        self.refill = refill  # False: one sandbox for one notebook (pytest --submission), none ahead
        # How many sandboxes the run will take (its notebooks and references): none is made ahead
        # beyond that (a re-run of one learner made three kernels and copies it never used), and
        # one more is made on demand when a retry wants it. None: no end known, always one ahead.
        self.expected = expected
        self._made = 0
        self._coming = 0  # made or being made, not taken yet
        self._waiting = 0  # takers waiting for one: never more than are coming (two retries at once)
        self._count_lock = threading.Lock()
        # a sandbox made before the pool (pglab.grading.early_sandbox) is the pool's from here on,
        # undone with the pool's own if the pool cannot be had
        self.leases: list[UserLease] = [made[1]] if made is not None else []
        self.users: queue.Queue[str] = queue.Queue()
        try:
            for _ in range(workers * 2):
                self.leases.append(UserLease())
        except BaseException:
            if made is not None:
                with contextlib.suppress(GraderFault):  # nothing was graded in it; the next run cleans up
                    dispose_sandbox(context, made[0])
            self._release_leases()
            raise
        for lease in self.leases[1 if made is not None else 0:]:  # the made one's user is in use
            self.users.put(lease.name)
        self.ready: queue.Queue[Sandbox | BaseException] = queue.Queue()
        self.preparer = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pglab-sandbox")
        self.closed = False
        ahead = workers if expected is None else min(workers, expected)
        if made is not None:
            with self._count_lock:
                self._count_one()
            self.ready.put(made[0])
            ahead -= 1
        for _ in range(ahead):
            self._make_one()

    def _make_one(self) -> None:
        with self._count_lock:
            self._count_one()
        self.preparer.submit(self._prepare)

    def _count_one(self) -> None:
        self._made += 1
        self._coming += 1

    def _wanted_ahead(self) -> bool:
        with self._count_lock:
            return self.expected is None or self._made < self.expected

    def _prepare(self) -> None:
        try:
            user = self.users.get(timeout=TIMEOUTS.lease_wait_s)
        except queue.Empty:
            self.ready.put(GraderFault(FaultKind.KERNEL,
                                       f"no sandbox user came free within {TIMEOUTS.lease_wait_s:.0f} s"))
            return
        try:
            self.ready.put(prepare_sandbox(self.context, user))
        except BaseException as err:
            self.users.put(user)
            self.ready.put(err)

    def take(self) -> Sandbox:
        """A ready sandbox. Failures made ahead of time (while the server was down, say) are skipped
        for fresh attempts, up to one per worker; then the last failure is raised."""
        failure: BaseException | None = None
        for _ in range(self.workers + 1):
            with self._count_lock:
                self._waiting += 1
                # More takes than expected (notebooks graded again, maybe two at once): one more
                # sandbox for each taker that none coming would serve.
                short = self._coming < self._waiting and not self.closed
                if short:
                    self._count_one()
            if short:
                self.preparer.submit(self._prepare)
            try:
                item = self.ready.get(timeout=TIMEOUTS.sandbox_wait_s)
            except queue.Empty:
                raise GraderFault(FaultKind.KERNEL,
                                  f"no sandbox became ready within {TIMEOUTS.sandbox_wait_s:.0f} s") from None
            finally:
                with self._count_lock:
                    self._waiting -= 1
            with self._count_lock:
                self._coming -= 1
            if not self.closed and self.refill and self._wanted_ahead():
                self._make_one()
            if isinstance(item, Sandbox) and not item.session.started_alive():
                # made ahead, then lost before any learner code ran (its fork server was killed):
                # handing it out would cost the notebook an attempt for nothing
                self._discard(item)
                item = GraderFault(FaultKind.KERNEL, "a kernel made ahead died before it was used")
            if not isinstance(item, BaseException):
                return item
            failure = item
            if not self.refill:
                break
        assert failure is not None
        raise failure

    def _discard(self, sandbox: Sandbox) -> None:
        try:
            with contextlib.suppress(GraderFault):  # nothing was graded in it
                dispose_sandbox(self.context, sandbox)
        finally:
            self.users.put(sandbox.user)

    def give_back(self, sandbox: Sandbox) -> None:
        try:
            dispose_sandbox(self.context, sandbox)
        finally:
            self.users.put(sandbox.user)

    def close(self) -> None:
        self.closed = True
        self.preparer.shutdown(wait=True)
        while not self.ready.empty():
            item = self.ready.get_nowait()
            if isinstance(item, Sandbox):
                with contextlib.suppress(GraderFault):  # nothing was graded in it; the next run cleans up
                    dispose_sandbox(self.context, item)
        self._release_leases()

    def _release_leases(self) -> None:
        for lease in self.leases:
            lease.release()


def give_to(sandbox: Sandbox, path: Path) -> None:
    if sandbox.user:
        entry = pwd.getpwnam(sandbox.user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
