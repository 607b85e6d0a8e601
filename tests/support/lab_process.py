"""A JupyterLab started the way a learner starts it, for tests that need one running.

The lab test, the browser test and the docs walkthroughs all start ``pglab lab`` (or ``make lab``)
headless on a free port with a known token, wait until it answers, and stop its whole process group
afterwards, so no server outlives its test.
"""

from __future__ import annotations

import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.hub_process import stop
from pglab.db.server import free_port

__all__ = ["Lab", "free_port", "headless_args", "new_token", "running_lab", "stop"]


@dataclass(frozen=True)
class Lab:
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, timeout: float = 10) -> str:
        separator = "&" if "?" in path else "?"
        with urllib.request.urlopen(f"{self.base}{path}{separator}token={self.token}", timeout=timeout) as r:
            return str(r.read().decode())

    def jupyter_server(self) -> psutil.Process:
        """The JupyterLab server under the command (``make``, ``pglab``); kernels inherit its environment."""
        servers = [p for p in psutil.Process(self.process.pid).children(recursive=True) if _is_jupyter_lab(p)]
        assert servers, f"no JupyterLab server process under {self.process.args}"
        return servers[0]


def _is_jupyter_lab(process: psutil.Process) -> bool:
    try:
        args = process.cmdline()
    except psutil.Error:  # a helper that has just exited (make forks a shell for each recipe line)
        return False
    return ("jupyter" in args and "lab" in args) or any(a.endswith("jupyter-lab") for a in args)


def headless_args(port: int, token: str) -> list[str]:
    """What ``pglab lab`` gets on top of a learner's command: no browser, this port, this token."""
    return ["--no-browser", "--port", str(port), "--", f"--IdentityProvider.token={token}"]


@contextmanager
def running_lab(command: list[str] | str, env: dict[str, str], log: Path, port: int, token: str,
                cwd: Path | None = None, startup_s: float = 90) -> Iterator[Lab]:
    """Run ``command`` (a list, or a shell line) until JupyterLab answers on ``port``; stop it after."""
    with log.open("w") as sink:
        process = subprocess.Popen(command, shell=isinstance(command, str), cwd=cwd, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lab = Lab(port, token, process, log)
        try:
            deadline = time.monotonic() + startup_s
            while True:
                try:
                    lab.get("/api/status", timeout=5)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        state = "exited" if process.poll() is not None else f"gave no answer in {startup_s:.0f} s"
                        raise AssertionError(f"JupyterLab ({command}) {state}:\n{log.read_text()[-3000:]}") from None
                    time.sleep(0.3)
            yield lab
        finally:
            stop(process)


def new_token() -> str:
    return secrets.token_hex(8)
