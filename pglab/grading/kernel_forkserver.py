"""A fork server for grading kernels: import the heavy modules once, fork a kernel per notebook.

Starting ``python -m ipykernel`` costs ~0.7 s of CPU (interpreter, IPython, zmq, tornado, debugpy,
psycopg2), which on a 2-core machine bounds grading throughput. The server imports all that once;
each kernel is then a ``fork()`` that confines itself (:mod:`pglab.grading.sandbox`) and starts an
``IPKernelApp`` on a connection file the grader wrote: about 0.1 s of CPU. No zmq context or thread
exists in the server before it forks, so the children start clean.

Protocol: one JSON request per line on stdin, one ``{"pid": N}`` (or ``{"error": ...}``) per line on
stdout. The server ignores SIGCHLD so finished kernels are reaped by the system.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import asdict

from pglab.grading.sandbox import Confinement, confine

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
    for line in sys.stdin:
        try:
            request = json.loads(line)
            pid = os.fork()
        except Exception as err:
            print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
            continue
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)


class ForkServer:
    """The grader's handle on one fork server process (thread-safe)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pglab.grading.kernel_forkserver"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1"),
        )
        self._lock = threading.Lock()

    def spawn(self, connection_file: str, env: dict[str, str], confinement: Confinement) -> int:
        request = {"connection_file": connection_file, "env": env, "confinement": asdict(confinement)}
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline() or '{"error": "the fork server exited"}')
        if "error" in answer:
            raise OSError(f"could not start a grading kernel: {answer['error']}")
        return int(answer["pid"])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


if __name__ == "__main__":
    serve()
