"""Grading a whole class: N learners handing in the three core notebooks, every fifth with one mistake.

Prints, in one run on this machine:

- the floor: a bare kernel (no sandbox, no database copy, no checks) executing the very cells
  ``pglab grade`` executes, one notebook after another;
- (a) sequential ``nbgrader autograde`` on the first ``--nbgrader-learners`` learners (a sample: a
  whole class would take an hour), per notebook, and what the class would take at that rate;
- (b) ``pglab grade`` on the whole class: wall time, throughput per notebook, the per-notebook and
  per-run breakdown (as ``benchmarks/grading.py`` prints it), the largest process's peak memory;
- (c) a no-op re-run, and (d) a re-run after one learner handed in again, as the instructor runs them
  (the ``pglab grade`` command, start-up included), medians of ``--reruns``; (d) split into that
  learner's notebook (its cells and checks as pglab timed them, and what pglab spends on any
  notebook around them, from (b)'s medians) and the rest: the run's fixed cost;
- whether (a) and (b) agree on the sample's scores, and the ratios to the floor and to nbgrader.

    python benchmarks/classroom_grading.py [--learners 300] [--jobs N] [--nbgrader-learners 10]

Numbers differ from day to day on a shared machine: compare the ratios printed in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grading import print_breakdown, run_nbgrader
from jupyter_client.manager import KernelManager

from pglab.db.provision import ensure_course_database
from pglab.grading.batch import BatchSummary, default_jobs, grade_folder
from pglab.grading.course_layout import SOURCE
from pglab.grading.notebook_cells import plan_execution
from pglab.grading.phase_times import NotebookPhase
from pglab.grading.timeouts import Limits
from pglab.settings import PROJECT_ROOT as ROOT

NOTEBOOKS = ("beginner", "intermediate", "advanced")


def write_class(folder: Path, learners: int) -> None:
    """tests/corpus/core_class.py, in a process of its own (the corpus stays in tests/)."""
    subprocess.run([sys.executable, "-m", "tests.corpus.core_class", str(folder), str(learners)],
                   cwd=ROOT, check=True, timeout=600)


def floor(submissions: Path, database_url: str, learners: int) -> tuple[list[float], list[float]]:
    """Each notebook of the first ``learners`` learners in a fresh bare kernel: start, then the cells
    ``pglab grade`` would execute (the source's set-up, then the learner's cells), one after another.
    Returns each notebook's seconds, and each bare kernel's start (to ready) among them."""
    samples, starts = [], []
    env = dict(os.environ, DATABASE_URL=database_url)
    for learner in sorted(submissions.iterdir())[:learners]:
        for notebook in NOTEBOOKS:
            path = learner / "core" / f"{notebook}.ipynb"
            plan = plan_execution(SOURCE / "core" / f"{notebook}.ipynb", json.loads(path.read_text()))
            started = time.perf_counter()
            manager = KernelManager(kernel_name="python3")
            manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                 cwd=str(path.parent))
            client = manager.client()
            client.start_channels()
            try:
                client.wait_for_ready(timeout=60)
                starts.append(time.perf_counter() - started)
                for cell in plan.cells:
                    client.execute_interactive(cell.source, timeout=60, output_hook=lambda _msg: None)
                samples.append(time.perf_counter() - started)
            finally:
                client.stop_channels()
                manager.shutdown_kernel(now=True)
    return samples, starts


def command(submissions: Path, out: Path, jobs: int) -> tuple[float, str]:
    """``pglab grade`` as an instructor runs it: the wall time and its summary line."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pglab.cli", "grade", str(submissions), "--out", str(out),
                           "--jobs", str(jobs), "--quiet"], capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    lines = (done.stdout + done.stderr).strip().splitlines()
    return seconds, lines[0] if lines else f"(exit {done.returncode}, no output)"


def startup_costs(repeat: int) -> tuple[float, float]:
    """What every re-run pays before grading: a fresh interpreter's start, and the grader's imports."""
    bare, imports = [], []
    timed = "import time; t = time.perf_counter(); import pglab.grading.batch; print(time.perf_counter() - t)"
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
        bare.append(time.perf_counter() - started)
        done = subprocess.run([sys.executable, "-c", timed], check=True, capture_output=True, text=True,
                              timeout=120, cwd=ROOT)
        imports.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(bare), statistics.median(imports)


def hand_in_again(learner: Path) -> None:
    """The learner changes their beginner answer (a comment) and submits again, later."""
    path = learner / "core" / "beginner.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "answer":
            cell["source"] = "# handed in again\n" + "".join(cell["source"])
    path.write_text(json.dumps(notebook))
    (learner / "core" / "timestamp.txt").write_text("2026-12-02 09:00:00.000000 UTC")


def graded_seconds(out: Path, learner: str) -> float:
    """How long pglab took over the notebook ``hand_in_again`` changed (its cells and checks), as it
    stored it with the outcome."""
    record = json.loads((out / ".pglab" / "results" / learner / "core" / "beginner.json").read_text())
    return float(record["outcome"]["seconds"])


def per_notebook_around(summary: BatchSummary) -> float:
    """What pglab spends on a notebook besides its cells and checks (medians over the class in (b)):
    its database copy, its kernel's start (forked, in the sandbox), the kernel's stop and the drop."""
    around = (NotebookPhase.DATABASE_COPY, NotebookPhase.KERNEL_START, NotebookPhase.CLEAN_UP)
    graded = [o.phases for o in summary.outcomes if o.phases]
    return sum(statistics.median(p.get(phase, 0.0) for p in graded) for phase in around) if graded else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--nbgrader-learners", type=int, default=10,
                        help="learners graded by sequential nbgrader autograde, for its rate (0: skip)")
    parser.add_argument("--floor-learners", type=int, default=2, help="learners whose notebooks the floor runs")
    parser.add_argument("--reruns", type=int, default=3, help="repetitions of the no-op and one-learner re-runs")
    args = parser.parse_args()

    course = ensure_course_database()
    if course.embedded is not None:
        os.environ.setdefault("PGLAB_ADMIN_URL", course.embedded.admin_url())
    work = Path(tempfile.mkdtemp(prefix="pglab-class-bench-"))
    notebooks = args.learners * len(NOTEBOOKS)
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        submissions = work / "submitted"
        write_class(submissions, args.learners)
        print(f"{args.learners} learners x {len(NOTEBOOKS)} core notebooks = {notebooks} notebooks (every fifth "
              f"learner with one mistake); {os.cpu_count()} cores, pglab --jobs {args.jobs}")

        bare, kernel_starts = floor(submissions, course.url, args.floor_learners)
        floor_s, kernel_s = statistics.median(bare), statistics.median(kernel_starts)
        print(f"floor, a bare kernel executing the same cells:   median {floor_s:6.2f} s per notebook "
              f"(of {len(bare)}, one after another; no sandbox, database copy or checks), of which the "
              f"kernel's start {kernel_s:4.2f} s")

        nb_rate = None
        nb_scores: dict[str, float] = {}
        if args.nbgrader_learners:
            sample = work / "nbgrader-sample"
            for learner in sorted(submissions.iterdir())[:args.nbgrader_learners]:
                shutil.copytree(learner, sample / learner.name)
            nb_total, _, nb_scores = run_nbgrader(work, sample, course.url, NOTEBOOKS)
            nb_rate = nb_total / (len(nb_scores) * len(NOTEBOOKS))
            print(f"(a) sequential nbgrader autograde, {len(nb_scores)} learners: {nb_total:6.1f} s, "
                  f"{nb_rate:5.2f} s per notebook; the class at that rate: {nb_rate * notebooks / 60:5.1f} min")

        out = work / "out"
        started = time.perf_counter()
        summary = grade_folder(submissions, out, jobs=args.jobs, limits=Limits(), progress=True)
        total = time.perf_counter() - started
        peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        print(f"(b) pglab grade, the whole class:                 {total:6.1f} s ({total / 60:4.1f} min), "
              f"{total / notebooks:5.2f} s per notebook (throughput); largest process's peak RSS {peak_mb:.0f} MB")
        print_breakdown(summary, total)

        settle_s, settle_line = command(submissions, out, args.jobs)  # (b) graded in this process: no record yet
        print(f"    the first command after it (the full path: every stored result read, the record of the run "
              f"written): {settle_s:5.2f} s: {settle_line}")
        noop = [command(submissions, out, args.jobs) for _ in range(args.reruns)]
        noop_s = statistics.median(s for s, _ in noop)
        print(f"(c) no-op re-run (the command, start-up included): median {noop_s:5.2f} s of {len(noop)}: "
              f"{noop[-1][1]}")
        again, own = [], []
        for round_ in range(args.reruns):
            learner = sorted(submissions.iterdir())[round_ % args.learners]
            hand_in_again(learner)
            again.append(command(submissions, out, args.jobs))
            own.append(graded_seconds(out, learner.name))
        again_s, own_s = statistics.median(s for s, _ in again), statistics.median(own)
        print(f"(d) one learner handed in again:                  median {again_s:5.2f}"
              f" s of {len(again)}: {again[-1][1]}")
        around = per_notebook_around(summary)
        print(f"    of which that learner's notebook: its cells and checks {own_s:4.2f} s (as pglab timed them), "
              f"and its database copy, kernel start, kernel stop and database drop {around:4.2f} s (medians of (b)); "
              f"the rest, the run's fixed cost: {again_s - own_s - around:4.2f} s "
              f"(counting the floor's bare kernel start, {kernel_s:4.2f} s, instead: "
              f"{again_s - own_s - kernel_s:4.2f} s)")
        start_s, import_s = startup_costs(args.reruns)
        print(f"    of which, before the grader runs: starting Python {start_s:4.2f} s, importing the grader "
              f"{import_s:4.2f} s (medians of {args.reruns}, each in a fresh interpreter)")

        if nb_scores:
            pg_scores: dict[str, float] = {}
            for outcome in summary.outcomes:
                if outcome.student in nb_scores:
                    pg_scores[outcome.student] = pg_scores.get(outcome.student, 0.0) + outcome.score
            agree = sum(1 for s, score in nb_scores.items() if pg_scores.get(s) == score)
            print(f"scores agree on {agree} of {len(nb_scores)} learners of the nbgrader sample")
        print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} (a shared machine: "
              "compare runs at similar load)")
        ratios = f"pglab per notebook / floor per notebook: {total / notebooks / floor_s:.2f}"
        if nb_rate:
            ratios += f"; speed-up vs sequential nbgrader: {nb_rate * notebooks / total:.1f}x"
        print(ratios)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
