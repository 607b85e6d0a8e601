"""What a grading kernel can and cannot reach: environment, files, limits, databases."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg2
import pytest

from pglab.grading.batch import admin_url
from pglab.grading.database_copies import create_submission_database, drop_submission_database, ensure_template
from pglab.grading.grade_notebook import UserLease, kernel_environment
from pglab.grading.kernel_forkserver import ForkServer
from pglab.grading.kernel_session import KernelSession, Limits
from pglab.server import open_parents
from pglab.settings import PROJECT_ROOT, load_settings


@pytest.fixture()
def sandbox(course_database, tmp_path: Path):
    url = admin_url()
    ensure_template(url, load_settings().data_dir)
    database = create_submission_database(url, "sandboxtest")
    workspace = tmp_path / "ws"
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
    forkserver = ForkServer()
    session = KernelSession(workdir=workdir, env=kernel_environment(database.url, workdir),
                            limits=Limits(memory_mb=1500, cpu_s=60, nproc=100, fsize_mb=8), forkserver=forkserver,
                            user=user, hidden_paths=(PROJECT_ROOT / "solutions", PROJECT_ROOT / "grader"))
    session.start()
    yield session, database
    session.shutdown()
    forkserver.close()
    lease.release()
    drop_submission_database(url, database.name)


def test_kernel_sees_a_minimal_environment_and_only_its_folder(sandbox) -> None:
    session, database = sandbox
    env = session.evaluate("import os\nresult = dict(os.environ)")
    assert env["DATABASE_URL"] == database.url
    leaked = [k for k in env if any(word in k.upper() for word in ("ADMIN", "SECRET", "TOKEN", "PGLAB_HOME"))]
    assert leaked == []
    assert "PGPASSWORD" not in env and "DATABASE_URL" in env
    listing = session.evaluate("import os\nresult = sorted(n for n in os.listdir('.') if not n.startswith('.'))")
    assert listing == ["mine.ipynb"]


def test_kernel_runs_under_resource_limits(sandbox) -> None:
    session, _ = sandbox
    limits = session.evaluate(
        "import resource as r\n"
        "result = {n: r.getrlimit(getattr(r, n))[0] for n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE')}")
    assert limits == {"RLIMIT_AS": 1500 * 2**20, "RLIMIT_CPU": 60, "RLIMIT_FSIZE": 8 * 2**20}
    outcome = session.evaluate("try:\n    x = bytearray(3 * 2**30)\n    result = 'allocated'\n"
                               "except MemoryError:\n    result = 'MemoryError'")
    assert outcome == "MemoryError"


@pytest.mark.skipif(os.geteuid() != 0, reason="a separate user and private mounts need root")
def test_kernel_runs_as_another_user_and_cannot_read_instructor_files(sandbox) -> None:
    session, _ = sandbox
    assert session.evaluate("import os\nresult = os.getuid()") != 0
    for folder in ("solutions", "grader"):
        outcome = session.evaluate(
            f"import os\ntry:\n    result = os.listdir({str(PROJECT_ROOT / folder)!r})\n"
            "except OSError as err:\n    result = type(err).__name__")
        assert outcome == "PermissionError", f"{folder} is readable from the kernel: {outcome}"
    assert (PROJECT_ROOT / "solutions").is_dir(), "the grader's own view must be unaffected"


def test_submission_role_reaches_only_its_own_database(sandbox, course_url: str) -> None:
    session, database = sandbox
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
