"""Stopping ``pglab hub`` stops everything it started: JupyterHub, its proxy, every learner's server.

``systemctl stop`` and most process managers send SIGTERM to ``pglab hub`` alone; a terminal's Ctrl-C
sends SIGINT. JupyterHub runs in a session of its own (so that a signal reaches it only through
here), and on any of SIGTERM, SIGINT or SIGHUP ``pglab hub`` asks it to shut down (SIGTERM: it stops
the learners' servers and the proxy itself), waits up to :data:`STOP_GRACE_S`, then kills the process
group of whatever it had started that is still running (servers and their kernels each run in a
process group of their own). Nothing is left holding the hub's port, so a restart works.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import FrameType

import psutil

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 40.0  # JupyterHub's own stop of a server waits up to 10 s (Spawner.term_timeout) and more
KILL_WAIT_S = 5.0


def run_until_stopped(command: list[str], cwd: Path, env: dict[str, str], grace_s: float = STOP_GRACE_S) -> int:
    """Run JupyterHub until it exits or a stop signal arrives; return its exit status (0 when stopped)."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
        while process.poll() is None and not stop.wait(0.5):
            pass
        if process.poll() is not None:
            return process.returncode
        print(f"{signal.Signals(received[0]).name}: stopping JupyterHub, its proxy and every learner's server "
              f"(up to {grace_s:.0f} s)", flush=True)
        stop_everything(process, grace_s)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_everything(process: subprocess.Popen, grace_s: float) -> list[int]:
    """SIGTERM JupyterHub, wait, then kill the groups of what it started; returns the pids killed."""
    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    _, alive = psutil.wait_procs(started, timeout=max(0.0, deadline - time.monotonic()))
    if process.poll() is None:
        alive.append(psutil.Process(process.pid))
    own_group = os.getpgrp()
    for leftover in alive:
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            group = os.getpgid(leftover.pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
            leftover.kill()
    psutil.wait_procs(alive, timeout=KILL_WAIT_S)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=KILL_WAIT_S)
    return [p.pid for p in alive]
