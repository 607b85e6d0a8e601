"""Configuration from the environment, and one readable line for every wrong setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

from pglab.db.server import EmbeddedServer
from pglab.settings import load_settings, mask_password
from tests.support.environment import clean_environ

PGLAB = [sys.executable, "-m", "pglab.cli"]


def run_pglab(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PGLAB, *args], env=clean_environ(**env), capture_output=True,
                          text=True, timeout=120)


def assert_one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pglab: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_mask_password_hides_only_the_password() -> None:
    assert mask_password("postgresql://u:s3cret@db:5433/x?sslmode=require") == (
        "postgresql://u:***@db:5433/x?sslmode=require"
    )
    assert mask_password("postgresql://u@db/x") == "postgresql://u@db/x"


def test_database_url_wins_and_pg_variables_count_as_external() -> None:
    assert load_settings({"DATABASE_URL": "postgresql://a:b@h/d"}).external
    assert load_settings({"PGHOST": "db.example"}).describe_external() == "the libpq variables PGHOST"
    assert not load_settings({}).external


def test_database_url_override_is_honoured(tmp_path: Path) -> None:
    """A second, independent server: every command must go there, not to an embedded one."""
    other = EmbeddedServer(tmp_path / "other", preferred_port=0)
    info = other.start()
    try:
        admin = psycopg2.connect(info.admin_url())
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE someone LOGIN PASSWORD 'pw'")
            cur.execute("CREATE DATABASE elsewhere OWNER someone")
        admin.close()
        url = f"postgresql://someone:pw@127.0.0.1:{info.port}/elsewhere"
        home = tmp_path / "must-stay-empty"
        printed = run_pglab("db", "url", DATABASE_URL=url, PGLAB_HOME=str(home))
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.strip() == url
        assert not (home / "pgdata").exists(), "no embedded server may start when DATABASE_URL is set"
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")  # `db url` loaded the course into it
            assert cur.fetchone()[0] > 5000
        stop = run_pglab("db", "stop", DATABASE_URL=url, PGLAB_HOME=str(home))
        assert stop.returncode == 0 and "does not stop" in stop.stdout
        assert "***" in stop.stdout and "pw@" not in stop.stdout
        status = run_pglab("db", "status", DATABASE_URL=url)
        assert status.returncode == 0 and "reachable" in status.stdout
    finally:
        other.stop()


def test_libpq_variables_alone_give_a_url_and_working_sql_cells(course_url: str, tmp_path: Path) -> None:
    """PGHOST & co. instead of DATABASE_URL: `db url` prints a URL (no password), `%sql` works with it."""
    parts = urlsplit(course_url)
    libpq = {"PGHOST": parts.hostname or "", "PGPORT": str(parts.port), "PGUSER": parts.username or "",
             "PGPASSWORD": parts.password or "", "PGDATABASE": parts.path.lstrip("/")}
    home = tmp_path / "must-stay-empty"
    printed = run_pglab("db", "url", PGLAB_HOME=str(home), **libpq)
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.strip()
    assert url == f"postgresql://{parts.username}@{parts.hostname}:{parts.port}/catalogue"
    assert not (home / "pgdata").exists()
    notebook = ("from pglab.learner.lesson_setup import setup\ncourse = setup()\n"
                "rows = get_ipython().run_cell_magic('sql', '', 'SELECT count(*) AS n FROM products')\n"
                "print('sql cell counted', rows[0][0])\n")
    script = tmp_path / "cells.ipy"
    script.write_text(notebook)
    done = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", str(script)], capture_output=True,
                          text=True, timeout=120, env=clean_environ(PGLAB_HOME=str(home), **libpq))
    assert "sql cell counted 5343" in done.stdout, done.stdout + done.stderr
    assert f"connected to {url} " in done.stdout


def test_libpq_variables_pointing_nowhere_are_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(run_pglab("db", "url", PGHOST="127.0.0.1", PGPORT="1", PGUSER="nobody"))
    assert "libpq variables PGHOST, PGPORT, PGUSER" in line and "unset them" in line


def test_database_url_pointing_nowhere_is_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(
        run_pglab("db", "status", DATABASE_URL="postgresql://me:topsecret@127.0.0.1:9/catalogue")
    )
    assert "postgresql://me:***@127.0.0.1:9/catalogue" in line
    assert "topsecret" not in line
    assert "unset DATABASE_URL" in line


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"DATABASE_URL": "mysql://root@localhost/shop"}, "is not a PostgreSQL URL"),
        ({"PGLAB_PORT": "fifty"}, "PGLAB_PORT='fifty' is not a TCP port"),
    ],
)
def test_wrong_settings_are_one_line(env: dict[str, str], expected: str) -> None:
    assert expected in assert_one_line_error(run_pglab("db", "url", **env))


def test_missing_data_directory_is_one_line(tmp_path: Path) -> None:
    line = assert_one_line_error(
        run_pglab("db", "start", PGLAB_HOME=str(tmp_path / "h"), PGLAB_DATA=str(tmp_path / "nodata"))
    )
    assert "course data missing" in line
