"""A fork server for grading kernels: import the heavy modules once, fork a kernel per notebook.

Starting ``python -m ipykernel`` costs ~0.7 s of CPU (interpreter, IPython, zmq, tornado, debugpy,
psycopg2), which on a 2-core machine bounds grading throughput. The server imports all that once;
each kernel is then a ``fork()`` that confines itself (:mod:`pglab.grading.sandbox`) and starts an
``IPKernelApp`` on a connection file the grader wrote: about 0.1 s of CPU. No zmq context or thread
exists in the server before it forks, so the children start clean.

Protocol: one JSON request per line on stdin, one ``{"pid": N}`` (or ``{"error": ...}``) per line on
stdout. The server ignores SIGCHLD so finished kernels are reaped by the system. When its stdin
closes (the grader exited, even by SIGKILL) it kills the kernels it started and exits, so a killed
grading run leaves no kernels behind. The grader restarts a fork server that died (a bounded number
of times) and never waits on it without a deadline.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict

from pglab.errors import FaultKind, GraderFault
from pglab.grading.sandbox import Confinement, confine

SPAWN_TIMEOUT_S = 30.0
MAX_RESTARTS = 3

PRELOAD = (
    "IPython", "IPython.core.interactiveshell", "ipykernel.kernelapp", "ipykernel.ipkernel",
    "ipykernel.zmqshell", "ipykernel.debugger", "ipykernel.comm", "jupyter_client.session",
    "tornado.ioloop", "zmq", "psycopg2", "psycopg2.extras", "psycopg2.pool", "psycopg2.errors",
    "pglab.catalogue", "pglab.grading.wire",
)


def _child(request: dict) -> None:
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the learner's subprocesses must be waitable
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        confine(Confinement(**request["confinement"]))
        os.environ.clear()
        os.environ.update(request["env"])
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize(["-f", request["connection_file"]])
        app.start()
    finally:
        os._exit(1)


def serve() -> None:
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    for name in PRELOAD:
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    children: dict[int, int] = {}  # pid -> pidfd: kernels are reaped at once and pids get reused
    for line in sys.stdin:
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as err:
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
            continue
        if pid == 0:
            _child(request)
        with contextlib.suppress(OSError):
            children[pid] = os.pidfd_open(pid)
        print(json.dumps({"pid": pid}), flush=True)
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
    """The grader's handle on one fork server process (thread-safe; restarts a dead server)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.restarts = 0
        self._process = self._start()

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pglab.grading.kernel_forkserver"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1"),
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def spawn(self, connection_file: str, env: dict[str, str], confinement: Confinement) -> int:
        """Fork a confined kernel; :class:`GraderFault` (KERNEL) when the server cannot answer."""
        request = json.dumps({"connection_file": connection_file, "env": env,
                              "confinement": asdict(confinement)}) + "\n"
        if not self._lock.acquire(timeout=SPAWN_TIMEOUT_S):
            raise GraderFault(FaultKind.KERNEL, f"the fork server was busy for {SPAWN_TIMEOUT_S:.0f} s")
        try:
            if self._process.poll() is not None:
                self._restart()
            try:
                answer = self._ask(request)
            except (OSError, ValueError):  # it died since: one more try with a new server
                self._restart()
                answer = self._ask(request)
        except (OSError, ValueError) as err:
            raise GraderFault(FaultKind.KERNEL, f"the fork server failed ({err})") from None
        finally:
            self._lock.release()
        if "error" in answer:
            raise GraderFault(FaultKind.KERNEL, f"the fork server could not fork a kernel: {answer['error']}")
        return int(answer["pid"])

    def _ask(self, request: str) -> dict:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(request)
        stdin.flush()
        deadline = time.monotonic() + SPAWN_TIMEOUT_S
        while not select.select([stdout], [], [], max(deadline - time.monotonic(), 0))[0]:
            if time.monotonic() >= deadline:
                self._process.kill()
                raise OSError(f"no answer within {SPAWN_TIMEOUT_S:.0f} s")
        line = stdout.readline()
        if not line:
            raise OSError("the fork server exited")
        answer = json.loads(line)
        if not isinstance(answer, dict):
            raise ValueError("the fork server sent something that is not an answer")
        return answer

    def _restart(self) -> None:
        if self.restarts >= MAX_RESTARTS:
            raise OSError(f"it died {self.restarts + 1} times in this run")
        self.restarts += 1
        self._close_process(self._process)
        self._process = self._start()

    @staticmethod
    def _close_process(process: subprocess.Popen[str]) -> None:
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def close(self) -> None:
        with self._lock:
            self._close_process(self._process)


if __name__ == "__main__":
    serve()
