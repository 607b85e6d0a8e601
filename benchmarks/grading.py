"""Grading speed: plain sequential ``nbgrader autograde`` against ``pglab grade``, same submissions.

Generates N submissions of the beginner challenge (a mix of correct, partly correct and broken ones),
grades them (a) with one ``nbgrader autograde`` process on a temporary copy of the course, the way an
instructor would, and (b) with ``pglab grade``'s engine (fresh database per submission, sandboxed
kernels, ``--jobs`` in parallel). Prints per-submission medians, the overhead of a pglab submission
above a bare kernel start, whether both agree on the scores, the time of a no-op re-run of the graded class (it
only reads back stored results), and, last, the speed-up.

Also prints the per-kernel cost of the grading sandbox (kernels forked one after another, with and
without it) and, with ``--also-unsandboxed``, grades the batch once more without the sandbox.

    python benchmarks/grading.py [--submissions 40] [--jobs 2] [--kernel-rounds 3] [--also-unsandboxed]
"""

from __future__ import annotations

import argparse
import csv
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pglab.db.provision import admin_url, ensure_course_database
from pglab.grading.batch import BatchSummary, default_jobs, grade_folder
from pglab.grading.course_layout import SOURCE
from pglab.grading.kernels.bubblewrap import SandboxPlan
from pglab.grading.kernels.forkserver import ForkServer
from pglab.grading.kernels.session import KernelSession
from pglab.grading.phase_times import NotebookPhase, RunPhase
from pglab.grading.sandbox import UserLease, kernel_environment
from pglab.grading.timeouts import Limits
from pglab.settings import PROJECT_ROOT as ROOT


def write_submissions(folder: Path, count: int) -> None:
    """The corpus's beginner answers, mixed (tests/corpus/beginner_class.py), run as a module of the
    checkout in a process of its own: the corpus stays in tests/, which is instructor-only."""
    subprocess.run([sys.executable, "-m", "tests.corpus.beginner_class", str(folder), str(count)],
                   cwd=ROOT, check=True, timeout=300)


def bare_kernel_start(repeat: int = 5) -> list[float]:
    from jupyter_client.manager import KernelManager

    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        km = KernelManager(kernel_name="python3")
        km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        samples.append(time.perf_counter() - started)
        client.stop_channels()
        km.shutdown_kernel(now=True)
    return samples


def kernel_starts(sandboxed: bool, repeat: int) -> tuple[float, list[float], list[float]]:
    """Start ``repeat`` kernels one after another from one fork server.

    Returns (server start, each spawn, each start-to-ready). A spawn is the fork server's part: the
    fork and, in the sandbox, the namespaces, mounts and dropped capabilities. Start-to-ready adds
    the kernel's own start and the grader's handshake, whose retries (0.3 s) make it bimodal.
    """
    workspace = Path(tempfile.mkdtemp(prefix="pglab-bench-kernels-"))
    workspace.chmod(0o711)
    lease = UserLease()
    started = time.perf_counter()
    server = SandboxPlan.for_server(admin_url()).start_forkserver(workspace) if sandboxed else ForkServer()
    server_s = time.perf_counter() - started
    spawns: list[float] = []
    spawn = server.spawn

    def timed_spawn(*args: Any, **kwargs: Any) -> Any:
        begun = time.perf_counter()
        try:
            return spawn(*args, **kwargs)
        finally:
            spawns.append(time.perf_counter() - begun)

    server.spawn = timed_spawn  # type: ignore[method-assign]
    samples = []
    try:
        for index in range(repeat):
            workdir = workspace / f"k{index}"
            workdir.mkdir(mode=0o700)
            if lease.name:
                entry = pwd.getpwnam(lease.name)
                os.chown(workdir, entry.pw_uid, entry.pw_gid)
            session = KernelSession(workdir=workdir, env=kernel_environment("postgresql:///none", workdir),
                                    limits=Limits(), forkserver=server, user=lease.name)
            started = time.perf_counter()
            session.start()
            samples.append(time.perf_counter() - started)
            session.shutdown()
    finally:
        server.close()
        lease.release()
        shutil.rmtree(workspace, ignore_errors=True)
    return server_s, spawns, samples


def run_nbgrader(work: Path, submissions: Path, database_url: str, notebooks: tuple[str, ...] = ("beginner",)
                 ) -> tuple[float, list[float], dict[str, float]]:
    """Sequential ``nbgrader autograde core`` on a copy of the course holding ``notebooks``: the total,
    each submission's time (all its notebooks), and each student's score."""
    course = work / "nbgrader-course"
    (course / "solutions" / "core").mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy(SOURCE / "core" / f"{notebook}.ipynb", course / "solutions" / "core")
    (course / "grader").mkdir()
    shutil.copy(ROOT / "grader" / "nbgrader_config.py", course / "grader")
    env = dict(os.environ, DATABASE_URL=database_url,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "generate_assignment", "core", "--log-level=WARN"], cwd=course / "grader",
                   env=env, check=True, capture_output=True)
    shutil.copytree(submissions, course / "grader" / "submitted")
    started = time.perf_counter()
    process = subprocess.Popen([*nbgrader, "autograde", "core"], cwd=course / "grader", env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marks: list[float] = []
    assert process.stdout is not None
    for line in process.stdout:
        if "Creating/updating student with ID" in line:
            marks.append(time.perf_counter())
    process.wait()
    total = time.perf_counter() - started
    marks.append(time.perf_counter())
    per_submission = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    out = work / "nbgrader-grades.csv"
    subprocess.run([*nbgrader, "export", "--to", str(out)], cwd=course / "grader", env=env, check=True,
                   capture_output=True)
    with out.open() as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    return total, per_submission, scores


def run_pglab(work: Path, submissions: Path, jobs: int, sandboxed: bool = True
              ) -> tuple[float, list[float], dict[str, float], BatchSummary]:
    started = time.perf_counter()
    summary = grade_folder(submissions, work / ("pglab-out" if sandboxed else "pglab-out-unsandboxed"), jobs=jobs,
                           limits=Limits(), progress=False, unsafe_no_sandbox=not sandboxed)
    total = time.perf_counter() - started
    per_submission = [o.seconds for o in summary.outcomes if o.notebook == "beginner"]
    scores: dict[str, float] = {}
    for outcome in summary.outcomes:
        scores[outcome.student] = scores.get(outcome.student, 0.0) + outcome.score
    return total, per_submission, scores, summary


def print_breakdown(summary: BatchSummary, total: float) -> None:
    """Where (b)'s time went: each notebook's phases (medians), then the run's own fixed cost."""
    graded = [o.phases for o in summary.outcomes if o.phases]
    print(f"    per notebook, median of {len(graded)} (database copy and kernel start happen ahead, "
          "beside another notebook's grading):")
    for phase in NotebookPhase:
        values = [p.get(phase, 0.0) for p in graded]
        if values:
            indent = "      " if phase.value.startswith("of which") else "    "
            print(f"    {indent}{phase.value:<40} {statistics.median(values) * 1000:7.0f} ms")
    print("    per run (fixed cost, once):")
    for run_phase in RunPhase:
        seconds = summary.phases.seconds.get(run_phase, 0.0)
        print(f"        {run_phase.value:<40} {seconds:7.2f} s")
    accounted = sum(summary.phases.seconds.values())
    print(f"        {'the rest (start-up, discovery, locks)':<40} {total - accounted:7.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--kernel-rounds", type=int, default=3,
                        help="rounds of 6 kernels each, plain and sandboxed alternately, for the sandbox's cost")
    parser.add_argument("--also-unsandboxed", action="store_true",
                        help="also grade with --unsafe-no-sandbox, to see the sandbox's cost on the whole batch")
    args = parser.parse_args()

    course = ensure_course_database()
    if course.embedded is not None:
        os.environ.setdefault("PGLAB_ADMIN_URL", course.embedded.admin_url())
    work = Path(tempfile.mkdtemp(prefix="pglab-bench-"))
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        submissions = work / "submitted"
        write_submissions(submissions, args.submissions)
        print(f"{args.submissions} submissions of core/beginner (60% correct, 25% partial, 15% broken); "
              f"{os.cpu_count()} cores, pglab --jobs {args.jobs}")
        kernel = bare_kernel_start()
        print(f"bare kernel start (start + ready):         median {statistics.median(kernel):6.2f} s")
        ready: dict[bool, list[float]] = {True: [], False: []}
        spawned: dict[bool, list[float]] = {True: [], False: []}
        servers: dict[bool, list[float]] = {True: [], False: []}
        for sandboxed in (False, True) * max(1, args.kernel_rounds):  # alternated: the load of a shared machine drifts
            server_s, spawns, samples = kernel_starts(sandboxed=sandboxed, repeat=6)
            servers[sandboxed].append(server_s)
            spawned[sandboxed].extend(spawns)
            ready[sandboxed].extend(samples)
        ms = {k: statistics.median(v) * 1000 for k, v in spawned.items()}
        count = len(spawned[True])
        print(f"per-kernel sandbox cost: {ms[True] - ms[False]:+5.1f} ms (kernel spawn, median of {count}: "
              f"{ms[False]:.1f} ms forked plainly, {ms[True]:.1f} ms forked into its own namespaces); "
              f"start-to-ready median {statistics.median(ready[False]) * 1000:.0f} ms plain, "
              f"{statistics.median(ready[True]) * 1000:.0f} ms sandboxed; fork server start, once: "
              f"{statistics.median(servers[False]):4.2f} s plain, {statistics.median(servers[True]):4.2f} s in bwrap")

        nb_total, nb_each, nb_scores = run_nbgrader(work, submissions, course.url)
        print(f"(a) sequential nbgrader autograde:         {nb_total:6.1f} s total, "
              f"median {statistics.median(nb_each):5.2f} s per submission")
        pg_total, pg_each, pg_scores, pg_summary = run_pglab(work, submissions, args.jobs)
        print(f"(b) pglab grade (fresh database each):     {pg_total:6.1f} s total, "
              f"median {statistics.median(pg_each):5.2f} s per submission (latency, {args.jobs} in parallel), "
              f"{pg_total / args.submissions:5.2f} s per submission (throughput)")
        print_breakdown(pg_summary, pg_total)
        overhead = statistics.median(pg_each) - statistics.median(kernel)
        print(f"pglab per-submission latency minus a bare kernel start: {overhead:+.2f} s "
              "(everything: database copy, kernel, set-up cell, learner cells, checks, clean-up; kernels are "
              "forked from a pre-loaded server and prepared ahead, so this can be negative)")
        started = time.perf_counter()
        again = grade_folder(submissions, work / "pglab-out", jobs=args.jobs, limits=Limits(), progress=False)
        print(f"(c) no-op re-run of the graded class:       {time.perf_counter() - started:6.1f} s "
              f"({again.graded_now} graded, {again.kept} kept from (b))")
        agree = sum(1 for s in pg_scores if nb_scores.get(s) == pg_scores[s])
        print(f"scores agree on {agree} of {len(pg_scores)} submissions "
              f"(total points: nbgrader {sum(nb_scores.values()):g}, pglab {sum(pg_scores.values()):g})")
        if args.also_unsandboxed:
            un_total, un_each, _, _ = run_pglab(work, submissions, args.jobs, sandboxed=False)
            print(f"(d) pglab grade --unsafe-no-sandbox:       {un_total:6.1f} s total, median "
                  f"{statistics.median(un_each):5.2f} s per submission; the sandbox costs "
                  f"{(pg_total - un_total) / args.submissions * 1000:+.0f} ms per submission (throughput); "
                  f"speedup without it: {nb_total / un_total:.1f}x")
        print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} (a shared machine: "
              "compare runs at similar load)")
        print(f"speedup vs sequential nbgrader: {nb_total / pg_total:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
