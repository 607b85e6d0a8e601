"""How long a class takes to provision: ``pglab learners add`` for N names (goal: at most 0.2 s each).

Runs the real command on a throw-away embedded server (its own ``PGLAB_HOME`` in a temporary
folder, stopped and deleted at the end), or on ``PGLAB_ADMIN_URL``'s server with ``--admin-url``
(then the learners it adds, ``bench_*``, are removed again). Timed, each over the whole class:

- ``pglab learners add NAME...`` for N new learners (one command, as an instructor runs it);
- the same command again (every learner already there: the idempotent check-and-repair);
- ``ensure_learner`` for one existing learner, as a hub's pre_spawn_hook calls it at each spawn;
- ``pglab learners remove NAME...``.

::

    python benchmarks/learners.py              # 300 learners
    python benchmarks/learners.py -n 50 --admin-url "$PGLAB_ADMIN_URL"
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pglab.classroom.learners import ensure_learner
from pglab.db.server import EmbeddedServer, free_port

GOAL_S = 0.2


def pglab(env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pglab.cli", *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   timeout=1800)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--learners", type=int, default=300)
    parser.add_argument("--admin-url", help="provision on this server instead of a throw-away embedded one")
    args = parser.parse_args()
    names = [f"bench_{i:04d}" for i in range(1, args.learners + 1)]
    home = Path(tempfile.mkdtemp(prefix="pglab-bench-learners-"))
    server = None
    try:
        if args.admin_url:
            url = args.admin_url
        else:
            server = EmbeddedServer(home / ".pglab", preferred_port=free_port())
            url = server.start().admin_url()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["PGLAB_ADMIN_URL"] = url
        ensure_learner(url, "bench_warmup")  # the template and pglab_classroom, built once per server
        first = pglab(env, "learners", "add", *names)
        again = pglab(env, "learners", "add", *names)
        spawns = []
        for _ in range(20):
            started = time.monotonic()
            ensure_learner(url, names[0])
            spawns.append(time.monotonic() - started)
        removed = pglab(env, "learners", "remove", *names, "bench_warmup")
    finally:
        if server is not None:
            server.destroy()
        shutil.rmtree(home, ignore_errors=True)
    n = len(names)
    print(f"{n} learners on {'PGLAB_ADMIN_URL' if args.admin_url else 'a fresh embedded server'} "
          f"({os.cpu_count()} cores)")
    print(f"  pglab learners add (new):      {first:7.2f} s in all, {first / n:.3f} s per learner "
          f"(goal <= {GOAL_S} s: {'met' if first / n <= GOAL_S else 'NOT met'})")
    print(f"  pglab learners add (again):    {again:7.2f} s in all, {again / n:.3f} s per learner")
    print(f"  ensure_learner (hub spawn):    median {statistics.median(spawns) * 1000:.0f} ms of 20 "
          f"(max {max(spawns) * 1000:.0f} ms)")
    print(f"  pglab learners remove:         {removed:7.2f} s in all, {removed / n:.3f} s per learner")


if __name__ == "__main__":
    main()
