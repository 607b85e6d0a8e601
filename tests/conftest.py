"""Test fixtures: one real PostgreSQL for the session, chosen by the environment.

Like psycopg's ``tests/fix_db.py``: set ``PGLAB_TEST_DATABASE_URL`` to run the suite against a server
you already have (it must allow dropping and recreating the ``public`` schema); otherwise the suite
starts its own embedded server in a temporary ``PGLAB_HOME`` (on port ``PGLAB_TEST_PORT``, 5432 by
default) and stops it at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pglab.db import scratch_tablespace
from pglab.db.provision import CourseDatabase, ensure_course_database
from pglab.db.server import EmbeddedServer
from pglab.settings import LIBPQ_SERVER_VARIABLES, PROJECT_ROOT, load_settings

_suite_started = time.monotonic()


@pytest.hookimpl(tryfirst=True)  # before pytest's own tmp_path plugin reads the option
def pytest_configure(config: pytest.Config) -> None:
    """The suite's temporary folders live outside pytest's shared ``/tmp/pytest-of-<user>`` root.

    The embedded servers the suite starts run as an unprivileged user, so their data folders'
    parents are opened to it (``open_parents``). Any other pytest session on the machine (the
    ``make test-fast`` a README walkthrough runs, a developer's run beside the suite) resets that
    shared root to mode 0700, and every server under it stops ("could not open pg_control:
    Permission denied"). ``--basetemp`` still wins.
    """
    if config.option.basetemp is None:
        folder = tempfile.mkdtemp(prefix="pglab-suite-")
        config.option.basetemp = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The RAM-disk folders of the clusters tests made in this session's temporary folders
    (pglab.db.scratch_tablespace), found by their clusters: any other server on the machine (a
    developer's ``make lab``, a second pytest session) keeps its folder while it runs."""
    base = Path(session.config.option.basetemp)
    for root, _, files in os.walk(base):
        if "pg_control" in files and Path(root).name == "global":
            where = scratch_tablespace.folder(Path(root).parent)
            if where is not None:
                shutil.rmtree(where, ignore_errors=True)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    elapsed = time.monotonic() - _suite_started
    terminalreporter.write_line(f"pglab suite time: {elapsed:.1f} s (budget: well under 900 s)")


@pytest.fixture(scope="session")
def pglab_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pglab-home")


@pytest.fixture(scope="session")
def course_database(pglab_home: Path) -> Iterator[CourseDatabase]:
    """The course database every test may read; tests that write reset it or use their own copy."""
    external = os.environ.get("PGLAB_TEST_DATABASE_URL")
    saved = dict(os.environ)
    for name in ("DATABASE_URL", *LIBPQ_SERVER_VARIABLES):
        os.environ.pop(name, None)
    if external:
        os.environ["DATABASE_URL"] = external
    else:
        os.environ["PGLAB_HOME"] = str(pglab_home)
        os.environ["PGLAB_PORT"] = os.environ.get("PGLAB_TEST_PORT", "5432")  # two suites at once: another port
    course = ensure_course_database(load_settings())
    os.environ["DATABASE_URL"] = course.url
    if course.embedded is not None:  # grading creates a database per submission: it needs the admin
        os.environ["PGLAB_ADMIN_URL"] = course.embedded.admin_url()
    elif os.environ.get("PGLAB_TEST_ADMIN_URL"):
        os.environ["PGLAB_ADMIN_URL"] = os.environ["PGLAB_TEST_ADMIN_URL"]
    yield course
    os.environ.clear()
    os.environ.update(saved)
    if not external:
        EmbeddedServer(pglab_home).stop()
        scratch_tablespace.remove(pglab_home / "pgdata")


@pytest.fixture(scope="session")
def course_url(course_database: CourseDatabase) -> str:
    return course_database.url


@pytest.fixture()
def conn(course_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(course_url)
    yield connection
    connection.rollback()
    connection.close()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT
