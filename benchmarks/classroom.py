"""A class logging in at once: N learners' servers started together through the hub's REST API.

On this machine only, as root: starts its own embedded PostgreSQL (a temporary PGLAB_HOME), creates
N system users, provisions each learner's database as a first login would (timed one by one), runs
``pglab hub`` on a free localhost port with a service token for this script, asks the hub to start all
N servers at the same moment, waits until each is ready (spawn time: request to ready), then in every
server starts a kernel and runs one cell that queries that learner's own database. Prints the
provisioning time per learner, spawn time p50/p95, failures (the goal is 0), and the memory of each
learner's server with its kernel. Everything is bounded (``--timeout``) and stopped at the end: the
hub with every server, the users, the database server.

    sudo .venv/bin/python benchmarks/classroom.py [--learners 20] [--timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from hub_process import class_users, running_hub, server_process  # a sibling: benchmarks/hub_process.py

CELL = ("import os, psycopg2\n"
        "conn = psycopg2.connect(os.environ['DATABASE_URL'])\n"
        "cur = conn.cursor()\n"
        "cur.execute('SELECT current_database(), count(*) FROM products')\n"
        "print(*cur.fetchone())\n"
        "conn.close()\n")
SERVICE = "classroom-benchmark"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def site_config(folder: Path, token: str) -> Path:
    """Hub configuration for this run only: a service whose token may create users and start servers."""
    path = folder / "benchmark_site_config.py"
    path.write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.JupyterHub.services = [{{'name': {SERVICE!r}, 'api_token': {token!r}}}]\n"
        f"c.JupyterHub.load_roles = [{{'name': {SERVICE!r}, 'services': [{SERVICE!r}],\n"
        "    'scopes': ['admin:users', 'admin:servers', 'access:servers']}]\n")
    path.chmod(0o600)
    return path


async def api(method: str, url: str, token: str, body: object | None = None, timeout: float = 60) -> tuple[int, dict]:
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    try:
        answer = await AsyncHTTPClient().fetch(
            url, method=method, headers={"Authorization": f"token {token}"}, request_timeout=timeout,
            body=None if body is None and method == "GET" else json.dumps(body or {}), allow_nonstandard_methods=True)
    except HTTPClientError as err:
        return err.code, {"error": str(err)}
    return answer.code, json.loads(answer.body or b"{}")


async def spawn(base: str, name: str, token: str, deadline: float) -> float:
    """Ask the hub to start ``name``'s server; seconds until the hub reports it ready."""
    started = time.perf_counter()
    code, answer = await api("POST", f"{base}/hub/api/users/{name}/server", token)
    if code not in (201, 202):
        raise RuntimeError(f"starting {name}'s server: HTTP {code} {answer}")
    while time.monotonic() < deadline:
        code, user = await api("GET", f"{base}/hub/api/users/{name}", token)
        server = (user.get("servers") or {}).get("", {})
        if server.get("ready"):
            return time.perf_counter() - started
        if code == 200 and not user.get("pending") and not server:
            raise RuntimeError(f"{name}'s server stopped while starting (see the hub log)")
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{name}'s server was not ready before the deadline")


async def run_cell(base: str, name: str, token: str, code: str, timeout: float = 120) -> str:
    """Start a kernel in ``name``'s server and run ``code`` there over the kernel websocket; its output."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    status, kernel = await api("POST", f"{base}/user/{name}/api/kernels", token, {"name": "python3"})
    if status != 201:
        raise RuntimeError(f"no kernel in {name}'s server: HTTP {status} {kernel}")
    ws_url = f"{base.replace('http', 'ws', 1)}/user/{name}/api/kernels/{kernel['id']}/channels"
    connection = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}))
    msg_id = uuid.uuid4().hex
    connection.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": name, "session": uuid.uuid4().hex,
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    output = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(connection.read_message(), timeout=max(0.1, deadline - time.monotonic()))
            if raw is None:
                raise RuntimeError(f"{name}'s kernel connection closed")
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                output.append(content["text"])
            elif kind == "error":
                output.append(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(output).strip()
        raise TimeoutError(f"{name}'s cell did not finish in {timeout:.0f} s")
    finally:
        connection.close()


def memory_mb(name: str) -> tuple[float, float]:
    """RSS and USS (memory only this server has) of ``name``'s server and everything under it, in MB."""
    server = server_process(name)
    processes = [server, *server.children(recursive=True)]
    rss = sum(p.memory_info().rss for p in processes)
    uss = sum(p.memory_full_info().uss for p in processes)
    return rss / 2**20, uss / 2**20


def kernel_transport(name: str) -> str:
    """How the kernels talk to their server (the hub's course config asks for ipc: no TCP ports to race for)."""
    for process in server_process(name).children(recursive=True):
        args = process.cmdline()
        if "-f" in args:
            return str(json.loads(Path(args[args.index("-f") + 1]).read_text())["transport"])
    return "unknown"


async def start_class(base: str, names: list[str], token: str, deadline: float) -> dict[str, float | Exception]:
    code, answer = await api("POST", f"{base}/hub/api/users", token, {"usernames": names})
    if code not in (201, 409):
        raise RuntimeError(f"adding the learners to the hub: HTTP {code} {answer}")
    results = await asyncio.gather(*(spawn(base, n, token, deadline) for n in names), return_exceptions=True)
    return dict(zip(names, results, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20, help="how many learners log in at once (default 20)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the whole run (default 600)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/classroom.py creates system users and runs the hub: run it as root", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.timeout
    work = Path(tempfile.mkdtemp(prefix="pglab-classroom-bench-"))
    for variable in ("DATABASE_URL", "PGLAB_ADMIN_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"):
        os.environ.pop(variable, None)
    os.environ.update(PGLAB_HOME=str(work / "pglab-home"), PGLAB_PORT="0")

    from pglab.classroom.learners import ensure_learner
    from pglab.db.provision import ensure_course_database
    from pglab.db.server import EmbeddedServer

    tag = secrets.token_hex(2)
    names = [f"bench{tag}_{i:03d}" for i in range(args.learners)]
    group = f"bench{tag}"
    token = secrets.token_hex(24)
    failures: list[str] = []
    try:
        course = ensure_course_database()
        assert course.embedded is not None
        admin_url = course.embedded.admin_url()
        print(f"{args.learners} learners, {psutil.cpu_count()} cores, "
              f"{psutil.virtual_memory().total / 2**30:.1f} GB memory", flush=True)

        provision_s = []
        for name in names:  # what each first login costs the hub's spawn hook
            started = time.perf_counter()
            ensure_learner(admin_url, name)
            provision_s.append(time.perf_counter() - started)
        print(f"provisioning per learner (first login): median {statistics.median(provision_s):.3f} s, "
              f"max {max(provision_s):.3f} s, total {sum(provision_s):.1f} s", flush=True)

        env = dict(os.environ, PGLAB_LEARNERS_GROUP=group, PGLAB_INSTRUCTORS_GROUP=f"{group}t",
                   PGLAB_HUB_SITE_CONFIG=str(site_config(work, token)))
        state = work / "hub"
        state.mkdir()
        with class_users({group: names, f"{group}t": []}) as passwords, \
                running_hub(passwords, admin_url, state, env) as hub:
            started = time.perf_counter()
            spawned = asyncio.run(start_class(hub.base, names, token, deadline))
            wall = time.perf_counter() - started
            ready = [n for n, r in spawned.items() if isinstance(r, float)]
            failures += [f"{n}: spawn: {r}" for n, r in spawned.items() if not isinstance(r, float)]
            times = [r for r in spawned.values() if isinstance(r, float)]
            if times:
                print(f"spawn time ({len(times)} servers started at once): p50 {percentile(times, 0.5):.1f} s, "
                      f"p95 {percentile(times, 0.95):.1f} s, max {max(times):.1f} s; all ready after {wall:.1f} s",
                      flush=True)

            async def cells() -> list[str | BaseException]:
                return await asyncio.gather(*(run_cell(hub.base, n, token, CELL) for n in ready),
                                            return_exceptions=True)

            outputs = dict(zip(ready, asyncio.run(cells()), strict=True))
            for name, output in outputs.items():
                if not isinstance(output, str) or output.split() != [name, "5343"]:
                    failures.append(f"{name}: cell printed {output!r}, expected '{name} 5343'")
            with ThreadPoolExecutor(4) as pool:
                memory = list(pool.map(memory_mb, ready))
            if memory:
                rss = [m[0] for m in memory]
                uss = [m[1] for m in memory]
                print(f"memory per learner server with one kernel: RSS median {statistics.median(rss):.0f} MB "
                      f"(max {max(rss):.0f}), USS median {statistics.median(uss):.0f} MB (max {max(uss):.0f}); "
                      f"kernel transport: {kernel_transport(ready[0])}", flush=True)
            if failures:
                print("the hub's log ends with:\n" + hub.log.read_text()[-3000:], flush=True)
            print(f"cells run: {len(outputs) - sum(1 for f in failures if 'cell printed' in f)} of {args.learners}, "
                  f"each against its own database", flush=True)
    finally:
        EmbeddedServer(work / "pglab-home").stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"failures: {len(failures)} (goal 0)")
    for failure in failures[:10]:
        print(f"  {failure}")
    return 0 if not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
