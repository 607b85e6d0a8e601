"""``pglab hub``'s stop: JupyterHub asked first, then whatever it started and left running is killed."""

from __future__ import annotations

import subprocess
import time

import psutil

from pglab.classroom.hub_shutdown import stop_everything

# A stand-in hub that starts a "server" in a session of its own which ignores SIGTERM, as a stuck
# learner server would, then waits; the hub itself ends on SIGTERM.
HUB = "setsid bash -c 'trap \"\" TERM; sleep 300' & wait"


def test_what_outlives_the_grace_period_is_killed_with_its_process_group() -> None:
    hub = subprocess.Popen(["bash", "-c", HUB], start_new_session=True)
    deadline = time.monotonic() + 10
    while not any(p.name() == "sleep" for p in psutil.Process(hub.pid).children(recursive=True)):
        assert time.monotonic() < deadline, "the stand-in server did not start"
        time.sleep(0.05)
    family = psutil.Process(hub.pid).children(recursive=True)
    killed = stop_everything(hub, grace_s=1.0)
    assert hub.poll() is not None
    _, alive = psutil.wait_procs(family, timeout=5)
    assert not alive and killed, (alive, killed)


def test_a_hub_that_stops_its_servers_itself_is_not_killed() -> None:
    hub = subprocess.Popen(["bash", "-c", "trap 'kill $!; exit 0' TERM; sleep 300 & wait"], start_new_session=True)
    deadline = time.monotonic() + 10
    while not any(p.name() == "sleep" for p in psutil.Process(hub.pid).children()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert stop_everything(hub, grace_s=20.0) == [] and hub.returncode == 0
