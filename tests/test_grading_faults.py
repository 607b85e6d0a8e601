"""Faults caused for real while ``pglab grade`` runs: no grade is lost, none is faked, nothing hangs.

Each test grades the same small class with the real command on a server of its own, injects one
fault (the server stopped and started, the server gone for good, the fork server and a check runner
killed, the grader itself killed with SIGKILL, a read-only ``--out``, a second run on the same ``--out``) and compares
what the instructor ends up with to a clean run of the same class: ``grades.csv``, ``checks.csv``
and every feedback page byte for byte.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg2
import pytest

from tests.corpus.case import Case
from tests.corpus.cases_core import EXCLUSIVE_BOUNDS, SEED_ADVANCED, SEED_BEGINNER, SEED_INTERMEDIATE
from tests.support.doc_walkthrough import sample_pattern, sample_starting
from tests.support.environment import clean_environ

PGLAB = str(Path(sys.executable).parent / "pglab")
INSTRUCTOR_GUIDE = Path(__file__).resolve().parent.parent / "docs" / "instructor-guide.md"
LEARNERS = ("ann", "ben")
NOTEBOOKS = len(LEARNERS) * 3
SLOW = "\nimport time\ntime.sleep(1.2)  # long enough that a fault lands while notebooks are in flight\n"
BOUND_S = 240  # no run here may take longer: a hang fails the test instead of the suite

pytestmark = pytest.mark.slow


def write_class(submitted: Path, slow: bool = True, learners: tuple[str, ...] = LEARNERS) -> None:
    """Core assignment; ann's beginner answer loses points (exclusive bounds)."""
    tail = SLOW if slow else ""
    for student in learners:
        beginner = EXCLUSIVE_BOUNDS if student == "ann" else SEED_BEGINNER
        for notebook, answer in (("beginner", beginner), ("intermediate", SEED_INTERMEDIATE),
                                 ("advanced", SEED_ADVANCED)):
            Case(student, "core", notebook, 0, answer=answer + tail).write(submitted)
        (submitted / student / "core" / "timestamp.txt").write_text("2026-11-20 09:00:00.000000 UTC")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A server of this module's own (the tests stop it), and a private TMPDIR for work folders."""
    home = tmp_path_factory.mktemp("faults-home")
    tmp = tmp_path_factory.mktemp("faults-tmp")
    env = clean_environ(PGLAB_HOME=str(home), PGLAB_PORT="0", TMPDIR=str(tmp))
    env.pop("PGLAB_ADMIN_URL", None)
    pglab(env, "db", "start")
    yield env
    pglab(env, "db", "stop")


def pglab(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PGLAB, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def grade(env: dict[str, str], submitted: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PGLAB, "grade", str(submitted), "--out", str(out), "--jobs", "2", "--quiet", *args],
                          env=env, capture_output=True, text=True, timeout=BOUND_S)


def start_grade(env: dict[str, str], submitted: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([PGLAB, "grade", str(submitted), "--out", str(out), "--jobs", "2", "--quiet", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = proc.communicate(timeout=BOUND_S)
    return proc.returncode, stdout, stderr


def wait_for_results(out: Path, count: int, proc: subprocess.Popen[str]) -> None:
    """Until ``count`` notebooks have been graded and stored by the running command."""
    deadline = time.monotonic() + BOUND_S
    while len(list((out / ".pglab" / "results").rglob("*.json"))) < count:
        assert proc.poll() is None, f"the run ended before {count} result(s): {proc.communicate()}"
        assert time.monotonic() < deadline, "no results in time"
        time.sleep(0.1)


def outputs(out: Path) -> dict[str, bytes]:
    """What an instructor reads: the two CSV files and every feedback page. A page shows what the
    learner's cells printed, and the advanced challenge prints its measured waits: those blocks
    differ between two gradings of the same notebook and are left out of the comparison."""
    files = {"grades.csv": (out / "grades.csv").read_bytes(), "checks.csv": (out / "checks.csv").read_bytes()}
    for page in sorted((out / "feedback").rglob("*.html")):
        files[str(page.relative_to(out))] = re.sub(rb"<pre>.*?</pre>", b"<pre/>", page.read_bytes(), flags=re.S)
    return files


def written_files(out: Path) -> dict[str, int]:
    """Every output file and when it was last written (the lock file aside: each run takes it)."""
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name != "lock"}


def stop_server(env: dict[str, str]) -> None:
    """`pglab db stop`, in this process: quicker than the command, so it lands mid-batch for sure."""
    from pglab.db.server import EmbeddedServer

    assert EmbeddedServer(Path(env["PGLAB_HOME"])).stop()


def server_port(env: dict[str, str]) -> int:
    return int(pglab(env, "db", "url").rsplit(":", 1)[1].split("/")[0])


def submission_databases(env: dict[str, str]) -> list[str]:
    from pglab.db.server import EmbeddedServer

    info = EmbeddedServer(Path(env["PGLAB_HOME"])).start()
    with psycopg2.connect(info.admin_url()) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sub\\_%' "
                    "UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'sub\\_%'")
        names = [r[0] for r in cur.fetchall()]
    conn.close()
    return names


@pytest.fixture(scope="module")
def clean(server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """The class, and what an undisturbed run makes of it."""
    root = tmp_path_factory.mktemp("faults-class")
    write_class(root / "submitted")
    done = grade(server, root / "submitted", root / "clean")
    assert done.returncode == 0, done.stderr
    assert f"graded {NOTEBOOKS} notebook(s)" in done.stdout
    return root / "submitted", outputs(root / "clean")


def test_server_restart_mid_batch_regrades_what_it_cut(server, clean, tmp_path: Path) -> None:
    submitted, expected = clean
    port = server_port(server)
    out = tmp_path / "out"
    proc = start_grade(server, submitted, out)
    wait_for_results(out, 1, proc)
    stop_server(server)
    time.sleep(1)
    pglab(server, "db", "start")
    assert server_port(server) == port, "the restarted server moved to another port"
    status, stdout, stderr = finish(proc)
    assert status == 0, stderr
    assert "graded again after a grader fault" in stdout, "the restart cut no notebook: the test proved nothing"
    assert outputs(out) == expected


def test_server_gone_stops_early_records_no_grade_and_rerun_completes(server, clean, tmp_path: Path) -> None:
    submitted, expected = clean
    out = tmp_path / "out"
    proc = start_grade(server, submitted, out, "--db-wait", "3")
    wait_for_results(out, 1, proc)
    stop_server(server)
    try:
        status, stdout, stderr = finish(proc)
    finally:
        pglab(server, "db", "start")
    assert status == 1
    assert "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("pglab: ") and "notebook(s) were not graded" in line, stderr
    assert "the database server did not answer" in line and "run the same command again" in line, line
    shown = sample_starting(INSTRUCTOR_GUIDE, "pglab: 7 notebook(s) were not graded")
    assert sample_pattern(shown).fullmatch(line), "the guide shows another line"
    ungraded = int(line.split("pglab: ")[1].split()[0])
    assert 0 < ungraded < NOTEBOOKS
    graded_rows = (out / "grades.csv").read_text().splitlines()
    assert set(graded_rows) <= set(expected["grades.csv"].decode().splitlines()), "a grade differs from the clean run"
    assert len(graded_rows) < len(expected["grades.csv"].decode().splitlines()), "an ungraded learner has a row"
    rows = (out / "checks.csv").read_text().splitlines()
    not_graded = [r for r in rows if ",(not graded),," in r]
    assert len(not_graded) == ungraded and all("run the same pglab grade command again" in r for r in not_graded)
    from nbgrader.api import Gradebook, MissingEntry

    gradebook = Gradebook(f"sqlite:///{out / 'gradebook.db'}")
    try:
        recorded = {s.student.id for s in gradebook.assignment_submissions("core")}
        for row in not_graded:
            student = row.split(",")[0]
            assert student not in recorded, f"{student} was recorded though not graded"
            with pytest.raises(MissingEntry):
                gradebook.find_submission("core", student)
    finally:
        gradebook.close()
    again = grade(server, submitted, out)
    assert again.returncode == 0, again.stderr
    assert f"graded {ungraded} notebook(s)" in again.stdout, again.stdout
    assert outputs(out) == expected
    assert submission_databases(server) == [], "leftover databases or roles of the cut run"


def test_fork_server_and_a_check_runner_killed_mid_batch(server, clean, tmp_path: Path) -> None:
    """The kernels' fork server, then one of the pytest sessions running the checks: both are
    replaced, the notebooks they cut are graded again, and the outputs are those of a clean run."""
    submitted, expected = clean
    out = tmp_path / "out"
    proc = start_grade(server, submitted, out)
    wait_for_results(out, 1, proc)

    def children(module: str) -> list[psutil.Process]:
        return [p for p in psutil.Process(proc.pid).children() if module in " ".join(p.cmdline())]

    forkservers = children("pglab.grading.kernels.forkserver")
    assert len(forkservers) == 1
    forkservers[0].kill()
    wait_for_results(out, 2, proc)
    runners = children("pglab.grading.check_runner")
    assert runners, "no pytest session runs the checks"
    runners[0].kill()
    status, _, stderr = finish(proc)
    assert status == 0, stderr
    assert outputs(out) == expected


def test_grader_killed_then_same_command_completes_and_cleans_up(server, clean, tmp_path: Path) -> None:
    submitted, expected = clean
    out = tmp_path / "out"
    tmp = Path(server["TMPDIR"])
    proc = start_grade(server, submitted, out)
    wait_for_results(out, 2, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = list(tmp.glob("pglab-grading-run-*"))
    assert left, "the killed run left no work folder: the clean-up below proves nothing"
    deadline = time.monotonic() + 20
    while _kernels_under(tmp):  # the fork server sees the grader's pipe close and kills its kernels
        assert time.monotonic() < deadline, f"kernels outlived the killed grader: {_kernels_under(tmp)}"
        time.sleep(0.2)
    done = grade(server, submitted, out)
    assert done.returncode == 0, done.stderr
    assert outputs(out) == expected
    assert not any(p.exists() for p in left), "the killed run's work folder is still there"
    assert submission_databases(server) == []


def _kernels_under(folder: Path) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.cwd().startswith(str(folder)):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def test_read_only_out_grades_nothing_and_says_so(server, clean, tmp_path: Path) -> None:
    submitted, _ = clean
    out = tmp_path / "out"
    out.mkdir()
    mounted = os.geteuid() == 0  # root writes through permissions: make it a read-only mount instead
    if mounted:
        subprocess.run(["mount", "--bind", str(out), str(out)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(out)], check=True)
    else:
        out.chmod(0o555)
    try:
        done = grade(server, submitted, out)
    finally:
        if mounted:
            subprocess.run(["umount", str(out)], check=True)
        out.chmod(0o755)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.startswith(f"pglab: {NOTEBOOKS} notebook(s) were not graded (the output folder cannot be "
                                  "written"), done.stderr
    assert "run the same command again" in done.stderr
    assert list(out.iterdir()) == []


def test_second_run_on_the_same_out_refuses(server, clean, tmp_path: Path) -> None:
    submitted, expected = clean
    out = tmp_path / "out"
    # Generous limits, and the first run frozen while the second tries: "at once" for certain.
    first = start_grade(server, submitted, out, "--cell-timeout", "120", "--notebook-timeout", "600")
    wait_for_results(out, 1, first)
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = grade(server, submitted, out)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 1
    assert second.stderr.strip() == (f"pglab: another pglab grade (pid {first.pid}) is writing to {out}: "
                                     "wait for it to finish, or pass another --out")
    status, _, stderr = finish(first)
    assert status == 0, stderr
    assert outputs(out) == expected


def test_rerun_grades_only_what_changed(server, tmp_path: Path) -> None:
    copy = tmp_path / "submitted"
    write_class(copy, slow=False, learners=("ann", "cho"))
    out = tmp_path / "out"
    assert grade(server, copy, out).returncode == 0
    written = written_files(out)
    nothing = grade({**server, "PYTHONPROFILEIMPORTTIME": "1"}, copy, out)  # every import on stderr
    assert nothing.returncode == 0 and "graded 0 notebook(s)" in nothing.stdout
    assert "(nothing changed since the last run); 6 kept from an earlier run" in nothing.stdout, nothing.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in nothing.stderr.splitlines() if "|" in line}
    assert "pglab.cli" in imported and not {"nbgrader", "pglab.grading.batch"} & imported, \
        "a run with nothing new loaded the grader"
    assert written_files(out) == written, "a run that graded nothing rewrote the outputs"
    first = outputs(out)
    (out / "report.html").unlink()
    (out / "feedback" / "cho" / "core" / "beginner.html").unlink()
    restored = grade(server, copy, out)
    assert restored.returncode == 0 and "graded 0 notebook(s)" in restored.stdout, restored.stdout
    assert "nothing changed since the last run" not in restored.stdout, "deleted outputs went unnoticed"
    assert (out / "report.html").is_file() and outputs(out) == first, "deleted outputs were not written again"
    Case("cho", "core", "beginner", 0, answer=EXCLUSIVE_BOUNDS).write(copy)  # cho resubmits a worse answer
    changed = grade(server, copy, out)
    assert "graded 1 notebook(s)" in changed.stdout, changed.stdout
    assert "core,,2026-11-20 09:00:00,cho,,,,26.0" in (out / "grades.csv").read_text()
    one = grade(server, copy, out, "--student", "ann")
    assert "graded 3 notebook(s)" in one.stdout and "3 kept" in one.stdout, one.stdout
    incremental = outputs(out)
    everything = grade(server, copy, out, "--regrade-all")
    assert "graded 6 notebook(s)" in everything.stdout
    assert outputs(out) == incremental, "an incremental run's outputs differ from a full run's"
    unknown = grade(server, copy, out, "--student", "zed")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == f"pglab: no submissions from zed in {copy} (there are: ann, cho)"


BUGGY_CHECK = '''

@pytest.mark.points(1)
def test_the_first_product_has_a_name(sub):
    """the first product in range has a name"""
    got = sub.call("get_products_in_price_range", 10.0, 15.0)
    assert got[0]["nmae"], "the first product has no name"
'''


FORGETS_RETURN = SEED_BEGINNER.replace("            return [Product.from_row(row) for row in cur.fetchall()]",
                                       "            found = [Product.from_row(row) for row in cur.fetchall()]")


def test_a_check_that_fails_the_reference_stops_the_run_before_anyone_is_graded(server, tmp_path: Path) -> None:
    """Blame by evidence. A check with a real bug (a typo'd key) fails on the course's reference
    solution: the run stops before grading anyone, in one line naming the check, and records nothing.
    After the fix the same command grades everyone, the learner whose function returns None
    included (0, and what came back); a re-run checks no reference again."""
    from tests.support.doc_walkthrough import prepare_clone

    course = tmp_path / "course"
    subprocess.run(["git", "clone", "-q", str(INSTRUCTOR_GUIDE.parents[1]), str(course)], check=True)
    prepare_clone(INSTRUCTOR_GUIDE.parents[1], course)
    hidden = course / "grader" / "checks" / "core" / "test_beginner.py"
    hidden.write_text(hidden.read_text() + BUGGY_CHECK)
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    Case("alice", "core", "beginner", 0, answer=SEED_BEGINNER).write(submitted)
    Case("bob", "core", "beginner", 0).write(submitted)  # the stub raises NotImplementedError
    Case("carl", "core", "beginner", 0, answer=FORGETS_RETURN).write(submitted)
    env = {**server, "PYTHONPATH": str(course)}
    command = [PGLAB, "grade", str(submitted), "--out", str(out), "--quiet"]
    first = subprocess.run(command, env=env, cwd=course, capture_output=True, text=True, timeout=BOUND_S)
    assert first.returncode == 1, first.stdout + first.stderr
    assert first.stdout == "" and len(first.stderr.strip().splitlines()) == 1, first.stdout + first.stderr
    line = first.stderr.strip()
    assert line.startswith("pglab: 1 check(s) fail on the course's reference solution, so nobody was graded: "
                           "grader/checks/core/test_beginner.py::test_the_first_product_has_a_name on "
                           "solutions/core/beginner.ipynb: "), line
    assert "KeyError: 'nmae'" in line and line.endswith("and run the same command again"), line
    shown = sample_starting(INSTRUCTOR_GUIDE, "pglab: 1 check(s) fail on the course's reference solution")
    assert sample_pattern(shown).fullmatch(line), "the instructor guide shows another line"
    recorded = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert recorded == [".pglab/lock"], recorded  # no grade, result, gradebook, feedback or reference

    hidden.write_text(hidden.read_text().replace('got[0]["nmae"]', 'got[0]["name"]'))
    again = subprocess.run(command, env=env, cwd=course, capture_output=True, text=True, timeout=BOUND_S)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "graded 9 notebook(s)" in again.stdout, again.stdout  # 3 learners, 3 notebooks, 2 not submitted
    with (out / "grades.csv").open() as f:
        rows = {r["student_id"]: r["score"] for r in csv.DictReader(f) if r["assignment"] == "core"}
    assert rows == {"alice": "11.0", "bob": "0.0", "carl": "0.0"}, rows
    with (out / "checks.csv").open() as f:
        carl = {r["check"]: r["message"] for r in csv.DictReader(f)
                if (r["student_id"], r["notebook"]) == ("carl", "beginner")}
    assert carl["test_the_first_product_has_a_name"] == (
        "get_products_in_price_range returned None (a function without `return` returns None); the check "
        "expected list[Product] (TypeError: 'NoneType' object is not subscriptable)"), carl
    records = Path(server["PGLAB_HOME"]) / "references"
    checked = {p: p.stat().st_mtime_ns for p in records.iterdir()}
    assert checked, "the passing reference was not remembered"

    Case("carl", "core", "beginner", 0, answer=SEED_BEGINNER).write(submitted)  # carl adds the return
    fixed = subprocess.run(command, env=env, cwd=course, capture_output=True, text=True, timeout=BOUND_S)
    assert fixed.returncode == 0 and "graded 1 notebook(s)" in fixed.stdout, fixed.stdout + fixed.stderr
    assert {p: p.stat().st_mtime_ns for p in records.iterdir()} == checked, (
        "unchanged checks were run on the reference again")
