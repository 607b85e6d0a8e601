"""``pglab learners`` on the suite's real server: each learner reaches their own database and nothing else.

Names start with ``t14`` so that this module's learners cannot collide with those of other tests
(a hub test provisions its own on the same server); every test removes what it added.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nbformat
import psycopg2
import pytest
from nbclient import NotebookClient

from pglab.classroom.learner_names import database_name
from pglab.classroom.learners import (
    CLASSROOM_DATABASE,
    CONNECTION_LIMIT,
    add_learners,
    ensure_learner,
    learner_url,
    list_learners,
    read_roster,
    remove_learners,
    reset_learner,
)
from pglab.db.course_data import products_loaded
from pglab.db.provision import CourseDatabase
from pglab.db.server import PG_HBA, EmbeddedServer, free_port
from pglab.errors import LearnerError
from pglab.grading.database_copies import TEMPLATE
from pglab.settings import COURSE_DATABASE, PROJECT_ROOT
from tests.support.environment import clean_environ
from tests.support.notebook_runner import error_outputs

PGLAB = [sys.executable, "-m", "pglab.cli"]


@pytest.fixture(scope="module")
def admin(course_database: CourseDatabase) -> str:
    assert course_database.embedded is not None or pytest.skip("needs the embedded server (its pg_hba.conf)")
    return course_database.embedded.admin_url()


@pytest.fixture()
def cleanup(admin: str) -> Iterator[list[str]]:
    """Names to remove after the test, whatever happened in it."""
    names: list[str] = []
    yield names
    remove_learners(admin, names) if names else None


def run_pglab(admin: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PGLAB, *args], env=clean_environ(PGLAB_ADMIN_URL=admin, **env), capture_output=True,
                          text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pglab: ") and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def other_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def refused(url: str) -> str:
    with pytest.raises(psycopg2.OperationalError) as err:
        psycopg2.connect(url, connect_timeout=5).close()
    return str(err.value)


def query(url: str, statement: str, *params: object) -> list[tuple]:
    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_each_learner_reaches_their_own_database_and_nothing_else(admin: str, cleanup: list[str]) -> None:
    cleanup += ["t14_ann", "t14_ben"]
    ann, ben = add_learners(admin, ["t14_ann", "t14_ben"])
    assert ann.added_now and ben.added_now
    # Their own: the course data, theirs to change (tables included).
    [(database, user, products)] = query(ann.url, "SELECT current_database(), current_user, count(*) FROM products")
    assert (database, user) == ("t14_ann", "t14_ann")
    assert products == query(ben.url, "SELECT count(*) FROM products")[0][0] > 5000
    assert query(ann.url, "SELECT tableowner FROM pg_tables WHERE tablename = 'products'") == [("t14_ann",)]
    query(ann.url, "DELETE FROM products WHERE price < 10; CREATE TABLE notes (t text)")
    # Nobody else's: another learner's database, the template, the course and admin databases.
    for database in ("t14_ben", TEMPLATE, "postgres", COURSE_DATABASE, CLASSROOM_DATABASE, "template1"):
        assert "pg_hba.conf rejects connection" in refused(other_database(ann.url, database)), database
    # Privileges say the same as pg_hba.conf (what protects learners on a server whose pg_hba pglab does not write).
    privileges = query(admin, "SELECT has_database_privilege('t14_ann', 't14_ben', 'CONNECT'), "
                              "has_database_privilege('t14_ann', 't14_ben', 'TEMPORARY'), "
                              "has_database_privilege('t14_ann', %s, 'CONNECT')", CLASSROOM_DATABASE)
    assert privileges == [(False, False, False)]
    # Nothing of the server's: no new roles or databases, no server files, no other learner's sessions.
    conn = psycopg2.connect(ann.url)
    conn.autocommit = True
    ben_session = psycopg2.connect(ben.url)
    with conn.cursor() as cur:
        for statement in ("CREATE ROLE t14_mine", "CREATE DATABASE t14_mine", "SELECT pg_read_file('PG_VERSION')",
                          "COPY products TO '/tmp/t14-products.csv'", "ALTER ROLE t14_ann CREATEDB",
                          "ALTER ROLE t14_ann CONNECTION LIMIT 1000", "GRANT pglab_learners TO t14_ann",
                          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 't14_ben'"):
            with pytest.raises(psycopg2.Error, match="permission denied|must be|not permitted"):
                cur.execute(statement)
                pytest.fail(f"a learner could: {statement}")
    conn.close()
    ben_session.cursor().execute("SELECT 1")  # still connected
    ben_session.close()
    row = query(admin, "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit "
                       "FROM pg_roles WHERE rolname = 't14_ann'")
    assert row == [(False, False, False, False, False, CONNECTION_LIMIT)]
    # And ben's data is untouched by what ann did.
    assert query(ben.url, "SELECT count(*) FROM products WHERE price < 10")[0][0] > 0


def test_adding_again_changes_nothing_and_repairs_what_a_learner_changed(admin: str, cleanup: list[str]) -> None:
    cleanup += ["t14_cat"]
    first = ensure_learner(admin, "t14_cat")
    query(first, "CREATE TABLE mine (x int); INSERT INTO mine VALUES (42)")
    databases = query(admin, "SELECT count(*) FROM pg_database")[0][0]
    roles = query(admin, "SELECT count(*) FROM pg_roles")[0][0]
    # What a learner may do to their own account: a new password, their database opened to others.
    query(first, "ALTER ROLE t14_cat PASSWORD 'mine'; GRANT CONNECT ON DATABASE t14_cat TO PUBLIC")
    again = add_learners(admin, ["t14_cat", "t14_cat"])
    assert len(again) == 1 and not again[0].added_now and again[0].url == first == learner_url(admin, "t14_cat")
    assert query(first, "SELECT x FROM mine") == [(42,)]  # the stored password works again; the work is kept
    assert query(admin, "SELECT has_database_privilege('pglab_learners', 't14_cat', 'CONNECT')") == [(False,)]
    assert query(admin, "SELECT count(*) FROM pg_database")[0][0] == databases
    assert query(admin, "SELECT count(*) FROM pg_roles")[0][0] == roles


def test_concurrent_first_logins_of_one_learner_give_one_account(admin: str, cleanup: list[str]) -> None:
    cleanup += ["t14_dan"]
    urls: list[str] = []
    errors: list[BaseException] = []

    def spawn() -> None:
        try:
            urls.append(ensure_learner(admin, "t14_dan"))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=spawn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and len(urls) == 4 and len(set(urls)) == 1, (errors, urls)
    assert query(urls[0], "SELECT current_user")[0][0] == "t14_dan"


def test_bad_names_and_others_roles_get_one_line_and_touch_nothing(admin: str, cleanup: list[str]) -> None:
    before = query(admin, "SELECT count(*) FROM pg_roles")[0][0]
    line = one_line_error(run_pglab(admin, "learners", "add", "t14_eve", " Bob"))
    assert "' Bob' is not a hub user name" in line
    assert query(admin, "SELECT count(*) FROM pg_roles")[0][0] == before  # t14_eve was not added either
    # A role pglab did not make is never taken over, nor dropped.
    cleanup_role = "t14_staff"
    query(admin, f"CREATE ROLE {cleanup_role} NOLOGIN")
    try:
        assert "not a pglab learner" in one_line_error(run_pglab(admin, "learners", "add", cleanup_role))
        assert "not a pglab learner" in one_line_error(run_pglab(admin, "learners", "remove", cleanup_role))
        assert query(admin, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", cleanup_role) == [(False,)]
    finally:
        query(admin, f"DROP ROLE {cleanup_role}")
    assert "run `pglab learners add t14_nobody`" in one_line_error(run_pglab(admin, "learners", "url", "t14_nobody"))


LOGIN_NAMES = ("jane.doe", "Jane.Doe", "jane-doe@example.org", "f3a1c2e4b5d6" * 5 + "abcd")  # the last: an LTI sub


def test_any_login_name_gets_its_own_database_and_role(admin: str, cleanup: list[str]) -> None:
    """University logins, e-mail addresses and a 64-character id: each its own database, by its hub name."""
    cleanup += LOGIN_NAMES
    done = run_pglab(admin, "learners", "add", *LOGIN_NAMES)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:4] == [f"added {n} (database {database_name(n)})" for n in LOGIN_NAMES]
    urls = {n: run_pglab(admin, "learners", "url", n).stdout.strip().split("=", 1)[1] for n in LOGIN_NAMES}
    for name, url in urls.items():
        assert query(url, "SELECT current_database(), current_user, count(*) FROM products") == [
            (database_name(name), database_name(name), 5343)]
    with pytest.raises(psycopg2.OperationalError):  # each login reaches their own database only
        query(other_database(urls["jane.doe"], database_name("Jane.Doe")), "SELECT 1")
    assert ensure_learner(admin, "Jane.Doe") == urls["Jane.Doe"]  # what every spawn gets, again
    listed = run_pglab(admin, "learners", "list").stdout
    for name in LOGIN_NAMES:
        assert re.search(rf"^{re.escape(name)} +yes +0 +{database_name(name)}$", listed, re.M), listed
    # A plain name typed to look like another's derived one would share its database: refused.
    taken = database_name("jane.doe")
    assert f"would share the database {taken}" in one_line_error(run_pglab(admin, "learners", "add", taken))
    assert "is not a learner" in one_line_error(run_pglab(admin, "learners", "url", taken))
    removed = run_pglab(admin, "learners", "remove", "Jane.Doe")
    assert removed.stdout.strip() == "removed Jane.Doe (database and role)", removed.stdout
    assert query(urls["jane.doe"], "SELECT current_user") == [(database_name("jane.doe"),)]


def test_roster_files_from_an_lms_or_a_plain_list(admin: str, tmp_path: Path, cleanup: list[str]) -> None:
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      "\"Fox, Fay\",101,S1,t14_fay,A\n\"Gray, Gus\",102,S2,T14_Gus,A\n")
    moodle = tmp_path / "moodle.csv"
    moodle.write_text("username,firstname,lastname,email\nt14_fay,Fay,Fox,f@x.org\n\nt14_hal,Hal,Hu,h@x.org\n")
    plain = tmp_path / "names.csv"
    plain.write_text("t14_ida\nt14_fay\n")
    assert read_roster(canvas) == ["t14_fay", "t14_gus"]
    assert read_roster(moodle) == ["t14_fay", "t14_hal"]
    assert read_roster(plain) == ["t14_ida", "t14_fay"]
    broken = tmp_path / "broken.csv"
    broken.write_text("username\nt14_ok\nFay\x01Fox\n\nx.y\n")
    with pytest.raises(LearnerError, match=r"line 3: 'Fay\\x01Fox'.*nothing was added"):
        read_roster(broken)
    with pytest.raises(LearnerError, match="no column named username"):
        nameless = tmp_path / "nameless.csv"
        nameless.write_text("first,last\nFay,Fox\n")
        read_roster(nameless)

    cleanup += ["t14_fay", "t14_gus", "t14_hal", "t14_ida"]
    done = run_pglab(admin, "learners", "add", "t14_ida", "--roster", str(canvas))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["added t14_ida", "added t14_fay", "added t14_gus"]
    assert "3 learner(s) on localhost" in done.stdout and "3 added, 0 already there" in done.stdout
    done = run_pglab(admin, "learners", "add", "--roster", str(moodle))
    assert done.stdout.splitlines()[:2] == ["kept t14_fay (already there; checked)", "added t14_hal"]
    assert "pglab: the roster" in one_line_error(run_pglab(admin, "learners", "add", "--roster", str(broken)))
    listed = run_pglab(admin, "learners", "list")
    assert listed.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()[1:-1]}
    assert {rows[n][0] for n in ("t14_fay", "t14_gus", "t14_hal", "t14_ida")} == {"yes"}
    url = run_pglab(admin, "learners", "url", "t14_gus")
    assert url.stdout.startswith("DATABASE_URL=postgresql://t14_gus:") and url.stdout.strip().endswith("/t14_gus")
    assert query(url.stdout.strip().split("=", 1)[1], "SELECT current_user") == [("t14_gus",)]


def test_pglab_db_reset_as_a_learner_rebuilds_their_own_database(admin: str, cleanup: list[str]) -> None:
    cleanup += ["t14_joy"]
    url = ensure_learner(admin, "t14_joy")
    total = query(url, "SELECT count(*) FROM products")[0][0]
    query(url, "DELETE FROM products WHERE price < 20")
    # A kernel of theirs holding a lock, and an instructor looking at their database.
    kernel = psycopg2.connect(url)
    kernel.cursor().execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
    instructor = psycopg2.connect(other_database(admin, "t14_joy"))
    instructor.cursor().execute("SELECT 1")
    done = subprocess.run([*PGLAB, "db", "reset"], env=clean_environ(DATABASE_URL=url), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ended 1 other session(s)" in done.stdout, done.stdout
    assert query(url, "SELECT count(*) FROM products")[0][0] == total
    assert products_loaded(url)
    assert query(url, "SELECT tableowner FROM pg_tables WHERE tablename = 'products'") == [("t14_joy",)]
    with instructor.cursor() as cur:  # the instructor's session was left alone
        cur.execute("SELECT current_database()")
        assert cur.fetchone() == ("t14_joy",)
    instructor.close()
    kernel.close()


def test_reset_and_remove(admin: str, cleanup: list[str]) -> None:
    cleanup += ["t14_kim"]
    url = ensure_learner(admin, "t14_kim")
    total = query(url, "SELECT count(*) FROM products")[0][0]
    query(url, "TRUNCATE products CASCADE; CREATE TABLE scratch (x int)")
    session = psycopg2.connect(url)
    done = run_pglab(admin, "learners", "reset", "t14_kim")
    assert done.returncode == 0, done.stderr
    assert query(url, "SELECT count(*) FROM products")[0][0] == total  # same URL: the password stayed
    assert query(url, "SELECT to_regclass('scratch')") == [(None,)]
    with pytest.raises(psycopg2.OperationalError), session.cursor() as cur:
        cur.execute("SELECT 1")  # their old session was ended with the old database
    assert "t14_kim" in {s.name for s in list_learners(admin)}

    assert remove_learners(admin, ["t14_kim", "t14_never_added"]) == ["t14_kim"]
    assert query(admin, "SELECT count(*) FROM pg_database WHERE datname = 't14_kim'") == [(0,)]
    assert query(admin, "SELECT count(*) FROM pg_roles WHERE rolname = 't14_kim'") == [(0,)]
    assert "t14_kim" not in {s.name for s in list_learners(admin)}
    with pytest.raises(LearnerError, match="is not a learner"):
        learner_url(admin, "t14_kim")
    with pytest.raises(LearnerError, match="is not a learner"):
        reset_learner(admin, "t14_kim")
    done = run_pglab(admin, "learners", "remove", "t14_kim")
    assert done.returncode == 0 and "t14_kim was not a learner: nothing to do" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("lesson", ["03_connection_pooling", "08_production_configuration"])
def test_lessons_pass_their_self_checks_as_a_hub_learner(admin: str, cleanup: list[str], lesson: str,
                                                         tmp_path: Path) -> None:
    """Part 3 floods connections (the learner's CONNECTION LIMIT answers first), Part 8 sets and SHOWs
    timeouts (a role default would show through): both as a learner with their own database."""
    cleanup.append("t14_lessons")
    url = ensure_learner(admin, "t14_lessons")
    env = clean_environ(DATABASE_URL=url, MPLBACKEND="Agg", JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                        PGLAB_NOTEBOOK_SCALE="1")
    ran = _run_once(PROJECT_ROOT / "notebooks" / f"{lesson}.ipynb", env)
    assert error_outputs(ran) == []
    printed = "".join(o.get("text", "") for cell in ran.cells for o in cell.get("outputs", []))
    assert re.search(r"self-check: (\d+)/\1 checks passed", printed), printed[-2000:]
    if lesson.startswith("03"):
        assert 'too many connections for role "t14_lessons"' in printed


def _run_once(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Top to bottom once (the lesson tests run every notebook twice; here the learner's role is the point)."""
    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
                       ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def test_a_running_server_with_older_rules_gets_the_learner_rules_on_next_start(
        admin: str, cleanup: list[str], course_database: CourseDatabase) -> None:
    """A server an older pglab started keeps running; the next `pglab` command that starts it (a no-op
    when running) writes today's pg_hba.conf and reloads it, so learners are confined at once."""
    cleanup.append("t14_old")
    url = ensure_learner(admin, "t14_old")
    server = EmbeddedServer(Path(os.environ["PGLAB_HOME"]))
    hba = server.pgdata / "pg_hba.conf"
    older = "".join(line for line in PG_HBA.splitlines(keepends=True) if "pglab_learners" not in line)
    hba.write_text(older)
    try:
        query(admin, "SELECT pg_reload_conf()")
        assert _eventually(lambda: _connects(other_database(url, "postgres"))), "the older rules never loaded"
    finally:
        server.start()  # what every pglab command does first
    assert hba.read_text() == PG_HBA
    assert _eventually(lambda: not _connects(other_database(url, "postgres")))
    assert "pg_hba.conf rejects connection" in refused(other_database(url, "postgres"))


def _connects(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=5).close()
        return True
    except psycopg2.OperationalError:
        return False


def _eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """A reload is a signal the postmaster handles when it gets to it: poll, within a bound."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_server_that_does_not_answer_gets_one_line(admin: str) -> None:
    closed = urlsplit(admin)._replace(netloc=f"postgres:secret@localhost:{free_port()}")
    for args in (("add", "t14_zed"), ("url", "t14_zed"), ("list",), ("reset", "t14_zed"), ("remove", "t14_zed")):
        line = one_line_error(run_pglab(urlunsplit(closed), "learners", *args))
        assert "cannot connect to postgresql://postgres:***@localhost:" in line and "secret" not in line, line
