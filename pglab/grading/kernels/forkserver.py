"""A fork server for grading kernels: import the heavy modules once, fork a kernel per notebook.

Starting ``python -m ipykernel`` costs ~0.7 s of CPU (interpreter, IPython, zmq, tornado, debugpy,
psycopg2), which on a 2-core machine bounds grading throughput. The server imports all that once;
each kernel is then a ``fork()`` that confines itself and starts an ``IPKernelApp`` on a connection
file the grader wrote: about 0.1 s of CPU. No zmq context or thread exists in the server before it
forks, so the children start clean.

In the grading sandbox the server itself runs inside ``bwrap`` (:mod:`pglab.grading.kernels.bubblewrap`) and
each forked child enters namespaces of its own (:mod:`pglab.grading.kernels.namespaces`): the child
becomes, as root, the throw-away user, enters its namespaces and forks an init (PID 1 of the
kernel's PID namespace), which forks the kernel (PID 2). The kernel reports its and the init's
process ids as the grader sees them (through a pipe, before its own ``/proc`` hides the host's).
Without the sandbox (``--unsafe-no-sandbox``) the child only applies :func:`~pglab.grading.kernels.confinement.confine`.

Protocol (:class:`~pglab.messages.ForkRequest`, :class:`~pglab.messages.ForkAnswer`): the server
prints a *ready* answer (or an error) once it has loaded and, in the sandbox, tried the namespaces
once; then one request per line on stdin, one answer (the kernel's process ids, or an error) per
line on stdout. The server ignores SIGCHLD so finished
children are reaped by the system. When its stdin closes (the grader exited, even by SIGKILL) the
kernels go too: in the sandbox, ``bwrap --die-with-parent`` and the PID namespace take them all; without
it, the server kills the kernels it started. The grader restarts a fork server that died (a bounded
number of times) and never waits on it without a deadline.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, NamedTuple

from pglab.errors import FaultKind, GraderFault
from pglab.grading.kernels.confinement import Confinement, confine, set_limits, switch_user
from pglab.grading.timeouts import TIMEOUTS
from pglab.messages import ForkAnswer, ForkRequest

MAX_RESTARTS = 3

PRELOAD = (
    "IPython", "IPython.core.interactiveshell", "ipykernel.kernelapp", "ipykernel.ipkernel",
    "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm", "jupyter_client.session",
    "tornado.ioloop", "zmq", "psycopg2", "psycopg2.extras", "psycopg2.pool", "psycopg2.errors",
    "pglab.learner.catalogue", "pglab.checks.wire",
    # What every challenge's set-up cell imports (the visible checks, pytest with them): 150 ms of
    # a kernel's CPU per notebook when each kernel imported it (benchmarks/classroom_grading.py).
    # Not pglab.learner.challenge_setup itself: importing it reads DATABASE_URL and connects.
    "pglab.learner.check_your_work",
    # What IPKernelApp.initialize imports in each kernel (10 ms of its CPU).
    "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect", "IPython.extensions.storemagic",
    "IPython.utils.wildcard", "faulthandler", "pdb", "tornado.platform.asyncio",
)


def interpreter() -> str:
    """This Python as the sandbox can run it: its folder's links resolved (a course whose ``.venv``
    links to another, which is all the sandbox mounts), its own name kept (a venv's ``python`` is a
    link to the base interpreter, and must stay the venv's)."""
    executable = Path(sys.executable)
    return str(executable.parent.resolve() / executable.name)


class KernelProcess(NamedTuple):
    """A started kernel as the grader sees it."""

    pid: int  # the kernel: interrupt it, watch it
    init: int  # PID 1 of its namespace (killing it ends every process in there); 0 without the sandbox
    generation: int = 0  # which start of the fork server forked it (see ForkServer.lost)


def _report(fd: int, answer: ForkAnswer) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, (answer.line() + "\n").encode())
        os.close(fd)


def _child(request: ForkRequest, database_socket: list[str] | None, report: int, sandboxed: bool) -> None:
    """The forked child: confine, then (in the sandbox: two forks later) become the kernel."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the learner's subprocesses must be waitable
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        spec = Confinement(**request.confinement)
        if sandboxed:
            _enter_sandbox(spec, report, database_socket)
        else:
            confine(spec)
            _report(report, ForkAnswer(pid=os.getpid()))
        if request.probe:
            return
        os.environ.clear()
        os.environ.update(request.env)
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        # No history file: IPython's would be an SQLite database (and a thread) per kernel, written
        # to and deleted with the notebook's folder; In, Out and %history keep working in memory.
        app.initialize(["-f", request.connection_file, "--HistoryManager.enabled=False"])
        app.start()
    except BaseException as err:
        _report(report, ForkAnswer(error=f"{type(err).__name__}: {err}"))
    finally:
        os._exit(1)


def _enter_sandbox(spec: Confinement, report: int, database_socket: list[str] | None) -> None:
    """Returns in the kernel process (PID 2 of a new PID namespace), fully confined."""
    from pglab.grading.kernels import namespaces as ns

    with contextlib.suppress(OSError):
        os.setsid()
    if spec.user and os.geteuid() == 0:
        switch_user(spec.user)
    ns.enter_kernel_namespaces(spec.workdir, database_socket)
    if os.fork() != 0:
        os._exit(0)  # the init below is adopted by the sandbox's own init
    kernel = os.fork()  # this process is PID 1 of the new namespace
    if kernel != 0:
        os.close(report)
        _run_init(kernel)
    pid, init = ns.host_pids()
    ns.mount_own_proc()
    ns.drop_privileges()
    # The process count is per user namespace (Linux >= 5.14): this namespace holds only the kernel.
    set_limits(spec, nproc=spec.nproc)
    os.chdir(spec.workdir)
    _report(report, ForkAnswer(pid=pid, init=init))


def _run_init(kernel: int) -> None:
    """PID 1 of a kernel's namespace: reap orphans; when the kernel ends, end (and so end the rest)."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(0)
        if pid == kernel:
            os._exit(min(max(os.waitstatus_to_exitcode(status), 0), 255))


def _read_report(fd: int) -> ForkAnswer:
    data = b""
    deadline = time.monotonic() + TIMEOUTS.kernel_report_s
    try:
        while b"\n" not in data and (left := deadline - time.monotonic()) > 0:
            if not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    return ForkAnswer.read(data.split(b"\n", 1)[0], silent="the kernel's sandbox set-up ended without a word")


def _fork(request: ForkRequest, database_socket: list[str] | None, sandboxed: bool) -> ForkAnswer:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError as err:
        os.close(read_end)
        os.close(write_end)
        return ForkAnswer(error=f"{type(err).__name__}: {err}")
    if pid == 0:
        os.close(read_end)
        _child(request, database_socket, write_end, sandboxed)
    os.close(write_end)
    return _read_report(read_end)


def _probe(database_socket: list[str] | None) -> ForkAnswer:
    """Enter a kernel's namespaces once, so a machine that refuses them is told before grading."""
    workdir = tempfile.mkdtemp(prefix=".probe-", dir=os.getcwd())
    user = "nobody" if os.geteuid() == 0 else ""
    try:
        os.chmod(workdir, 0o711)  # reachable by the probe's user (the server may not chown)
        limits = Confinement(workdir=workdir, cpu_s=10, memory_mb=1024, nproc=16, fsize_mb=1, user=user)
        return _fork(ForkRequest(connection_file="", env={}, confinement=asdict(limits), probe=True),
                     database_socket, sandboxed=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def serve(sandboxed: bool, database_socket: list[str] | None = None) -> None:
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    for name in PRELOAD:
        importlib.import_module(name)
    gc.freeze()  # the preloaded objects out of the collector's sight: a kernel's collections never copy their pages
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    probe = _probe(database_socket) if sandboxed else ForkAnswer()
    print((ForkAnswer(error=probe.error) if probe.error else ForkAnswer(ready=True)).line(), flush=True)
    if probe.error:
        return
    children: dict[int, int] = {}  # pid -> pidfd: kernels are reaped at once and pids get reused
    for line in sys.stdin:
        try:
            answer = _fork(ForkRequest.read(line), database_socket, sandboxed)
        except Exception as err:
            answer = ForkAnswer(error=f"{type(err).__name__}: {err}")
        if not sandboxed and answer.pid:
            with contextlib.suppress(OSError):
                children[answer.pid] = os.pidfd_open(answer.pid)
        print(answer.line(), flush=True)
        _forget_exited(children)
    _forget_exited(children)
    for pid in children:  # the grader is gone: so are its live kernels (each leads its own group)
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def _forget_exited(children: dict[int, int]) -> None:
    exited = select.select(list(children.values()), [], [], 0)[0] if children else []
    for pid, pidfd in list(children.items()):
        if pidfd in exited:
            os.close(pidfd)
            del children[pid]


class ForkServer:
    """The grader's handle on one fork server process (thread-safe; restarts a dead server).

    ``sandbox`` is the ``bwrap`` command line to run it in (see
    :func:`pglab.grading.kernels.bubblewrap.bwrap_command`), empty to run it without the sandbox;
    ``database_socket`` the server's socket folder and the socket's place, as the sandbox shows them.
    """

    def __init__(self, sandbox: list[str] | None = None, database_socket: tuple[str, str] | None = None,
                 wait: bool = True) -> None:
        """``wait`` False: launched only; :meth:`wait_ready` waits for its answer (see
        :mod:`pglab.grading.head_start`)."""
        self.sandboxed = bool(sandbox)
        self._command = [*(sandbox or []), interpreter(), "-m", "pglab.grading.kernels.forkserver"]
        if sandbox:
            self._command.append("--sandboxed")
        if database_socket:
            self._command += ["--database-socket", *database_socket]
        self._lock = threading.Lock()
        self.restarts = 0
        self._process, self._stderr = self._launch()
        self._unanswered = True
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the server launched said it is ready (OSError with its reason if it is not)."""
        if self._unanswered:
            self._unanswered = False
            self._check_ready(self._process, self._stderr)

    def _start(self) -> tuple[subprocess.Popen[str], IO[bytes]]:
        """A new server, once it said it is ready (OSError with its reason if it is not)."""
        process, stderr = self._launch()
        self._check_ready(process, stderr)
        return process, stderr

    def _launch(self) -> tuple[subprocess.Popen[str], IO[bytes]]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the server runs)
        process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr, text=True, env=env)
        return process, stderr

    def _check_ready(self, process: subprocess.Popen[str], stderr: IO[bytes]) -> None:
        try:
            answer = self._read_answer(process, stderr, TIMEOUTS.forkserver_start_s)
        except (OSError, ValueError):
            self._close_process(process, stderr)
            raise
        if answer.error:  # it started, but a kernel's namespaces could not be entered
            self._close_process(process, stderr)
            raise OSError(answer.error)

    @property
    def pid(self) -> int:
        return self._process.pid

    def lost(self, generation: int) -> bool:
        """Whether the kernels forked by start ``generation`` of the server died with it: true in the
        sandbox (they live in its PID namespace) once that server exited; never without it."""
        return self.sandboxed and (generation != self.restarts or self._process.poll() is not None)

    def spawn(self, connection_file: str, env: dict[str, str], confinement: Confinement) -> KernelProcess:
        """Fork a confined kernel; :class:`GraderFault` (KERNEL) when the server cannot answer."""
        request = ForkRequest(connection_file, env, asdict(confinement)).line() + "\n"
        if not self._lock.acquire(timeout=TIMEOUTS.kernel_spawn_s):
            raise GraderFault(FaultKind.KERNEL, f"the fork server was busy for {TIMEOUTS.kernel_spawn_s:.0f} s")
        try:
            if self._unanswered:  # launched ahead and never waited for: not graded without its answer
                self.wait_ready()
            if self._process.poll() is not None:
                self._restart()
            try:
                answer = self._ask(request)
            except (OSError, ValueError):  # it died since: one more try with a new server
                self._restart()
                answer = self._ask(request)
            generation = self.restarts
        except (OSError, ValueError) as err:
            raise GraderFault(FaultKind.KERNEL, f"the fork server failed ({err})") from None
        finally:
            self._lock.release()
        if answer.error:
            raise GraderFault(FaultKind.KERNEL, f"the fork server could not fork a kernel: {answer.error}")
        return KernelProcess(answer.pid, answer.init, generation)

    def _ask(self, request: str) -> ForkAnswer:
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(request)
        stdin.flush()
        return self._read_answer(self._process, self._stderr, TIMEOUTS.kernel_spawn_s)

    @staticmethod
    def _read_answer(process: subprocess.Popen[str], stderr: IO[bytes], timeout: float) -> ForkAnswer:
        """One answer line; OSError with the reason when the server exited or went silent (then killed)."""
        stdout = process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while not select.select([stdout], [], [], max(deadline - time.monotonic(), 0))[0]:
            if time.monotonic() >= deadline:
                process.kill()
                raise OSError(f"the fork server did not answer within {timeout:.0f} s")
        line = stdout.readline()
        if not line:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            stderr.seek(0)
            said = [s.strip() for s in stderr.read().decode(errors="replace").splitlines() if s.strip()]
            raise OSError(f"the fork server exited ({said[-1] if said else 'no message'})")
        answer = ForkAnswer.read(line, silent="")
        if not (answer.pid or answer.error or answer.ready):
            raise ValueError("the fork server sent something that is not an answer")
        return answer

    def _restart(self) -> None:
        if self.restarts >= MAX_RESTARTS:
            raise OSError(f"it died {self.restarts + 1} times in this run")
        self.restarts += 1
        self._close_process(self._process, self._stderr)
        self._process, self._stderr = self._start()

    @staticmethod
    def _close_process(process: subprocess.Popen[str], stderr: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        stderr.close()

    def close(self) -> None:
        with self._lock:
            self._close_process(self._process, self._stderr)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    socket_at = arguments.index("--database-socket") + 1 if "--database-socket" in arguments else 0
    serve(sandboxed="--sandboxed" in arguments, database_socket=arguments[socket_at:socket_at + 2] or None)
