"""What a grading kernel can and cannot reach: environment, files, limits, databases."""

from __future__ import annotations

import os
import pwd
import socket
import time
from pathlib import Path

import psutil
import psycopg2
import pytest

from pglab.db import scratch_tablespace
from pglab.db.provision import admin_url
from pglab.db.server import open_parents
from pglab.grading.database_copies import create_submission_database, drop_submission_database, ensure_template
from pglab.grading.early_sandbox import ContextSettings, EarlySandbox
from pglab.grading.kernels.bubblewrap import SandboxPlan, find_bwrap, socket_url
from pglab.grading.kernels.session import KernelSession
from pglab.grading.outcome import CellStatus
from pglab.grading.sandbox import (
    SandboxPool,
    UserLease,
    dispose_sandbox,
    grading_context,
    kernel_environment,
    prepare_sandbox,
)
from pglab.grading.timeouts import Limits
from pglab.settings import PROJECT_ROOT, load_settings


@pytest.fixture(scope="module")
def sandbox(course_database, tmp_path_factory: pytest.TempPathFactory):
    url = admin_url()
    ensure_template(url, load_settings().data_dir)
    database = create_submission_database(url, "sandboxtest")
    workspace = tmp_path_factory.mktemp("sandbox") / "ws"
    workspace.mkdir(mode=0o711)
    workdir = workspace / "submission"
    workdir.mkdir(mode=0o700)
    (workdir / "mine.ipynb").write_text("{}")
    lease = UserLease()
    user = lease.name
    if user:
        entry = pwd.getpwnam(user)
        open_parents(workdir)
        for path in (workdir, workdir / "mine.ipynb"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    plan = SandboxPlan.for_server(url)
    forkserver = plan.start_forkserver(workspace)
    kernel_url = socket_url(database.url, plan.socket)
    session = KernelSession(workdir=workdir, env=kernel_environment(kernel_url, workdir),
                            limits=Limits(memory_mb=1500, cpu_s=60, nproc=100, fsize_mb=8), forkserver=forkserver,
                            user=user, hidden_paths=(PROJECT_ROOT / "solutions", PROJECT_ROOT / "grader"))
    session.start()
    yield session, database, kernel_url
    session.shutdown()
    forkserver.close()
    lease.release()
    drop_submission_database(url, database.name)


def test_kernel_sees_a_minimal_environment_and_only_its_folder(sandbox) -> None:
    session, _, kernel_url = sandbox
    env = session.evaluate("import os\nresult = dict(os.environ)")
    assert env["DATABASE_URL"] == kernel_url
    leaked = [k for k in env if any(word in k.upper() for word in ("ADMIN", "SECRET", "TOKEN", "PGLAB_HOME"))]
    assert leaked == []
    assert "PGPASSWORD" not in env and "DATABASE_URL" in env
    listing = session.evaluate("import os\nresult = sorted(n for n in os.listdir('.') if not n.startswith('.'))")
    assert listing == ["mine.ipynb"]


def test_kernel_runs_under_resource_limits(sandbox) -> None:
    session, _, _ = sandbox
    limits = session.evaluate(
        "import resource as r\n"
        "result = {n: r.getrlimit(getattr(r, n))[0] for n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE')}")
    assert limits == {"RLIMIT_AS": 1500 * 2**20, "RLIMIT_CPU": 60, "RLIMIT_FSIZE": 8 * 2**20}
    outcome = session.evaluate("try:\n    x = bytearray(3 * 2**30)\n    result = 'allocated'\n"
                               "except MemoryError:\n    result = 'MemoryError'")
    assert outcome == "MemoryError"


def test_an_interrupt_between_a_cells_code_and_its_reply_is_a_timeout_not_a_dead_kernel(sandbox) -> None:
    """A cell that ends just as its time runs out: the interrupt lands while ipykernel is about to
    reply, which it then drops (seen in CI: a learner's 5 s query under a 5 s cell limit). The kernel
    says idle and works on; calling it dead cost the learner every point of the notebook."""
    session, _, _ = sandbox
    # ipykernel sleeps _execute_sleep s between a cell's code and its reply: widened, the
    # interrupt lands in that window every time instead of once in a few dozen runs.
    widen = "execute_sleep = get_ipython().kernel._execute_sleep\nget_ipython().kernel._execute_sleep = 3.0"
    assert session.run_cell(widen).status is CellStatus.OK
    try:
        late = session.run_cell("import time\ntime.sleep(0.2)\nreached = True", timeout=1.0)
        assert (late.status, late.error) == (CellStatus.TIMEOUT, "timed out")
        assert session.alive and session.death_reason == ""
    finally:
        session.run_cell("get_ipython().kernel._execute_sleep = execute_sleep", timeout=10)
    assert session.evaluate("result = reached") is True


@pytest.mark.skipif(os.geteuid() != 0, reason="a throw-away user needs root")
def test_as_root_the_kernel_runs_as_a_throw_away_user(sandbox) -> None:
    session, _, _ = sandbox
    uid = session.evaluate("import os\nresult = os.getuid()")
    assert uid != 0 and pwd.getpwuid(uid).pw_name.startswith("pglab-grade")


def test_kernel_sees_no_course_folder_and_writes_only_its_own(sandbox, tmp_path: Path) -> None:
    session, _, _ = sandbox
    listed = [str(PROJECT_ROOT / "solutions"), str(PROJECT_ROOT / "grader"), str(PROJECT_ROOT),
              str(session.workdir.parent), "/run/pglab-database", "/run/pglab-database-server"]
    targets = [str(tmp_path / "escape.txt"), "/tmp/escape.txt", str(session.workdir.parent / "escape.txt"),
               "/escape.txt", "/dev/escape.txt", str(PROJECT_ROOT / "pglab" / "escape.txt")]
    probe = f"""import os
result = {{}}
for path in {listed!r}:
    try:
        result[path] = sorted(os.listdir(path))
    except OSError as err:
        result[path] = type(err).__name__
for path in {targets!r}:
    try:
        with open(path, "w") as f:
            f.write("escaped")
        result[path] = "written"
    except OSError as err:
        result[path] = type(err).__name__
with open("mine.txt", "w") as f:
    result["mine.txt"] = f.write("ok")
"""
    seen = session.evaluate(probe)
    assert seen[str(PROJECT_ROOT / "solutions")] == "FileNotFoundError"
    assert seen[str(PROJECT_ROOT / "grader")] == "FileNotFoundError"
    assert seen[str(PROJECT_ROOT)] == [".venv", "pglab"] or seen[str(PROJECT_ROOT)] == ["pglab"], seen
    assert seen[str(session.workdir.parent)] == [session.workdir.name], "other kernels' folders are visible"
    assert [name.startswith(".s.PGSQL.") for name in seen["/run/pglab-database"]] == [True], seen
    assert seen["/run/pglab-database-server"] == [], "the server's folder (and its log) is visible"
    written = {k: v for k, v in seen.items() if v == "written"}
    assert written == {}, f"the kernel wrote outside its folder: {written}"
    assert seen["mine.txt"] == 2 and (session.workdir / "mine.txt").read_text() == "ok"
    assert not (tmp_path / "escape.txt").exists() and not (session.workdir.parent / "escape.txt").exists()
    assert (PROJECT_ROOT / "solutions").is_dir(), "the grader's own view must be unaffected"


def test_kernel_has_its_own_pid_namespace_and_no_network(sandbox) -> None:
    session, _, _ = sandbox
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        seen = session.evaluate(f"""import os, socket, signal
result = {{"pid": os.getpid(), "proc": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}}
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    result["tcp"] = "connected"
except OSError as err:
    result["tcp"] = type(err).__name__
try:
    os.kill({os.getpid()}, 0)
    result["grader"] = "reachable"
except OSError as err:
    result["grader"] = type(err).__name__
""")
        with pytest.raises(TimeoutError):
            server.accept()
    assert seen["pid"] == 2 and seen["proc"] == [1, 2], seen
    assert seen["tcp"] in ("OSError", "ConnectionRefusedError"), seen  # its own network: loopback is down
    assert seen["grader"] == "ProcessLookupError", seen


def test_kernel_reaches_its_database_through_the_socket(sandbox) -> None:
    session, _, kernel_url = sandbox
    assert "localhost" not in kernel_url and "%2F" in kernel_url
    count = session.evaluate("import os, psycopg2\nwith psycopg2.connect(os.environ['DATABASE_URL']) as c:\n"
                             "    cur = c.cursor()\n    cur.execute('SELECT count(*) FROM products')\n"
                             "    result = cur.fetchone()[0]")
    assert count > 5000


def test_submission_role_reaches_only_its_own_database(sandbox, course_url: str) -> None:
    session, database, _ = sandbox
    with psycopg2.connect(database.url) as conn, conn.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "8s"
        cur.execute("SHOW lock_timeout")
        assert cur.fetchone()[0] == "3s"
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] > 5000
    other = database.url.rsplit("/", 1)[0]
    for target in ("catalogue", "postgres", "pglab_grading_template"):
        with pytest.raises(psycopg2.OperationalError, match="pg_hba.conf rejects connection"):
            psycopg2.connect(f"{other}/{target}", connect_timeout=5)


def test_copies_go_to_the_scratch_tablespace_and_to_disk_without_it(course_database) -> None:
    """The copy lands on the RAM disk (pglab.db.scratch_tablespace); with that folder gone (a reboot,
    until the server's next start) copies are made on disk rather than failing."""
    if course_database.embedded is None:
        pytest.skip("the scratch tablespace is the embedded server's")
    url = admin_url()
    settings = load_settings()
    ensure_template(url, settings.data_dir)
    where = scratch_tablespace.folder(settings.home / "pgdata")
    assert where is not None

    def tablespace(database: str) -> str:
        with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cur:
            cur.execute("SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
                        "WHERE d.datname = %s", (database,))
            return str(cur.fetchone()[0])

    on_ram = create_submission_database(url, "scratchtest")
    try:
        assert tablespace(on_ram.name) == scratch_tablespace.NAME
    finally:
        drop_submission_database(url, on_ram.name)
    hidden = where.with_name(where.name + ".away")
    where.rename(hidden)
    try:
        on_disk = create_submission_database(url, "scratchtest")
        try:
            assert tablespace(on_disk.name) == "pg_default"
        finally:
            drop_submission_database(url, on_disk.name)
    finally:
        hidden.rename(where)


def test_nothing_a_kernel_started_outlives_its_notebook(course_database) -> None:
    """Detached grandchildren (a new session, the kernel's parent gone) die with the sandbox, and are
    gone by the time the sandbox is given back (the next notebook may get the same user)."""
    marker = "3007.25"  # an argument no other process on the machine has
    with grading_context(Limits(), find_bwrap(), set(), None, []) as context:
        lease = UserLease()
        try:
            sandbox = prepare_sandbox(context, lease.name)
            try:
                run = sandbox.session.run_cell(
                    "import os, subprocess\n"
                    f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
                    "if os.fork() == 0:\n"
                    "    os.setsid()\n"
                    f"    if os.fork() == 0:\n        os.execvp('sleep', ['sleep', '{marker}'])\n"
                    "    os._exit(0)\n")
                assert run.status is CellStatus.OK, run.error
                deadline = time.monotonic() + 10  # the detached one execs a moment after the cell ends
                while len(_sleepers(marker)) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert len(_sleepers(marker)) == 2
            finally:
                dispose_sandbox(context, sandbox)
            assert _sleepers(marker) == []
        finally:
            lease.release()


def test_a_kernel_made_ahead_that_died_waiting_is_not_handed_out(course_database) -> None:
    """The fork server killed while a sandbox waits in the pool (its kernel dies with it in the
    sandbox): the notebook that takes one gets a running kernel, not an attempt spent for nothing."""
    with grading_context(Limits(), find_bwrap(), set(), None, []) as context:
        pool = SandboxPool(context, workers=1, expected=2)
        try:
            deadline = time.monotonic() + 60
            while pool.ready.qsize() < 1:
                assert time.monotonic() < deadline, "no sandbox was made ahead"
                time.sleep(0.05)
            waiting = pool.ready.queue[0]
            assert not isinstance(waiting, BaseException), waiting
            psutil.Process(context.forkserver.pid).kill()
            deadline = time.monotonic() + 10
            while waiting.session.started_alive():
                assert time.monotonic() < deadline, "the kernel outlived its fork server: the test proves nothing"
                time.sleep(0.05)
            taken = pool.take()
            try:
                assert taken is not waiting
                run = taken.session.run_cell("print(6 * 7)")
                assert run.status is CellStatus.OK and run.output.strip() == "42", run
            finally:
                pool.give_back(taken)
        finally:
            pool.close()


def _submission_databases() -> list[str]:
    with psycopg2.connect(admin_url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sub\\_%'")
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    return names


def _forkservers() -> list[psutil.Process]:
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if "pglab.grading.kernels.forkserver" in " ".join(p.cmdline())]


def test_an_early_sandbox_is_adopted_when_it_covers_the_run_and_undone_when_not(course_database,
                                                                                tmp_path: Path) -> None:
    """Made for every submitted notebook, it serves a run grading some of them (its kernel runs
    code); a run grading with other limits, or nothing at all, gets it undone: no database copy,
    no fork server, no kernel left."""
    checks = PROJECT_ROOT / "grader" / "checks"
    files = frozenset(sorted(checks.rglob("test_*.py"))[:2])
    assert files, "no check modules to collect: the test proves nothing"
    made = ContextSettings(Limits(), find_bwrap(), frozenset({PROJECT_ROOT / "solutions"}), tmp_path, files)
    before = _submission_databases()
    servers = {p.pid for p in _forkservers()}  # another test's fixture may hold one

    early = EarlySandbox(made, None)
    fewer = ContextSettings(made.limits, made.bwrap, made.sources, made.out, frozenset(sorted(files)[:1]))
    adopted = early.adopt(fewer)
    assert adopted is not None and adopted.made is not None
    sandbox, lease = adopted.made
    try:
        run = sandbox.session.run_cell("print(6 * 7)")
        assert run.status is CellStatus.OK and run.output.strip() == "42", run
        assert len(_submission_databases()) == len(before) + 1
        early.close()  # the run owns it now: closing the early one undoes nothing
        assert sandbox.session.started_alive()
    finally:
        dispose_sandbox(adopted.context, sandbox)
        lease.release()
        adopted.stack.close()
    assert _submission_databases() == before and {p.pid for p in _forkservers()} == servers

    for other in (ContextSettings(Limits(cell_timeout_s=3.0), made.bwrap, made.sources, made.out, files), None):
        early = EarlySandbox(made, None)
        if other is not None:
            assert early.adopt(other) is None  # other limits: the run starts its own context
        else:
            early.close()  # nothing to grade
        assert _submission_databases() == before and {p.pid for p in _forkservers()} == servers


def _sleepers(marker: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["cmdline"] == ["sleep", marker] and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc.pid)
    return found
