"""The docs cannot rot: every command in README.md and docs/*.md is run here, as written.

Each page is walked through (see ``tests/support/doc_walkthrough.py``) in a fresh ``git clone`` of this
checkout with its own embedded PostgreSQL, from ``make lab`` to graded CSVs. Two commands cannot run
inside the suite; :data:`NOT_RUN_HERE` names the test that covers each, and a test checks those exist.
Documented sample outputs are compared with what the commands really print.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
import pytest
from nbgrader.api import Gradebook

from pglab.cli import build_parser
from pglab.db.server import EmbeddedServer
from pglab.grading.course_layout import RELEASE
from tests.corpus.case import with_answer
from tests.corpus.cases_core import SEED_ADVANCED, SEED_BEGINNER, SEED_INTERMEDIATE
from tests.support.doc_walkthrough import (
    REPOSITORY_PLACEHOLDER,
    Walkthrough,
    block_commands,
    command_key,
    inline_commands,
    installed_stamp,
    prepare_clone,
    sample_pattern,
    sample_starting,
    use_installed_venv,
    walkthrough_environment,
)
from tests.support.environment import clean_environ
from tests.support.lab_process import Lab, free_port
from tests.support.nbgrader_course import CHEAPEST, SHOP_LEARNERS, submit

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LEARNER_GUIDE = ROOT / "docs" / "learner-guide.md"
INSTRUCTOR_GUIDE = ROOT / "docs" / "instructor-guide.md"
CLASSROOM_GUIDE = ROOT / "docs" / "classroom.md"
PAGES = [README, LEARNER_GUIDE, INSTRUCTOR_GUIDE, CLASSROOM_GUIDE]
OWN_SERVER_URL = "postgresql://learner:secret@db.example.com:5432/catalogue"  # the learner guide's example
GUIDE_DUE = "2026-12-10T23:59:00+00:00"  # the classroom guide's due date; its walk uses a week from now
DUE = (datetime.now(timezone.utc) + timedelta(days=7)).replace(second=0, microsecond=0, tzinfo=None)

# Commands the suite cannot run from inside itself, and the test that covers each instead.
NOT_RUN_HERE = {
    "make test": ("tests/test_docs.py", "test_ci_runs_the_readme_test_command"),  # it is this suite
    "docker compose up": ("tests/test_repo_files.py",
                          "test_compose_initialises_from_the_same_files_as_the_embedded_path"),
    # The classroom guide: system accounts and a running hub (a real one, with users the test creates) ...
    **{command: ("tests/test_jupyterhub.py", "test_a_class_on_jupyterhub") for command in (
        "groupadd pglab-learners", "groupadd pglab-instructors",
        "useradd --create-home -K HOME_MODE=0700 --groups pglab-learners alice",
        "useradd --create-home -K HOME_MODE=0700 --groups pglab-learners bob",
        "useradd --create-home -K HOME_MODE=0700 --groups pglab-instructors teacher", "chpasswd < class-passwords.txt",
        "pglab hub --port 8000")},
    # ... and a Kubernetes cluster (the values file is checked without one).
    **{command: ("tests/test_jupyterhub_kubernetes.py", "test_extra_config_installs_the_hook_the_local_hub_uses")
       for command in (
        "kubectl create namespace pglab",
        "kubectl --namespace pglab create secret generic pglab-postgres-admin    "
        "--from-literal=url='postgresql://postgres:CHANGE-ME@pglab-postgresql.pglab.svc:5432/postgres'",
        "helm repo add jupyterhub https://hub.jupyter.org/helm-chart/",
        "helm upgrade --install pglab jupyterhub/jupyterhub --namespace pglab --version 4.4.0 "
        "--values hub/z2jh-values.yaml")},
}


def _core_submission(notebook: str, answer: str | None) -> str:
    return json.dumps(with_answer(RELEASE / "core" / f"{notebook}.ipynb", answer), indent=1)


def _scores(path: Path, assignment: str = "core") -> dict[str, float]:
    with path.open() as f:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(f) if row["assignment"] == assignment}


@pytest.fixture()
def workspace(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder for a walkthrough; whatever embedded server a walkthrough started is stopped."""
    if not installed_stamp().exists():
        pytest.skip("the docs walkthroughs reuse the .venv that `make test` installs: run them through make")
    yield tmp_path
    for home in tmp_path.glob("**/.pglab"):
        if (home / "pgdata").is_dir():
            EmbeddedServer(home).stop()
    # The clone shares the suite's .venv: make must never have reinstalled the project from the clone.
    installed = subprocess.run([sys.executable, "-c", "import pglab; print(pglab.__file__)"], cwd="/",
                               env={"PATH": os.environ["PATH"]}, capture_output=True, text=True).stdout.strip()
    assert Path(installed).is_relative_to(ROOT), f"the .venv now runs pglab from {installed}"


def _clone(workspace: Path) -> tuple[Path, dict[str, str]]:
    clone = workspace / "pglab"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    prepare_clone(ROOT, clone)
    return clone, walkthrough_environment(workspace, clone)


def _learner_bundle(workspace: Path) -> tuple[Path, dict[str, str]]:
    """What a learner receives: ``pglab bundle`` of this checkout, set up as ``make lab`` would."""
    bundle = workspace / "pglab-student"
    subprocess.run([sys.executable, "-m", "pglab.cli", "bundle", str(bundle)], cwd=ROOT, check=True,
                   env=clean_environ(), capture_output=True)
    use_installed_venv(bundle)
    return bundle, walkthrough_environment(workspace, bundle)


# -- the pages' commands -----------------------------------------------------------------------------

def test_every_command_in_the_docs_is_run_by_a_walkthrough_or_covered_by_a_named_test() -> None:
    # Block commands are all run by a walkthrough, or in NOT_RUN_HERE (checked below).
    documented = {command_key(c) for page in PAGES for c in block_commands(page)}
    for page in PAGES:
        assert block_commands(page), f"{page} shows no commands"
        for command in inline_commands(page):
            key = command_key(command)
            assert key in documented, (
                f"{page.name} mentions `{command}`, which no walkthrough runs: show it in a bash block")
            if command.startswith("pglab ") and len(command.split()) > len(key):  # a use, not a name:
                build_parser().parse_args(command.split()[1:])  # the way it is written must parse


def test_commands_not_run_here_are_covered_by_existing_tests() -> None:
    documented = {c for page in PAGES for c in block_commands(page)}
    for command, (test_file, test_name) in NOT_RUN_HERE.items():
        assert command in documented, f"`{command}` is no longer in the docs: drop it from NOT_RUN_HERE"
        tree = ast.parse((ROOT / test_file).read_text())
        names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert test_name in names, f"{test_file}::{test_name} (which covers `{command}`) does not exist"


def test_ci_runs_the_readme_test_command() -> None:
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))]
    assert ci == ["exec make test"], ci
    quick_start = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make test" in block_commands(README)
    assert "make lab" in quick_start and "make test" in quick_start


# -- walkthroughs ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_readme_from_clone_to_a_graded_challenge(workspace: Path) -> None:
    env = walkthrough_environment(workspace, workspace / "pglab")
    walk = Walkthrough(cwd=workspace, env=env, tmp=workspace, substitutions={REPOSITORY_PLACEHOLDER: str(ROOT)},
                       covered_elsewhere=set(NOT_RUN_HERE))
    clone = workspace / "pglab"

    def finish_clone(w: Walkthrough, output: str) -> None:
        prepare_clone(ROOT, clone)

    def answer_the_beginner_challenge(w: Walkthrough) -> None:
        # What the reader does in JupyterLab: write the answer, save.
        (clone / "notebooks/challenges/core/beginner.ipynb").write_text(_core_submission("beginner", SEED_BEGINNER))

    def graded(w: Walkthrough, output: str) -> None:
        out = clone / "grader" / "grades"
        assert _scores(out / "grades.csv") == {"me": 10.0}
        with (out / "checks.csv").open() as f:
            rows = [r for r in csv.DictReader(f) if r["notebook"] == "beginner" and not r["check"].startswith("(")]
        assert rows and all(r["message"] == "passed" for r in rows), rows
        assert (out / "feedback" / "me" / "core" / "beginner.html").is_file()

    def measured(marker: str) -> object:
        def check(w: Walkthrough, output: str) -> None:
            assert re.search(marker, output), output[-2000:]
        return check

    walk.after = {
        f"git clone {REPOSITORY_PLACEHOLDER} pglab": finish_clone,
        "pglab grade grader/submitted --out grader/grades": graded,
        "python benchmarks/pool_vs_connect.py --requests 200 --repeats 2": measured(r"pooled checkout is [\d.]+x"),
        "python benchmarks/copy_vs_insert.py --rows 4000 --repeat 2": measured(r"median"),
        "python benchmarks/grading.py --submissions 6 --kernel-rounds 1":
            measured(r"scores agree on 6 of 6(?s:.*)speedup .*x"),
        "make test-fast": measured(r"\d+ passed"),
    }
    walk.before = {
        "cp notebooks/challenges/core/beginner.ipynb grader/submitted/me/core/": answer_the_beginner_challenge}
    walk.run_page(README)
    assert walk.labs_started == 1


@pytest.mark.slow
def test_learner_guide_in_the_learner_bundle(workspace: Path, course_url: str) -> None:
    clone, env = _learner_bundle(workspace)
    walk = Walkthrough(cwd=clone, env=env, tmp=workspace, substitutions={OWN_SERVER_URL: course_url},
                       covered_elsewhere=set(NOT_RUN_HERE))
    notes = clone / "notebooks" / "my-notes.ipynb"
    before_reset: dict[Path, bytes] = {}
    state: dict[str, str] = {}

    def products(url: str) -> int:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            count = int(cur.fetchone()[0])
        conn.close()
        return count

    def url_printed(w: Walkthrough, output: str) -> None:
        url = output.strip().splitlines()[-1]
        assert url.startswith("postgresql://learner:") and "@localhost:" in url and url.endswith("/catalogue")
        assert products(url) == 5343
        state["url"] = url
        # The set-up cell's first line, as the guide shows it.
        printed = w.python("from pglab.learner.lesson_setup import setup; setup(sql_magic=False)").strip()
        sample = sample_starting(LEARNER_GUIDE, "connected to ")
        assert sample_pattern(sample).fullmatch(printed), (printed, sample)

    def break_the_catalogue_and_keep_notes(w: Walkthrough) -> None:
        url = state["url"]
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM products WHERE category = 'software'")
            cur.execute("CREATE TABLE my_scratch (x int)")
        conn.close()
        notes.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "note": "mine"}')
        before_reset.update({p: p.read_bytes() for p in (clone / "notebooks").rglob("*.ipynb")})

    def reset_done(w: Walkthrough, output: str) -> None:
        assert products(state["url"]) == 5343
        assert {p: p.read_bytes() for p in (clone / "notebooks").rglob("*.ipynb")} == before_reset

    def cleaned(w: Walkthrough, output: str) -> None:
        assert not (clone / ".pglab").exists()
        assert notes.read_bytes() == before_reset[notes]

    walk.after = {"pglab db url": url_printed, "pglab db reset": reset_done, "make clean-db": cleaned}
    walk.before = {"pglab db reset": break_the_catalogue_and_keep_notes}
    walk.run_page(LEARNER_GUIDE)
    assert walk.labs_started == 4  # embedded, headless, own server, pglab lab

    # The documented error for a URL that leads nowhere is the one pglab prints.
    port = free_port()
    done = subprocess.run(["pglab", "db", "url"], cwd=clone, capture_output=True, text=True, timeout=60,
                          env=dict(walk.env, DATABASE_URL=f"postgresql://learner:secret@localhost:{port}/catalogue"))
    assert done.returncode == 1 and done.stdout == ""
    line = done.stderr.strip().replace(str(port), "6543")
    assert "\n" not in line and "secret" not in line
    assert sample_pattern(sample_starting(LEARNER_GUIDE, "pglab: cannot connect")).fullmatch(line), line


@pytest.mark.slow
def test_instructor_guide(workspace: Path) -> None:
    clone, env = _clone(workspace)
    ds101 = workspace / "ds101"  # the guide's own nbgrader course, ~/ds101
    walk = Walkthrough(cwd=clone, env=env, tmp=workspace, covered_elsewhere=set(NOT_RUN_HERE),
                       substitutions={"~/ds101": str(ds101)})
    release = clone / "notebooks" / "challenges"
    snapshot: dict[str, object] = {}

    def nbgrader_course(w: Walkthrough) -> None:
        """An SQL homework in nbgrader's format, the first learner's answer dropping products."""
        import nbformat

        (ds101 / "source" / "shop").mkdir(parents=True)
        nbformat.write(CHEAPEST, ds101 / "source" / "shop" / "cheapest.ipynb")
        for student, edits in SHOP_LEARNERS.items():
            submit(ds101 / "source" / "shop" / "cheapest.ipynb", ds101 / "submitted", student, "shop", edits)

    def graded_by_test_cells(w: Walkthrough, output: str) -> None:
        assert _scores(ds101 / "pglab-grades" / "grades.csv", "shop") == {"adam": 0.0, "bea": 2.0, "carl": 2.0}
        with (ds101 / "pglab-grades" / "checks.csv").open() as f:
            assert {r["check"] for r in csv.DictReader(f)} == {"test_cheapest"}

    def bundled(w: Walkthrough, output: str) -> None:
        bundle = workspace / "pglab-student"
        assert (bundle / "notebooks" / "challenges" / "core" / "beginner.ipynb").is_file()
        assert (bundle / "Makefile").is_file() and (bundle / "pglab" / "challenge_checks").is_dir()
        for hidden in ("solutions", "grader", "tests", ".ci"):
            assert not (bundle / hidden).exists(), hidden

    def receive_files(w: Walkthrough) -> None:
        for name, answer in (("beginner", SEED_BEGINNER), ("intermediate", SEED_INTERMEDIATE),
                             ("advanced", SEED_ADVANCED)):
            (clone / "incoming" / "alice").mkdir(parents=True, exist_ok=True)
            (clone / "incoming" / "alice" / f"{name}.ipynb").write_text(_core_submission(name, answer))
        (clone / "incoming" / "bob").mkdir(parents=True, exist_ok=True)
        (clone / "incoming" / "bob" / "beginner.ipynb").write_text(_core_submission("beginner", None))

    def graded(w: Walkthrough, output: str) -> None:
        out = clone / "grader" / "grades"
        assert _scores(out / "grades.csv") == {"alice": 32.0, "bob": 0.0}
        with (out / "checks.csv").open() as f:
            assert next(csv.reader(f)) == ["student_id", "assignment", "notebook", "check", "points", "max_points",
                                           "message"]
        pages = list((out / "feedback" / "alice" / "core").glob("*.html"))
        assert len(pages) == 3
        for page in pages:
            html = page.read_text()
            assert "BEGIN HIDDEN" not in html and "def test_" not in html
        summary = sample_starting(INSTRUCTOR_GUIDE, "graded 6 ")
        printed = "\n".join(line for line in output.splitlines() if line.startswith(("graded ", "wrote ")))
        assert sample_pattern(summary).fullmatch(printed), (printed, summary)
        assert "grading:" in output  # the progress bar
        wide = (out / "grades-wide.csv").read_text(encoding="utf-8").splitlines()
        assert wide == sample_starting(INSTRUCTOR_GUIDE, "Student,ID,").strip().splitlines()
        assert "core/beginner" in (out / "report.html").read_text(encoding="utf-8")

    def regraded_nothing(w: Walkthrough, output: str) -> None:
        assert "graded 0 notebook(s)" in output and "6 kept from an earlier run" in output, output
        assert _scores(clone / "grader" / "grades" / "grades.csv") == {"alice": 32.0, "bob": 0.0}

    def graded_again(w: Walkthrough, output: str) -> None:
        assert _scores(clone / "grader" / "grades-retry" / "grades.csv") == {"alice": 32.0, "bob": 0.0}
        assert "grading:" not in output  # --quiet

    def graded_with_deadlines(w: Walkthrough, output: str) -> None:
        out = clone / "grader" / "grades"
        assert sample_pattern(sample_starting(INSTRUCTOR_GUIDE, "graded 0 ")).fullmatch(output.strip()), output
        with (out / "grades.csv").open() as f:
            rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == "core"}
        assert [(rows[s]["duedate"], rows[s]["late_submission_penalty"], rows[s]["score"]) for s in ("alice", "bob")
                ] == [("2026-12-10 23:59:00", "12.0", "20.0"), ("2026-12-10 23:59:00", "0.0", "0.0")]
        assert "<h2>Late submissions</h2>" in (out / "report.html").read_text(encoding="utf-8")
        assert "Late: submitted 2026-12-11 01:30:00 UTC" in (out / "feedback" / "alice" / "core" /
                                                            "beginner.html").read_text(encoding="utf-8")
        with Gradebook(f"sqlite:///{clone / 'grader' / 'gradebook.db'}") as gb:  # nbgrader's own record of it
            assert gb.find_submission("core", "bob").extension == timedelta(hours=48)

    def keep_release(w: Walkthrough) -> None:
        snapshot["release"] = {p: p.read_bytes() for p in release.rglob("*.ipynb")}

    def release_unchanged(w: Walkthrough, output: str) -> None:
        assert {p: p.read_bytes() for p in release.rglob("*.ipynb")} == snapshot["release"]

    def exported(w: Walkthrough, output: str) -> None:
        assert _scores(clone / "grader" / "grades.csv") == {"alice": 32.0, "bob": 0.0}
        feedback = list((clone / "grader" / "feedback" / "alice" / "core").glob("*.html"))
        assert len(feedback) == 3 and all("BEGIN HIDDEN" not in p.read_text() for p in feedback)

    def git_status_before(w: Walkthrough) -> None:
        snapshot["status"] = subprocess.run(["git", "status", "--short", "notebooks/challenges"], cwd=clone,
                                            capture_output=True, text=True, check=True).stdout

    def nothing_changed(w: Walkthrough, output: str) -> None:
        assert output == snapshot["status"], f"make release changed the committed release:\n{output}"

    def pytest_passed(w: Walkthrough, output: str) -> None:
        assert "5 passed" in output and "ran in a sandbox on its own copy of the course database" in output, output

    def roster_exported(w: Walkthrough) -> None:
        (w.cwd / "roster.csv").write_text("username,firstname,lastname\ncarol,Carol,Chen\ndan,Dan,Diaz\n")

    def learners_added(w: Walkthrough, output: str) -> None:
        assert sample_pattern(sample_starting(INSTRUCTOR_GUIDE, "added alice")).fullmatch(output.strip()), output

    def learners_listed(w: Walkthrough, output: str) -> None:
        assert [line.split()[:2] for line in output.splitlines()[1:5]] == [
            ["alice", "yes"], ["bob", "yes"], ["carol", "yes"], ["dan", "yes"]], output

    def learner_connects_to_their_own(w: Walkthrough, output: str) -> None:
        url = output.strip().removeprefix("DATABASE_URL=")
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database(), current_user, count(*) FROM products")
            assert cur.fetchone()[:2] == ("alice", "alice")
        conn.close()
        with pytest.raises(psycopg2.OperationalError, match="pg_hba.conf rejects"):
            psycopg2.connect(url.rsplit("/", 1)[0] + "/bob")

    walk.before = {
        "pglab learners add --roster roster.csv": roster_exported,
        "mkdir -p grader/submitted/alice/core grader/submitted/bob/core": receive_files,
        "nbgrader generate_assignment core --force": keep_release,
        "make release": git_status_before,
        "pglab grade ~/ds101/submitted --source ~/ds101/source --out ~/ds101/pglab-grades": nbgrader_course,
    }
    walk.after = {
        "pglab learners add alice bob": learners_added,
        "pglab learners list": learners_listed,
        "pglab learners url alice": learner_connects_to_their_own,
        "pglab bundle ../pglab-student": bundled,
        "pglab grade grader/submitted --out grader/grades": graded,
        "pglab grade grader/submitted --out grader/grades --quiet": regraded_nothing,
        "pglab grade grader/submitted --out grader/grades-retry --jobs 1 --cell-timeout 20 --notebook-timeout 300 "
        "--quiet": graded_again,
        "nbgrader generate_assignment core --force": release_unchanged,
        "nbgrader export --to grades.csv": exported,
        "git status --short notebooks/challenges": nothing_changed,
        "pytest grader/checks/core/test_beginner.py --submission solutions/core/beginner.ipynb": pytest_passed,
        "pglab grade ~/ds101/submitted --source ~/ds101/source --out ~/ds101/pglab-grades": graded_by_test_cells,
        "pglab grade grader/submitted --out grader/grades --late-policy per-hour:2 --quiet": graded_with_deadlines,
    }
    def formgrader_lists_the_graded_assignment(w: Walkthrough, lab: Lab) -> None:
        assignments = {a["name"]: a for a in json.loads(lab.get("/formgrader/api/assignments"))}
        assert assignments["core"]["num_submissions"] == 2, assignments.get("core")
        assert "Formgrader" in lab.get("/formgrader") or "formgrader" in lab.get("/formgrader")

    walk.during = {"jupyter lab": formgrader_lists_the_graded_assignment}
    walk.run_page(INSTRUCTOR_GUIDE)


@pytest.mark.slow
def test_classroom_guide(workspace: Path) -> None:
    """The hub guide's course set-up, learners, instructor commands and load benchmark, as written.

    The hub itself and the accounts are in NOT_RUN_HERE (tests/test_jupyterhub.py runs them for real);
    here the instructor's release, collect and grade run in their own clone, and one learner's side of
    the exchange (fetch, answer, submit, fetch the feedback) is done with nbgrader's commands, as the
    Assignments panel does.
    """
    if os.geteuid() != 0:
        pytest.skip("the classroom guide is followed as root (its load benchmark creates system users)")
    course, teacher = workspace / "srv-pglab", workspace / "teacher" / "pglab"
    env = walkthrough_environment(workspace, course)
    walk = Walkthrough(cwd=workspace, env=env, tmp=workspace, covered_elsewhere=set(NOT_RUN_HERE),
                       substitutions={REPOSITORY_PLACEHOLDER: str(ROOT), "/srv/pglab": str(course),
                                      "~/pglab": str(teacher),
                                      GUIDE_DUE: DUE.strftime("%Y-%m-%dT%H:%M:%S+00:00")})  # due in a week

    def write_roster(w: Walkthrough) -> None:  # the LMS's export
        (w.cwd / "roster.csv").write_text("username,name\nalice,Alice A.\nbob,Bob B.\n")

    def listed(w: Walkthrough, output: str) -> None:
        assert re.search(r"^alice\b", output, re.M) and re.search(r"^bob\b", output, re.M), output

    def alice_submits(w: Walkthrough) -> None:
        home = workspace / "alice"
        home.mkdir()
        options = [f"--Exchange.root={teacher / 'grader' / 'exchange'}", "--CourseDirectory.course_id=pglab"]
        learner_env = dict(w.env)
        for command in (["fetch_assignment", "core"], ["submit", "core", "--CourseDirectory.student_id=alice"]):
            done = subprocess.run(["python", "-m", "nbgrader", *command, *options], cwd=home, env=learner_env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
            if command[0] == "fetch_assignment":
                (home / "core" / "beginner.ipynb").write_text(_core_submission("beginner", SEED_BEGINNER))

    def graded(w: Walkthrough, output: str) -> None:
        assert _scores(teacher / "grader" / "grades" / "grades.csv") == {"alice": 10.0}
        with (teacher / "grader" / "grades" / "grades.csv").open() as f:
            (row,) = [r for r in csv.DictReader(f) if r["assignment"] == "core"]
        assert row["duedate"] == DUE.strftime("%Y-%m-%d %H:%M:%S") and float(row["late_submission_penalty"]) == 0

    def alice_reads_feedback(w: Walkthrough, output: str) -> None:  # Fetch Feedback in her Assignments panel
        assert "released 3 feedback page(s) of 1 learner(s) on core" in output, output
        home = workspace / "alice"
        options = [f"--Exchange.root={teacher / 'grader' / 'exchange'}", "--CourseDirectory.course_id=pglab"]
        done = subprocess.run(["python", "-m", "nbgrader", "fetch_feedback", "core",
                               "--CourseDirectory.student_id=alice", *options],
                              cwd=home, env=dict(w.env), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        (page,) = (home / "core" / "feedback").glob("*/beginner.html")
        assert "Score: <b>10 / 10</b>" in page.read_text()

    def no_failures(w: Walkthrough, output: str) -> None:
        assert "failures: 0 (goal 0)" in output and "cells run: 2 of 2" in output, output[-3000:]

    walk.before = {"pglab learners add --roster roster.csv": write_roster, "nbgrader collect core": alice_submits}
    walk.after = {
        f"git clone {REPOSITORY_PLACEHOLDER} /srv/pglab": lambda w, output: prepare_clone(ROOT, course),
        "git clone /srv/pglab ~/pglab": lambda w, output: prepare_clone(ROOT, teacher),
        "pglab learners list": listed,
        "pglab grade grader/submitted --out grader/grades --late-policy per-hour:1": graded,
        "pglab release-feedback core": alice_reads_feedback,
        "python benchmarks/classroom.py --learners 2": no_failures,
    }
    walk.run_page(CLASSROOM_GUIDE)
