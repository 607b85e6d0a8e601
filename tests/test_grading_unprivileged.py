"""Grading as an ordinary user (issue 13): hostile submissions meet the bubblewrap sandbox.

An instructor who is not root runs ``pglab grade`` on a batch in which submissions try to kill every
process they may signal, read a private file in the instructor's home, write outside their folder,
connect to a port the instructor serves on 127.0.0.1, read another process's environment and ptrace
it; honest ones and part of the hostile corpus are graded in the same batch. Run as root, the test
creates the ordinary user; run as an ordinary user, it grades as itself.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg2
import pytest

from pglab.db.server import open_parents
from pglab.grading.course_layout import RELEASE
from pglab.settings import PROJECT_ROOT
from tests.corpus import cases_hostile
from tests.corpus.case import Case, with_answer
from tests.corpus.cases_core import SEED_BEGINNER as GOOD
from tests.support.environment import clean_environ

pytestmark = pytest.mark.slow

INSTRUCTOR = "pglab-instructor"
SECRET = f"pglab-private-{secrets.token_hex(8)}"
CORPUS_SUBSET = ("hostile-fork-bomb", "hostile-kill-kernel", "hostile-read-solutions", "hostile-read-env",
                 "hostile-os-exit", "hostile-drop-databases")


@dataclass
class Run:
    result: subprocess.CompletedProcess
    out: Path
    home: Path
    canary: subprocess.Popen
    accepted: list[str]
    escapes: list[Path]
    rows: list[dict[str, str]]

    def points(self, student: str) -> float:
        return sum(float(r["points"]) for r in self.rows
                   if r["student_id"] == student and not r["check"].startswith("("))

    def notes(self, student: str) -> str:
        """What the attack found: its answer cell raised it (see :func:`_attacks`)."""
        return " ".join(r["message"] for r in self.rows if r["student_id"] == student and r["check"] == "(notebook)")


def _instructor(tmp: Path) -> tuple[dict, Path]:
    """subprocess keyword arguments that run as the ordinary user, and that user's home."""
    if os.geteuid() != 0:
        home = tmp / "home"
        home.mkdir()
        return {}, home
    try:
        entry = pwd.getpwnam(INSTRUCTOR)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", INSTRUCTOR], check=True, capture_output=True)
        entry = pwd.getpwnam(INSTRUCTOR)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}, Path(entry.pw_dir)


def _give(path: Path, as_user: dict) -> None:
    if as_user:
        for item in [path, *path.rglob("*")]:
            os.chown(item, as_user["user"], as_user["group"])


def _attacks(home: Path, canary: int, port: int, escapes: list[Path]) -> dict[str, str]:
    """Student id -> code run after a correct answer; each raises with what it got, so that it shows in
    the notebook's notes (checks.csv, feedback), as a stolen secret would."""
    return {
        "evil-kill-all": '''
import os, signal
try:
    os.kill(-1, signal.SIGKILL)
    found.append("kill(-1) sent")
except OSError as err:
    found.append("kill(-1) " + type(err).__name__)  # ESRCH: nothing it may signal but itself
''',
        "evil-read-home": f'''
try:
    found.append("LEAK " + open({str(home / "private.txt")!r}).read())
except OSError as err:
    found.append("BLOCKED " + type(err).__name__)
''',
        "evil-write-outside": f'''
for target in {[str(p) for p in escapes]!r}:
    try:
        with open(target, "w") as f:
            f.write("escaped")
        found.append("WROTE " + target)
    except OSError as err:
        found.append("BLOCKED " + type(err).__name__)
''',
        "evil-tcp": f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    found.append("CONNECTED")
except OSError as err:
    found.append("BLOCKED " + type(err).__name__)
''',
        "evil-environ": f'''
import os
for pid in ["{canary}", *[p for p in os.listdir("/proc") if p.isdigit()]]:
    try:
        found.append(f"ENVIRON {{pid}} " + open(f"/proc/{{pid}}/environ", "rb").read().replace(b"\\0", b" ").decode())
    except OSError as err:
        found.append(f"BLOCKED {{pid}} {{type(err).__name__}}")
''',
        "evil-ptrace": f'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for pid in ({canary}, 1):
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        found.append(f"TRACED {{pid}}")
    else:
        found.append(f"BLOCKED {{pid}} {{os.strerror(ctypes.get_errno())}}")
''',
    }


@pytest.fixture(scope="module")
def graded(course_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("unprivileged")
    as_user, home = _instructor(root)
    private = home / "private.txt"
    private.write_text(SECRET)
    private.chmod(0o600)
    _give(home, as_user)
    canary = subprocess.Popen(["sleep", "300"], env={"CANARY_TOKEN": SECRET}, **as_user)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, peer = listener.accept()
            except TimeoutError:
                continue
            accepted.append(str(peer))
            connection.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    mark = secrets.token_hex(6)
    escapes = [home / "escape.txt", Path("/tmp") / f"escape-{mark}.txt", PROJECT_ROOT / "pglab" / f"escape-{mark}.txt",
               root / "escape.txt", Path("/dev/shm") / f"escape-{mark}"]
    submitted = root / "submitted"
    release = RELEASE / "core" / "beginner.ipynb"
    cases = [Case("honest-a", "core", "beginner", 10, answer=GOOD),
             *(c for c in cases_hostile.CASES if c.student in CORPUS_SUBSET)]
    for student, attack in _attacks(home, canary.pid, listener.getsockname()[1], escapes).items():
        folder = submitted / student / "core"
        folder.mkdir(parents=True)
        code = f"{GOOD}\nfound = []\n{attack}\nraise RuntimeError(' | '.join(found))\n"
        (folder / "beginner.ipynb").write_text(json.dumps(with_answer(release, code)))
    for case in cases:
        case.write(submitted)
    out = root / "out"
    out.mkdir()
    _give(submitted, as_user)
    _give(out, as_user)
    socket_dir = Path(course_database.embedded.socket_dir) if course_database.embedded else None
    for path in (submitted, out, Path(os.path.realpath(sys.executable)), *([socket_dir] if socket_dir else [])):
        open_parents(path)
    env = clean_environ(PGLAB_ADMIN_URL=os.environ["PGLAB_ADMIN_URL"], HOME=str(home), INSTRUCTOR_TOKEN=SECRET)
    command = [str(Path(sys.executable).parent / "pglab"), "grade", str(submitted), "--out", str(out),
               "--jobs", "2", "--quiet", "--cell-timeout", "5", "--notebook-timeout", "60"]
    try:
        result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                                timeout=400, **as_user)
        rows = list(csv.DictReader((out / "checks.csv").open(encoding="utf-8"))) if result.returncode == 0 else []
        yield Run(result, out, home, canary, accepted, escapes, rows)
    finally:
        stop.set()
        server.join(timeout=5)
        listener.close()
        canary.kill()
        canary.wait(timeout=10)
        private.unlink(missing_ok=True)


def test_the_grader_finishes_and_the_instructors_processes_survive(graded: Run, course_url: str) -> None:
    assert graded.result.returncode == 0, graded.result.stderr[-2000:]
    assert graded.canary.poll() is None, "kill(-1) in a submission killed the instructor's process"
    assert psutil.Process(graded.canary.pid).status() != psutil.STATUS_TRACING_STOP
    with psycopg2.connect(course_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM products")
        assert cur.fetchone()[0] > 5000


def test_honest_and_blocked_attackers_keep_their_marks(graded: Run) -> None:
    for student in ("honest-a", "evil-kill-all", "evil-read-home", "evil-write-outside", "evil-tcp",
                    "evil-environ", "evil-ptrace"):
        assert graded.points(student) == 10, (student, [r for r in graded.rows if r["student_id"] == student])
    assert "kill(-1) ProcessLookupError" in graded.notes("evil-kill-all")  # it ran, and found nobody to kill


def test_each_attack_ran_and_was_blocked(graded: Run) -> None:
    assert "BLOCKED FileNotFoundError" in graded.notes("evil-read-home")
    assert graded.notes("evil-write-outside").count("BLOCKED") == len(graded.escapes)
    assert "BLOCKED" in graded.notes("evil-tcp") and graded.accepted == []
    environ = graded.notes("evil-environ")
    assert f"BLOCKED {graded.canary.pid} FileNotFoundError" in environ
    assert "ENVIRON 2 " in environ  # it did read an environment: its own (PID 2 of its namespace)
    ptrace = graded.notes("evil-ptrace")
    assert f"BLOCKED {graded.canary.pid} No such process" in ptrace and "TRACED" not in ptrace
    for path in graded.escapes:
        assert not path.exists(), f"a submission wrote {path}"


def test_the_corpus_subset_gets_its_points(graded: Run) -> None:
    for case in cases_hostile.CASES:
        if case.student in CORPUS_SUBSET:
            rows = [r for r in graded.rows if r["student_id"] == case.student]
            assert graded.points(case.student) == case.points, rows
            messages = " | ".join(r["message"] for r in rows)
            assert all(reason in messages for reason in case.reasons), messages


def test_nothing_private_in_any_output(graded: Run) -> None:
    assert SECRET not in graded.result.stdout + graded.result.stderr
    for path in graded.out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), f"{path} shows the instructor's secret"
    assert sorted(p.name for p in graded.home.iterdir() if not p.name.startswith(".")) == ["private.txt"]


def test_without_bubblewrap_grading_is_refused_unless_unsafe(course_database, tmp_path: Path) -> None:
    submitted = tmp_path / "submitted"
    Case("honest-b", "core", "beginner", 10, answer=GOOD).write(submitted)
    env = clean_environ(PGLAB_ADMIN_URL=os.environ["PGLAB_ADMIN_URL"], PGLAB_BWRAP=str(tmp_path / "no" / "bwrap"))
    command = [str(Path(sys.executable).parent / "pglab"), "grade", str(submitted), "--quiet"]
    refused = subprocess.run([*command, "--out", str(tmp_path / "refused")], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 1, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pglab: the grading sandbox needs bubblewrap"), lines
    assert "apt-get install" in lines[0] and "--unsafe-no-sandbox" in lines[0]
    assert not (tmp_path / "refused").exists(), "a refused run must not start grading"
    unsafe = subprocess.run([*command, "--out", str(tmp_path / "unsafe"), "--unsafe-no-sandbox"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert unsafe.returncode == 0, unsafe.stderr
    grades = list(csv.DictReader((tmp_path / "unsafe" / "grades.csv").open(encoding="utf-8")))
    assert [(g["student_id"], float(g["score"])) for g in grades if g["assignment"] == "core"] == [("honest-b", 10.0)]
