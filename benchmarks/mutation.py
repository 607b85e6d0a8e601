"""How strong are the checks? Mutation testing of every reference answer with cosmic-ray.

cosmic-ray (pinned in the ``dev`` extra) makes one small change at a time to a reference answer —
``<=`` for ``<``, ``+`` for ``-``, ``True`` for ``False``, a loop that never runs, a decorator removed —
and runs the real checks against it. A check that still passes has let a wrong answer through: the
mutant *survived*. Each reference is copied to a plain ``.py`` file under ``build/mutation/`` that
cosmic-ray mutates in place; its test command splices the mutated source back where it came from:

* a challenge (``core/beginner``): the answer cell of ``solutions/<a>/<nb>.ipynb``, only the lines
  between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` mutated. The test command writes the
  notebook with the mutant answer and runs ``pytest <hidden and visible checks> --submission`` on it:
  the notebook runs in the real grading sandbox against its own copy of the database, as when graded.
* a lesson exercise (``4.2``): the reference answer under ``# %% Exercise 4.2`` in
  ``grader/lesson_answers/``. Running a lesson takes a while, so each lesson notebook runs once in a
  kernel that stays up, stopping at each exercise; the test command sends the mutant to it, the kernel
  runs it as the exercise's starter cell, then the exercise's check cell, and the answer is what the
  check printed.

Everything runs on an embedded PostgreSQL of its own (``build/mutation/pglab-home``), so the course
database of ``make lab`` is left alone. Prints the mutation score per challenge and per exercise and
every surviving mutant as a diff; the sessions stay in ``build/mutation/`` for ``cr-report``.

    make mutation                                  # everything (about half an hour on 2 cores)
    python benchmarks/mutation.py --only core/advanced --only 7.3 [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
# The venv's python by its real folder: `make mutation` starts `.venv/bin/python`, and where `.venv`
# is a symlink (a clone sharing a checkout's venv) the grading sandbox, which binds real paths, could
# not start the mutant's kernel through it.
PYTHON = str(Path(sys.executable).parent.resolve() / Path(sys.executable).name)
WORK = ROOT / "build" / "mutation"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISE_HEADING = re.compile(r"^### Exercise (\d+\.\d+) · (.+)$", re.MULTILINE)
ANSWER_MARK = re.compile(r"^# %% Exercise (\d+\.\d+)\s*$", re.MULTILINE)
KILLED_MARK = "pglab-mutation: killed by"  # the test command's own word: anything else is an error


@dataclass(frozen=True)
class Target:
    """One reference answer to mutate: a challenge (``core/beginner``) or an exercise (``4.2``)."""

    name: str
    source: str  # the reference, as the file cosmic-ray mutates
    lines: str  # the lines of it that may be mutated ("first-last")

    @property
    def is_challenge(self) -> bool:
        return "/" in self.name

    @property
    def folder(self) -> Path:
        return Path(os.environ.get("PGLAB_MUTATION_WORK", WORK)) / self.name.replace("/", "-")


# -- the references ----------------------------------------------------------------------------------

def answer_cell(notebook: Path) -> int:
    nb = nbformat.read(notebook, as_version=4)
    return next(i for i, c in enumerate(nb.cells) if BEGIN in c.source)


def challenge_targets() -> list[Target]:
    found = []
    for notebook in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        source = nbformat.read(notebook, as_version=4).cells[answer_cell(notebook)].source + "\n"
        lines = source.splitlines()
        first = next(i for i, line in enumerate(lines) if BEGIN in line) + 2
        last = next(i for i, line in enumerate(lines) if END in line)
        found.append(Target(f"{notebook.parent.name}/{notebook.stem}", source, f"{first}-{last}"))
    return found


def lesson_notebook(exercise: str) -> Path:
    return next((ROOT / "notebooks").glob(f"{int(exercise.split('.')[0]):02d}_*.ipynb"))


def exercise_targets() -> list[Target]:
    found = []
    for answers in sorted((ROOT / "grader" / "lesson_answers").glob("*.py")):
        pieces = ANSWER_MARK.split(answers.read_text(encoding="utf-8"))
        for number, body in zip(pieces[1::2], pieces[2::2], strict=True):
            source = body.strip() + "\n"
            found.append(Target(number, source, f"1-{len(source.splitlines())}"))
    return found


def exercise_cells(notebook: Path) -> dict[str, tuple[int, int]]:
    """Exercise number -> (index of its starter cell, index of its check cell)."""
    nb = nbformat.read(notebook, as_version=4)
    return {m.group(1): (i + 1, i + 2) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and (m := EXERCISE_HEADING.search(c.source))}


# -- the test commands cosmic-ray runs, one process per mutant -----------------------------------

def challenge_test(name: str, mutant: Path) -> int:
    """Exit 0 when every check passes on the notebook with the mutant answer (the mutant survived)."""
    import pytest

    from pglab.checks.layout import check_files

    assignment, notebook = name.split("/")
    solution = ROOT / "solutions" / assignment / f"{notebook}.ipynb"
    nb = nbformat.read(solution, as_version=4)
    nb.cells[answer_cell(solution)].source = mutant.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="pglab-mutant-") as tmp:
        submission = Path(tmp) / f"{notebook}.ipynb"
        nbformat.write(nb, submission)
        files = [str(p) for p in check_files(assignment, notebook)]
        code = pytest.main([*files, "--submission", str(submission), "-x", "-q", "-p", "no:cacheprovider",
                            "-o", "addopts=", "--rootdir", str(ROOT)])
    if code == pytest.ExitCode.TESTS_FAILED:
        print(f"{KILLED_MARK} a failed check")
    return int(code)


def exercise_test(address: str, number: str, mutant: Path) -> int:
    """Ask the lesson's kernel to check the mutant; exit 0 when the check says it passed."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(address)
        conn.sendall(json.dumps({"exercise": number, "source": mutant.read_text(encoding="utf-8")}).encode() + b"\n")
        answer = json.loads(conn.makefile("rb").readline())
    print(answer["report"])
    if answer["verdict"] == "killed":
        print(f"{KILLED_MARK} the exercise check")
        return 1
    return 0 if answer["verdict"] == "survived" else 3


# -- the lesson's long-lived kernel ------------------------------------------------------------------

class LessonKernel:
    """One lesson notebook, run in a kernel up to each exercise, which then checks one answer after another.

    It stops at each exercise's starter cell, as a learner's kernel would be there: a lesson's last
    cells close its connections, which the check cells of its later exercises use.
    """

    def __init__(self, notebook: Path, env: dict[str, str], timeout: float) -> None:
        from nbclient import NotebookClient

        self.notebook, self.cells = notebook, exercise_cells(notebook)
        self.nb = nbformat.read(notebook, as_version=4)
        self.client = NotebookClient(self.nb, timeout=int(timeout), kernel_name="python3", allow_errors=True,
                                     interrupt_on_timeout=True,
                                     resources={"metadata": {"path": str(notebook.parent)}})
        self.env = env
        self.next_cell = 0

    def run_until(self, index: int) -> None:
        """Run the lesson's cells not yet run, up to (not including) the cell at ``index``."""
        for i in range(self.next_cell, index):
            if self.nb.cells[i].cell_type == "code":
                self.client.execute_cell(self.nb.cells[i], i)
        self.next_cell = max(self.next_cell, index)

    def check(self, number: str, source: str) -> tuple[str, str]:
        """(verdict, report): "survived" when the check passed the answer, else "killed"."""
        from pglab.learner import exercises

        starter, check = self.cells[number]
        answer = nbformat.v4.new_code_cell(source)
        try:
            self.client.execute_cell(answer, starter)
            cell = nbformat.v4.new_code_cell(self.nb.cells[check].source)
            self.client.execute_cell(cell, check)
        except Exception as err:  # a timeout (the kernel was interrupted): the mutant hangs, which a check sees
            return "killed", f"{type(err).__name__}: {str(err)[-300:]}"
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in answer.outputs + cell.outputs
                  if o.get("output_type") == "error"]
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        first = (text.splitlines() or [""])[0]
        if errors:
            return "killed", "; ".join(errors)
        if first.endswith(exercises.PASSED):
            return "survived", text
        if exercises.TO_FIX in first or exercises.NOT_DONE in first:
            return "killed", text
        return "error", text or "the check printed nothing"

    def serve(self, listener: socket.socket, worker: subprocess.Popen[bytes]) -> None:
        """Answer the test commands until cosmic-ray is done."""
        listener.settimeout(0.5)
        while worker.poll() is None:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                request = json.loads(conn.makefile("rb").readline())
                verdict, report = self.check(request["exercise"], request["source"])
                conn.sendall(json.dumps({"verdict": verdict, "report": report}).encode() + b"\n")


# -- one cosmic-ray session per target ---------------------------------------------------------------

def cosmic_ray(*args: str) -> None:
    tool = Path(sys.executable).parent / args[0]
    subprocess.run([str(tool), *args[1:]], check=True, cwd=ROOT)


def prepare(target: Target, test_command: str, timeout: float) -> Path:
    """Write the reference and the session's config; ``cosmic-ray init``; skip lines outside the answer."""
    shutil.rmtree(target.folder, ignore_errors=True)
    target.folder.mkdir(parents=True)
    module = target.folder / "reference.py"
    module.write_text(target.source, encoding="utf-8")
    config = target.folder / "cosmic-ray.toml"
    config.write_text(textwrap.dedent(f"""\
        [cosmic-ray]
        module-path = "{module}"
        timeout = {timeout}
        excluded-modules = []
        test-command = "{test_command} {module}"

        [cosmic-ray.distributor]
        name = "local"

        [cosmic-ray.filters.line-filter]
        lines = {{ "{module}" = "{target.lines}" }}
        """), encoding="utf-8")
    session = target.folder / "session.sqlite"
    cosmic_ray("cosmic-ray", "init", str(config), str(session))
    cosmic_ray("cr-filter-lines", "--config", str(config), str(session))
    return session


def baseline(test_command: str, target: Target) -> None:
    """The unmutated reference must pass, or every "killed" below would mean nothing."""
    done = subprocess.run([*test_command.split(), str(target.folder / "reference.py")],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"{target.name}: the checks fail on the reference answer itself:\n{done.stdout[-3000:]}")


@dataclass
class Score:
    name: str
    killed: int
    survived: list[str]
    errors: list[str]

    @property
    def total(self) -> int:
        return self.killed + len(self.survived) + len(self.errors)

    def line(self) -> str:
        score = f"{100 * self.killed / self.total:5.1f}%" if self.total else "  n/a "
        return (f"{self.name:<22} {score}  killed {self.killed:>3} of {self.total:>3}, "
                f"survived {len(self.survived)}, errors {len(self.errors)}")


def read_session(target: Target, session: Path) -> Score:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    score = Score(target.name, 0, [], [])
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome != WorkerOutcome.NORMAL:
                if result.worker_outcome == WorkerOutcome.EXCEPTION:
                    score.errors.append(f"{item.mutations[0].operator_name}: {result.output}")
                continue  # skipped: outside the answer
            mutation = item.mutations[0]
            where = f"line {mutation.start_pos[0]}, {mutation.operator_name} #{mutation.occurrence}"
            diff = "\n".join(line for line in (result.diff or "").splitlines()[2:])
            if result.test_outcome == TestOutcome.SURVIVED:
                score.survived.append(f"{where}\n{diff}")
            elif result.test_outcome == TestOutcome.KILLED and (
                    result.output == "timeout" or KILLED_MARK in (result.output or "")):
                score.killed += 1
            else:
                score.errors.append(f"{where}: {(result.output or '')[-400:]}\n{diff}")
    return score


def mutate(target: Target, test_command: str, timeout: float, kernel: LessonKernel | None = None) -> Score:
    session = prepare(target, test_command, timeout)
    print(f"== {target.name}", flush=True)
    if kernel is None:
        baseline(test_command, target)
        cosmic_ray("cosmic-ray", "exec", str(target.folder / "cosmic-ray.toml"), str(session))
    else:
        address = test_command.split()[3]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(address)
            listener.listen(1)
            verdict, report = kernel.check(target.name, target.source)
            if verdict != "survived":
                sys.exit(f"Exercise {target.name}: the check fails on the reference answer itself:\n{report}")
            worker = subprocess.Popen([str(Path(sys.executable).parent / "cosmic-ray"), "exec",
                                       str(target.folder / "cosmic-ray.toml"), str(session)], cwd=ROOT)
            kernel.serve(listener, worker)
            os.unlink(address)
            kernel.check(target.name, target.source)  # the reference again, for the lesson's later cells
            if worker.returncode != 0:
                sys.exit(f"cosmic-ray exec failed for {target.name}")
    score = read_session(target, session)
    print(score.line(), flush=True)
    return score


def isolated_database() -> dict[str, str]:
    """Start the run's own embedded server; the environment the checks and kernels need."""
    from pglab.db.provision import ensure_course_database

    for name in ("DATABASE_URL", "PGLAB_PORT"):
        os.environ.pop(name, None)
    os.environ["PGLAB_HOME"] = str(Path(os.environ.get("PGLAB_MUTATION_WORK", WORK)) / "pglab-home")
    course = ensure_course_database()
    os.environ["DATABASE_URL"] = course.url
    if course.embedded is not None:  # each graded mutant gets a copy of the database: that needs the admin
        os.environ["PGLAB_ADMIN_URL"] = course.embedded.admin_url()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return dict(os.environ)


def selected(targets: list[Target], only: list[str]) -> list[Target]:
    """``--only``: a name, an assignment (``core``), ``challenges`` or ``exercises``; none: all."""
    def wanted(t: Target) -> bool:
        return any(t.name == o or t.name.startswith(o.rstrip("/") + "/") or
                   o == ("challenges" if t.is_challenge else "exercises") for o in only)
    return [t for t in targets if not only or wanted(t)]


def run(only: list[str], timeout: float) -> int:
    from pglab.db import course_data
    from pglab.db.server import EmbeddedServer
    from pglab.settings import load_settings

    challenges = selected(challenge_targets(), only)
    lesson_exercises = selected(exercise_targets(), only)
    if not challenges and not lesson_exercises:
        sys.exit(f"nothing matches --only {only}: give a challenge (core/beginner, extra) or an exercise (4.2)")
    env = isolated_database()
    scores = []
    try:
        script = Path(__file__).resolve()
        for target in challenges:
            scores.append(mutate(target, f"{PYTHON} {script} challenge-test {target.name}", timeout))
        for notebook in sorted({lesson_notebook(t.name) for t in lesson_exercises}):
            course_data.reset_course_database(env["DATABASE_URL"], load_settings().data_dir)
            with tempfile.TemporaryDirectory(prefix="pglab-mut-") as tmp:
                kernel_env = dict(env, MPLBACKEND="Agg", PGLAB_NOTEBOOK_SCALE="1",
                                  JUPYTER_RUNTIME_DIR=str(Path(tmp) / "runtime"))
                kernel = LessonKernel(notebook, kernel_env, timeout)
                saved = dict(os.environ)
                os.environ.clear()
                os.environ.update(kernel_env)  # the kernel inherits this process's environment
                try:
                    with kernel.client.setup_kernel():
                        print(f"== running {notebook.name} once, up to each exercise", flush=True)
                        for target in (t for t in lesson_exercises if lesson_notebook(t.name) == notebook):
                            starter, check = kernel.cells[target.name]
                            kernel.run_until(starter)
                            command = f"{PYTHON} {script} exercise-test {Path(tmp) / 's'} {target.name}"
                            scores.append(mutate(target, command, timeout, kernel))
                            kernel.next_cell = check + 1  # mutate() ran the reference and its check last
                finally:
                    os.environ.clear()
                    os.environ.update(saved)
    finally:
        EmbeddedServer(Path(os.environ.get("PGLAB_MUTATION_WORK", WORK)) / "pglab-home").stop()
    report(scores)
    return 0


def report(scores: list[Score]) -> None:
    print("\nMutation score (killed / mutants; survivors are listed below):")
    for score in scores:
        print("  " + score.line())
    killed = sum(s.killed for s in scores)
    total = sum(s.total for s in scores)
    print(f"  {'all':<22} {100 * killed / max(total, 1):5.1f}%  killed {killed} of {total}")
    for score in scores:
        for survivor in score.survived:
            print(f"\nSURVIVED {score.name} {survivor}")
        for error in score.errors:
            print(f"\nERROR {score.name} (counted as not killed) {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="a challenge (core/beginner), an assignment (core) or an exercise (4.2); repeatable")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="its sessions and its own PostgreSQL (two runs at once need two folders)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per mutant before it counts as killed")
    one = commands.add_parser("challenge-test", help="(cosmic-ray's test command) check one challenge mutant")
    one.add_argument("name")
    one.add_argument("mutant", type=Path)
    ex = commands.add_parser("exercise-test", help="(cosmic-ray's test command) check one exercise mutant")
    ex.add_argument("address")
    ex.add_argument("number")
    ex.add_argument("mutant", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("PGLAB_MUTATION_WORK", str(args.work.resolve()))
    if args.command == "challenge-test":
        return challenge_test(args.name, args.mutant)
    if args.command == "exercise-test":
        return exercise_test(args.address, args.number, args.mutant)
    return run(args.only, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
