"""A class on a real JupyterHub: two learners and an instructor, each a system user, in headless Chromium.

``pglab hub`` runs as root on a free localhost port (PAM login, LocalProcessSpawner) against the
suite's PostgreSQL. The test creates the system users and their groups (``useradd``, passwords set
with ``chpasswd``), then, in the browser, logs in as each of them. Each learner finds Part 1 in
``~/course``, runs its set-up cell and a ``%sql`` cell showing ``current_database()`` (their own), sees
a connection to the other learner's database refused, fetches the core assignment from the
Assignments panel, and submits it (alice with the beginner challenge answered, bob as released).
The instructor sets the due date in nbgrader's gradebook, releases and collects with nbgrader's own
commands and grades with ``pglab grade`` (a late policy, both learners on time) as their own
unprivileged user, with the environment the hub gave their server, opens the class's report.html
from their JupyterLab and releases the feedback, which alice fetches in her Assignments panel.
bob logs in with an e-mail-style name (his database gets a derived one); homes are private, and
from bob's kernel nothing of alice's (home, fetched challenge,
submission) nor the instructor's course clone can be read. Then `kill -TERM` of `pglab hub` leaves
no hub, proxy or server behind, and the hub starts again on the same port.

Everything started here is stopped at the end, failing or not: the hub (which stops the servers it
spawned), then any process left under a test user's uid; the users and groups are deleted.
"""

from __future__ import annotations

import contextlib
import csv
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import pytest

from benchmarks.hub_process import (
    RunningHub,
    class_users,
    run_as_root,
    running_hub,
    server_environment,
    server_process,
    stop,
)
from pglab.classroom.learner_names import database_name
from pglab.classroom.learners import learner_url
from pglab.settings import PROJECT_ROOT
from tests.corpus.cases_core import SEED_BEGINNER
from tests.support.browser import CHROMIUM_ARGS, cells, install_chromium, menu, open_notebook, run_cell
from tests.support.environment import clean_environ

needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("useradd") is None,
                                reason="the JupyterHub test creates system users: it needs root and useradd")

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SUFFIX = secrets.token_hex(2)
# bob logs in with an e-mail-style name, as LTI 1.3 names people: his database gets a derived name.
ALICE, BOB, TEACHER = f"alice_{SUFFIX}", f"bob.b-{SUFFIX}@example.org", f"teach_{SUFFIX}"
LEARNERS_GROUP, INSTRUCTORS_GROUP = f"learn_{SUFFIX}", f"teach_{SUFFIX}g"
PART_1 = "course/01_psycopg2_vs_psycopg3.ipynb"
SETUP_CELL, SQL_CELL, PYTHON_CELL = 2, 4, 6  # Part 1's set-up, first %%sql and first Python cell
ANSWER_CELL = 4  # the beginner challenge's answer cell
DUE = (datetime.now(timezone.utc) + timedelta(days=1)).replace(second=0, microsecond=0, tzinfo=None)  # core's
WAIT_S = 120  # the longest any single step may take (a spawn on a busy 2-core machine)



@pytest.fixture(scope="module")
def chromium() -> Path:
    return install_chromium()

@pytest.fixture(scope="module")
def hub(course_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """`pglab hub` on a free localhost port for two learners and an instructor; all removed after."""
    admin_url = os.environ.get("PGLAB_ADMIN_URL")
    if not admin_url:
        pytest.skip("the hub needs an admin URL on the test server (set PGLAB_TEST_ADMIN_URL with an external one)")
    env = clean_environ(PGLAB_LEARNERS_GROUP=LEARNERS_GROUP, PGLAB_INSTRUCTORS_GROUP=INSTRUCTORS_GROUP)
    with class_users({LEARNERS_GROUP: [ALICE, BOB], INSTRUCTORS_GROUP: [TEACHER]}) as passwords, \
            running_hub(passwords, admin_url, tmp_path_factory.mktemp("hub"), env,
                        keep_log=ARTIFACTS / "jupyterhub.log") as running:
        yield running


def _log_in(browser, hub: RunningHub, name: str):  # type: ignore[no-untyped-def]
    """Log in on the hub's page; return the page once the user's JupyterLab has loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_S * 1000)
    page.goto(f"{hub.base}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", hub.passwords[name])
    page.click("#login_submit")
    page.wait_for_url(re.compile(f"/user/{name}/lab"), timeout=WAIT_S * 1000)
    page.locator(".jp-LabShell").wait_for()
    return page


def _as_user(name: str, command: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a shell command as ``name`` (no privileges left), as in a terminal of their JupyterLab."""
    entry = pwd.getpwnam(name)
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                          user=entry.pw_uid, group=entry.pw_gid, extra_groups=os.getgrouplist(name, entry.pw_gid))
    assert done.returncode == 0, f"`{command}` as {name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _replace_cell(page, index: int, text: str) -> str:  # type: ignore[no-untyped-def]
    """Type ``text`` over cell ``index`` of the open notebook, run it, return its output."""
    cells(page).nth(index).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    return str(run_cell(page, index))


def _assignments_panel(page) -> None:  # type: ignore[no-untyped-def]
    menu(page, "Nbgrader", "Assignment List")
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for()


def _nbgradermenu(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The items of the Nbgrader menu, as this user sees them."""
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile("^Nbgrader$")).click()
    items = [t.strip() for t in page.locator(".lm-Menu-itemLabel").all_inner_texts()]
    page.keyboard.press("Escape")
    return items


def _others_private_paths(hub: RunningHub, learner: str, course: Path) -> list[str]:
    """What another learner must not reach: ``learner``'s home, fetched challenge and submission, and
    the instructor's course clone (folders end with /: listed; files: read)."""
    home = Path(pwd.getpwnam(learner).pw_dir)
    inbound = hub.exchange / "pglab" / "inbound"
    submitted = sorted(inbound.glob(f"{learner}+core+*"))
    assert submitted, f"no submission of {learner} in {inbound}"
    return [f"{home}/", str(home / "core" / "beginner.ipynb"), f"{inbound}/",
            str(submitted[-1] / "beginner.ipynb"), f"{course}/", str(course / "solutions" / "core" / "beginner.ipynb")]


def _row(page, listing: str, assignment: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#{listing} .list_item").filter(has_text=assignment)


REFUSAL_PROBE = """import os, psycopg2
other = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/{other}"
try:
    psycopg2.connect(other, connect_timeout=10).close()
    print("connected to {other}")
except psycopg2.OperationalError as err:
    print("refused:", " ".join(str(err).split()))
"""
PRIVACY_PROBE = """import os
for path in {paths!r}:
    try:
        os.listdir(path) if path.endswith("/") else open(path).read()
        print("read", path)
    except PermissionError:
        print("denied", path)
"""
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"  # "official Jupyter news?" on first login


FEEDBACK_PROBE = """try:
    print("read", len(open({path!r}).read()), "characters")
except OSError as err:
    print(type(err).__name__, err)
"""


def _feedback_goes_back(chromium: Path, hub: RunningHub, course: Path, teacher_env: dict[str, str]) -> None:
    """The instructor releases the feedback; alice fetches hers in the Assignments panel and reads her
    score; bob, from his own kernel, cannot read her page."""
    from playwright.sync_api import sync_playwright

    released = _as_user(TEACHER, "pglab release-feedback core", course, teacher_env)
    assert "released 6 feedback page(s) of 2 learner(s) on core" in released, released
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            page = _log_in(browser, hub, ALICE)
            _assignments_panel(page)
            submitted = _row(page, "submitted_assignments_list", "core")
            submitted.filter(has_text="feedback available to fetch").wait_for()
            submitted.get_by_role("button", name="Fetch Feedback").click()
            _row(page, "submitted_assignments_list", "core").filter(has_text="view feedback").wait_for()
            (fetched,) = (Path(pwd.getpwnam(ALICE).pw_dir) / "core" / "feedback").glob("*/beginner.html")
            assert fetched.stat().st_uid == pwd.getpwnam(ALICE).pw_uid
            relative = fetched.relative_to(Path(pwd.getpwnam(ALICE).pw_dir)).as_posix()
            page.goto(f"{hub.base}/user/{ALICE}/files/{relative}")
            body = page.inner_text("body")
            assert "Score: 10 / 10" in body and "hidden check" in body, body[:2000]
            assert "zz-grader-" not in page.content(), "the feedback page shows hidden check code"
            page.screenshot(path=str(ARTIFACTS / "hub-alice-feedback.png"), full_page=True)
            page.close()

            page = _log_in(browser, hub, BOB)
            open_notebook(page, f"{hub.base}/user/{BOB}", "", "probe", PART_1)
            tried = _replace_cell(page, PYTHON_CELL, FEEDBACK_PROBE.format(path=str(fetched)))
            assert tried.startswith("PermissionError"), f"{BOB} reads {ALICE}'s feedback: {tried}"
            page.close()
        except Exception:
            if page is not None and not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / "hub-failure.png"))
            raise
        finally:
            browser.close()


@needs_root
@pytest.mark.slow
def test_a_class_on_jupyterhub(chromium: Path, hub: RunningHub, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    course = Path(pwd.getpwnam(TEACHER).pw_dir) / "pglab"
    started = time.monotonic()
    learner_envs: dict[str, dict[str, str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        page = None
        try:
            # The instructor logs in; with their server's environment they release the core assignment.
            page = _log_in(browser, hub, TEACHER)
            teacher_env = server_environment(TEACHER)
            assert teacher_env["PGLAB_EXCHANGE"] == str(hub.exchange) and teacher_env.get("PGLAB_ADMIN_URL")
            for part in ("solutions/core", "notebooks/challenges/core", "grader/nbgrader_config.py"):
                target = course / part
                target.parent.mkdir(parents=True, exist_ok=True)
                copy = shutil.copytree if (PROJECT_ROOT / part).is_dir() else shutil.copy
                copy(PROJECT_ROOT / part, target)
            run_as_root("chown", "-R", f"{TEACHER}:{TEACHER}", str(course))
            _as_user(TEACHER, f"nbgrader db assignment add core --duedate={DUE.isoformat()}+00:00 && "
                     "nbgrader generate_assignment core --force && nbgrader release_assignment core",
                     course / "grader", teacher_env)  # a week's assignment: due in a day, as the guide does
            assert "Formgrader" in _nbgradermenu(page)
            assert page.request.get(f"{hub.base}/user/{TEACHER}/formgrader").status == 200
            page.close()

            # bob kept notes in a lesson at an earlier session: the lesson copy must leave them alone.
            notes = Path(pwd.getpwnam(BOB).pw_dir) / "course" / "02_connecting.ipynb"
            notes.parent.mkdir()
            notes.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "bob": "notes"}')
            run_as_root("chown", "-R", f"{BOB}:{BOB}", str(notes.parent))

            for learner, other in ((ALICE, BOB), (BOB, ALICE)):
                page = _log_in(browser, hub, learner)
                base = f"{hub.base}/user/{learner}"
                env = server_environment(learner)
                learner_envs[learner] = env
                for secret in (PROJECT_ROOT / "grader/checks/core/test_beginner.py",
                               PROJECT_ROOT / "solutions/core/beginner.ipynb",
                               PROJECT_ROOT / "tests/corpus/cases_core.py"):
                    entry = pwd.getpwnam(learner)
                    peek = subprocess.run(["cat", str(secret)], capture_output=True, timeout=30, user=entry.pw_uid,
                                          group=entry.pw_gid, extra_groups=os.getgrouplist(learner, entry.pw_gid))
                    assert peek.returncode != 0 and b"Permission denied" in peek.stderr, f"{learner} reads {secret}"
                assert "PGLAB_ADMIN_URL" not in env and env["DATABASE_URL"].endswith(f"/{database_name(learner)}")
                assert (Path(pwd.getpwnam(learner).pw_dir).stat().st_mode & 0o777) == 0o700  # the hook closed it
                assert ANNOUNCEMENTS in page.evaluate(
                    "JSON.parse(document.getElementById('jupyter-config-data').textContent).disabledExtensions")
                # No instructor tools: neither in the menus nor on the server.
                items = _nbgradermenu(page)
                assert "Assignment List" in items and "Formgrader" not in items, items
                assert page.request.get(f"{base}/formgrader").status == 404
                # Part 1 was copied into their home; its set-up cell connects to their own database.
                open_notebook(page, base, "", "lesson", PART_1)
                setup = run_cell(page, SETUP_CELL)
                assert f"/{database_name(learner)} (PostgreSQL" in setup and "products" in setup, setup
                shown = _replace_cell(page, SQL_CELL, "%sql SELECT current_database(), current_user")
                assert re.search(rf"\b{database_name(learner)}\s+{database_name(learner)}\b", shown), shown
                refused = _replace_cell(page, PYTHON_CELL, REFUSAL_PROBE.format(other=database_name(other)))
                assert refused.startswith("refused:") and "connected to" not in refused, refused
                if learner == BOB:  # alice has fetched and submitted: from bob's kernel, nothing of hers is his
                    private = _others_private_paths(hub, ALICE, course)
                    probed = _replace_cell(page, PYTHON_CELL, PRIVACY_PROBE.format(paths=private))
                    assert probed.count("denied") == len(private) and "read " not in probed, probed
                page.screenshot(path=str(ARTIFACTS / f"hub-{learner[:5]}-part1.png"))

                # The Assignments panel: fetch the core assignment.
                _assignments_panel(page)
                _row(page, "released_assignments_list", "core").get_by_role("button", name="Fetch").click()
                _row(page, "fetched_assignments_list", "core").wait_for()
                fetched = Path(pwd.getpwnam(learner).pw_dir) / "core" / "beginner.ipynb"
                assert fetched.is_file() and fetched.stat().st_uid == pwd.getpwnam(learner).pw_uid

                if learner == ALICE:  # alice answers the beginner challenge and saves it
                    open_notebook(page, base, "", "challenge", "core/beginner.ipynb")
                    cells(page).nth(ANSWER_CELL).locator(".cm-content").click()
                    page.keyboard.press("Control+a")
                    page.keyboard.press("Delete")
                    page.keyboard.insert_text(SEED_BEGINNER.split("\n\n# Usage")[0].rstrip())
                    menu(page, "File", "Save Notebook")
                    deadline = time.monotonic() + 30
                    while "BETWEEN is inclusive" not in fetched.read_text():
                        assert time.monotonic() < deadline, "the answer was not saved"
                        page.wait_for_timeout(250)
                    _assignments_panel(page)
                _row(page, "fetched_assignments_list", "core").get_by_role("button", name="Submit").click()
                _row(page, "submitted_assignments_list", "core").wait_for()
                page.screenshot(path=str(ARTIFACTS / f"hub-{learner[:5]}-submitted.png"))
                page.close()
        except Exception:
            if page is not None and not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / "hub-failure.png"))
            raise
        finally:
            browser.close()
    lessons = sorted(p.name for p in (Path(pwd.getpwnam(BOB).pw_dir) / "course").glob("*.ipynb"))
    assert lessons == sorted(p.name for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb"))
    assert '"bob": "notes"' in notes.read_text(), "the lesson copy overwrote a learner's notebook"

    # The instructor collects and grades as their own user, with the environment the hub gave them.
    _as_user(TEACHER, "nbgrader collect core", course / "grader", teacher_env)
    for learner in (ALICE, BOB):
        assert (course / "grader" / "submitted" / learner / "core" / "beginner.ipynb").is_file()
    graded = _as_user(TEACHER, "pglab grade grader/submitted --out grader/grades --late-policy per-hour:1 --quiet",
                      course, teacher_env)
    with (course / "grader" / "grades" / "grades.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row["assignment"] == "core"]
    scores = {row["student_id"]: float(row["score"]) for row in rows}
    assert scores == {ALICE: 10.0, BOB: 0.0}, (scores, graded)
    # Handed in before the due date nbgrader's gradebook holds: on time, nothing taken off.
    assert {row["duedate"] for row in rows} == {DUE.strftime("%Y-%m-%d %H:%M:%S")}, rows
    assert all(float(row["late_submission_penalty"]) == 0 and row["timestamp"] for row in rows), rows

    # The instructor opens the class report from their JupyterLab.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = _log_in(browser, hub, TEACHER)
            page.goto(f"{hub.base}/user/{TEACHER}/files/pglab/grader/grades/report.html")
            assert page.locator("h1").inner_text() == "Class report"
            plot = page.locator("figure svg").first
            box = plot.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50, box
            body = page.inner_text("body")
            assert "2 learner(s)" in body and ALICE in body and BOB in body, body[:2000]
            page.screenshot(path=str(ARTIFACTS / "hub-report.png"), full_page=True)
        finally:
            browser.close()

    _feedback_goes_back(chromium, hub, course, teacher_env)

    # Each learner's database is theirs: provisioned on first login; `pglab db reset` in their terminal
    # rebuilds that one.
    assert learner_url(hub.admin_url, ALICE).rsplit("/", 1)[1] == ALICE
    assert learner_url(hub.admin_url, BOB).rsplit("/", 1)[1] == database_name(BOB) != BOB
    home = Path(pwd.getpwnam(ALICE).pw_dir)
    reset = _as_user(ALICE, "pglab db reset", home, learner_envs[ALICE])
    assert "5343 products" in reset, reset
    print(f"hub session (3 logins, 2 submissions, grading): {time.monotonic() - started:.1f} s")


@needs_root
@pytest.mark.slow
def test_stopping_pglab_hub_stops_the_hub_the_proxy_and_every_server(chromium: Path, hub: RunningHub,
                                                                      tmp_path: Path) -> None:
    """`kill -TERM` of `pglab hub` alone (what `systemctl stop` sends): nothing it started outlives it, the
    port is free, and `pglab hub` starts again on it (warning of an instructor's readable course clone)."""
    from playwright.sync_api import sync_playwright

    if not _servers(hub):  # run on its own: the class test's servers are not there, start one
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
            try:
                _log_in(browser, hub, ALICE).close()
            finally:
                browser.close()
    servers = _servers(hub)
    family = psutil.Process(hub.process.pid).children(recursive=True)  # JupyterHub, proxy, servers, kernels
    proxies = [p for p in family if any("configurable-http-proxy" in part for part in p.cmdline())]
    assert servers and proxies and {s.pid for s in servers} <= {p.pid for p in family}, (servers, family)
    port = int(hub.base.rsplit(":", 1)[1])

    subprocess.run(["kill", "-TERM", str(hub.process.pid)], check=True, timeout=10)
    assert hub.process.wait(timeout=90) == 0
    _, alive = psutil.wait_procs(family, timeout=15)
    assert not alive, [p.pid for p in alive]
    with socket.socket() as probe:  # nothing listens on the hub's port any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    assert "SIGTERM: stopping JupyterHub, its proxy and every learner's server" in hub.log.read_text()

    # An instructor's home left open (an account made without HOME_MODE=0700) exposes their clone.
    home = Path(pwd.getpwnam(TEACHER).pw_dir)
    (home / "pglab").mkdir(exist_ok=True)
    run_as_root("chown", f"{TEACHER}:{TEACHER}", str(home / "pglab"))
    home.chmod(0o755)
    (home / "pglab").chmod(0o755)
    env = clean_environ(PGLAB_LEARNERS_GROUP=LEARNERS_GROUP, PGLAB_INSTRUCTORS_GROUP=INSTRUCTORS_GROUP)
    with running_hub(hub.passwords, hub.admin_url, tmp_path, env, port=port) as again:
        assert again.base == hub.base
        assert f"warning: {TEACHER}'s course clone {home / 'pglab'} can be read by every learner" in \
            again.log.read_text()


def _servers(hub: RunningHub) -> list[psutil.Process]:
    """The JupyterLab servers of the class's users that this hub runs."""
    found = []
    for name in (ALICE, BOB, TEACHER):
        with contextlib.suppress(LookupError):
            found.append(server_process(name))
    return found


def test_lesson_copy_keeps_the_learners_files_and_follows_no_link(tmp_path: Path) -> None:
    from pglab.classroom.course_copy import COURSE_FOLDER, LESSONS, copy_lessons

    lessons = sorted(LESSONS.glob("*.ipynb"))
    home = tmp_path / "home"
    (home / COURSE_FOLDER).mkdir(parents=True)
    mine = home / COURSE_FOLDER / lessons[0].name
    mine.write_text("my work")
    outside = tmp_path / "outside.txt"  # a link planted where a lesson goes must not be written through
    (home / COURSE_FOLDER / lessons[1].name).symlink_to(outside)
    written = copy_lessons(home)
    assert [p.name for p in written] == [p.name for p in lessons[2:]]
    assert mine.read_text() == "my work" and not outside.exists()
    assert (home / COURSE_FOLDER / lessons[2].name).read_bytes() == lessons[2].read_bytes()
    mine.unlink()  # a deleted lesson comes back fresh; nothing else is written again
    assert copy_lessons(home) == [mine]


@needs_root
@pytest.mark.parametrize(("setting", "expected"), [
    ({"PGLAB_INSTRUCTORS_GROUP": "no-such-group-pglab"},
     "pglab: the instructors' group 'no-such-group-pglab' does not exist: create it (`groupadd no-such-group-pglab`)"),
    ({"PGLAB_INSTRUCTORS_GROUP": "root", "DATABASE_URL": "postgresql://learner:secret@db.example.com/catalogue"},
     "pglab: DATABASE_URL=postgresql://learner:***@db.example.com/catalogue is set but PGLAB_ADMIN_URL is not"),
])
def test_pglab_hub_says_in_one_line_what_is_missing(setting: dict[str, str], expected: str) -> None:
    env = clean_environ(**setting)
    env.pop("PGLAB_ADMIN_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "pglab.cli", "hub", "--port", "1"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        stop(process)  # had it started a hub after all, nothing of it outlives the test
    assert process.returncode == 1 and stdout == "", stdout + stderr
    assert stderr.startswith(expected) and stderr.count("\n") == 1, stderr
    assert "secret" not in stderr
