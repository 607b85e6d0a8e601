"""The ``pglab`` command: run the course database and JupyterLab, and (later) grade.

Every expected failure is a :class:`~pglab.errors.PglabError` whose one-line message is printed
as ``pglab: <message>`` with exit status 1; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pglab.classroom.commands import add_learners_parser
from pglab.db import course_data
from pglab.db.provision import embedded_server, ensure_course_database
from pglab.errors import GraderFault, PglabError
from pglab.settings import load_settings, mask_password

if TYPE_CHECKING:
    from pglab.grading.head_start import HeadStart


def _external_note(action: str) -> str:
    settings = load_settings()
    return (
        f"{settings.describe_external()} is set, so pglab does not {action} a server of its own; "
        "unset it to use the embedded server"
    )


def cmd_db_start(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.external:
        course = ensure_course_database(settings)
        print(f"using {mask_password(course.url)} (not managed by pglab)")
        return 0
    course = ensure_course_database(settings)
    assert course.embedded is not None
    note = " (course data loaded)" if course.loaded_now else ""
    print(f"PostgreSQL is running on localhost:{course.embedded.port}{note}")
    print(f"DATABASE_URL={course.url}")
    return 0


def cmd_db_stop(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.external:
        print(_external_note("stop"))
        return 0
    stopped = embedded_server(settings).stop()
    print("PostgreSQL stopped" if stopped else "PostgreSQL was not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.external:
        url = settings.database_url or ""
        conn = course_data.connect(url)
        version = conn.server_version
        conn.close()
        print(f"external server {mask_password(url)}: reachable (server version {version})")
        return 0
    status = embedded_server(settings).status()
    if status.running:
        print(f"running: pid {status.pid}, localhost:{status.port}, data in {status.data_dir}")
        return 0
    state = "stopped" if status.initialised else "not created yet"
    print(f"{state}: data directory {status.data_dir} - `pglab db start` starts it")
    return 3  # like `pg_ctl status`: non-zero when not running


def cmd_db_url(args: argparse.Namespace) -> int:
    print(ensure_course_database().url)
    return 0


def cmd_db_reset(args: argparse.Namespace) -> int:
    settings = load_settings()
    course = ensure_course_database(settings)
    if course.loaded_now:
        print("course database created and loaded")
        return 0
    ended, loaded = course_data.reset_course_database(course.url, settings.data_dir)
    extra = f"; ended {ended} other session(s), which reconnect on their next query" if ended else ""
    print(f"course database rebuilt from {settings.data_dir}: {loaded} products{extra}")
    print("(notebooks and other files were not touched)")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from pglab.lab import run_lab

    return run_lab(no_browser=args.no_browser, port=args.port, extra=args.jupyter_args)


def cmd_hub(args: argparse.Namespace) -> int:
    from pglab.classroom.hub import run_hub

    return run_hub(port=args.port, extra=args.jupyterhub_args)


def _source_folder(args: argparse.Namespace) -> Path | None:
    """``--source`` of ``grade`` and ``extend``; ``--config`` belongs to it."""
    if args.config and not args.source:
        raise PglabError("--config is the nbgrader config of a --source course: give --source too")
    return Path(args.source) if args.source else None


def cmd_grade(args: argparse.Namespace) -> int:
    """A re-run with nothing new is answered from OUT's record before the grader is even imported."""
    import time

    from pglab.grading import unchanged_run

    source = _source_folder(args)
    started = time.monotonic()
    out = Path(args.out)
    extra = [source, source.parent / "nbgrader_config.py", source.parent / "gradebook.db"] if source else []
    inputs = unchanged_run.inputs_digest(Path(args.submitted), vars(args), load_settings(),
                                         extra + ([Path(args.config)] if args.config else []))
    before = None if args.regrade_all or args.student else unchanged_run.unchanged_summary(out, inputs)
    if before is not None:  # nothing changed since a run that graded everything: no grader needed
        print(f"graded 0 notebook(s) of {before.students} student(s) in {time.monotonic() - started:.1f} s "
              f"(nothing changed since the last run); {before.notebooks} kept from an earlier run; "
              f"{before.problems_line}")
        print(f"unchanged (nothing new to write): {before.files}")
        return 0
    unchanged_run.forget(out)
    return _grade(args, source, out, inputs)


def _grade(args: argparse.Namespace, source: Path | None, out: Path, inputs: str) -> int:
    # The kernel fork server boots on another core while the grader is imported (pglab.grading.head_start).
    from pglab.grading.head_start import head_start

    ahead = head_start(args.unsafe_no_sandbox)
    try:
        return _grade_with(args, source, out, inputs, ahead)
    finally:
        if ahead is not None:
            ahead.close()


def _grade_with(args: argparse.Namespace, source: Path | None, out: Path, inputs: str,
                ahead: HeadStart | None) -> int:
    from pglab.grading import unchanged_run
    from pglab.grading.batch import grade_folder
    from pglab.grading.late_policy import parse_late_policy
    from pglab.grading.timeouts import limits_for

    late_policy = parse_late_policy(args.late_policy)
    config = None
    if source is not None and source.is_dir():
        # only here: reading it imports nbgrader (0.6 s), which a run of the course's own challenges does without
        from pglab.grading.nbgrader_config_file import read_course_config

        config = read_course_config(source, Path(args.config) if args.config else None)
        for line in config.unhonoured_lines():
            print(f"pglab: {line}", file=sys.stderr)
    limits = limits_for(args.cell_timeout, args.notebook_timeout, config.cell_timeout_s if config else None)
    summary = grade_folder(Path(args.submitted), out, jobs=args.jobs, limits=limits,
                           progress=not args.quiet, students=tuple(args.student or ()),
                           regrade_all=args.regrade_all, db_wait_s=args.db_wait,
                           unsafe_no_sandbox=args.unsafe_no_sandbox, source=source, course_config=config,
                           similarity=not args.no_similarity, due=tuple(args.due or ()), late_policy=late_policy,
                           ahead=ahead)
    per = summary.seconds_each
    median = per[len(per) // 2] if per else 0.0
    students = len({o.student for o in summary.outcomes})
    print(f"graded {summary.graded_now} notebook(s) of {students} "
          f"student(s) in {summary.seconds:.1f} s (median {median:.2f} s per notebook); "
          f"{summary.kept} kept from an earlier run; {summary.problems_line()}"
          + (f"; {summary.retried} notebook(s) graded again after a grader fault" if summary.retried else "")
          + (f"; {len(summary.late)} notebook(s) handed in late ({sum(p.points for p in summary.late):g} "
             f"point(s) off, policy {late_policy}; see report.html)" if summary.late else ""))
    files = f"{args.out}/grades.csv, {args.out}/checks.csv and {args.out}/feedback/"
    print(f"wrote {files}" if summary.outputs_written else f"unchanged (nothing new to write): {files}")
    status = 0
    if summary.not_graded:
        print(f"pglab: {summary.fault_line()}", file=sys.stderr)
        status = 1
    elif not summary.stuck:
        with contextlib.suppress(GraderFault):  # no record only costs the next run its full path
            unchanged_run.remember(out, inputs, unchanged_run.Summary(students, len(summary.outcomes),
                                                                      summary.problems_line(), files))
    if summary.stuck:  # a worker thread never returned: do not wait for it at exit
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def cmd_release_feedback(args: argparse.Namespace) -> int:
    from pglab.grading.feedback_release import release_feedback

    ready, held = release_feedback(args.assignment, Path(args.grades), Path(args.submitted), Path(args.course_dir),
                                   tuple(args.student or ()))
    for item in held:
        print(f"pglab: {item.student}'s feedback was not released: {item.reason}", file=sys.stderr)
    pages = sum(len(item.pages) for item in ready)
    print(f"released {pages} feedback page(s) of {len(ready)} learner(s) on {args.assignment} to the exchange; "
          "each learner gets theirs with Fetch Feedback in the Assignments panel (`nbgrader fetch_feedback "
          f"{args.assignment}`)" + (f"; {len(held)} held back" if held else ""))
    return 1 if held and not ready else 0


def cmd_extend(args: argparse.Namespace) -> int:
    from pglab.grading.course_gradebook import grant_extension
    from pglab.grading.course_layout import SOURCE, assignments
    from pglab.grading.deadlines import parse_extension_hours
    from pglab.grading.nbgrader_config import DEFAULTS, course_gradebook_url
    from pglab.grading.nbgrader_config_file import read_course_config

    hours = parse_extension_hours(args.hours)
    source = _source_folder(args)
    if source is not None and not source.is_dir():
        raise PglabError(f"--source {source} is not a folder: give the course's nbgrader source folder")
    config = read_course_config(source, Path(args.config) if args.config else None) if source else DEFAULTS
    known = sorted(assignments(source.resolve() if source else SOURCE, config))
    if args.assignment not in known:
        raise PglabError(f"there is no assignment '{args.assignment}' in this course (known: {', '.join(known)})")
    if not args.student.strip():
        raise PglabError("STUDENT is empty: give the learner's id, as in their submitted/ folder")
    url = course_gradebook_url(source, config)
    register = (f"nbgrader generate_assignment {args.assignment} in the course root ({source.resolve().parent})"
                if source is not None else f"nbgrader generate_assignment {args.assignment} in grader/")
    grant_extension(url, args.student, args.assignment, hours, register)
    what = f"an extension of {hours:g} hour(s)" if hours else "no extension (taken back)"
    print(f"{args.student} has {what} on {args.assignment}, recorded in {url.removeprefix('sqlite:///')}; "
          "the next pglab grade applies it")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from pglab.bundle import make_bundle

    target = make_bundle(Path(args.out))
    print(f"learner bundle written to {target} (no solutions/, hidden checks or gradebook)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pglab", description="PostgreSQL with Python: the course's database, lab and grader."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the course database server")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    handlers: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
        "start": (cmd_db_start, "start the embedded server and load the course data if needed"),
        "stop": (cmd_db_stop, "stop the embedded server"),
        "status": (cmd_db_status, "say whether the server is running (exit 3 when it is not)"),
        "url": (cmd_db_url, "print the course database URL (starting the server if needed)"),
        "reset": (cmd_db_reset, "rebuild the course database from data/ (never touches notebooks)"),
    }
    for name, (handler, help_text) in handlers.items():
        sub = db_commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)

    lab = commands.add_parser("lab", help="start the database and open JupyterLab on notebooks/")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (headless)")
    lab.add_argument("--port", type=int, default=None, help="JupyterLab port (default 8888 or next free)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="passed on to `jupyter lab`")
    lab.set_defaults(handler=cmd_lab)

    hub = commands.add_parser("hub", help="run the course's JupyterHub on this machine (as root)")
    hub.add_argument("--port", type=int, default=8000, help="public port (default 8000)")
    hub.add_argument("jupyterhub_args", nargs=argparse.REMAINDER, help="passed on to `jupyterhub`")
    hub.set_defaults(handler=cmd_hub)

    grade = commands.add_parser("grade", help="grade a folder of submissions (nbgrader submitted/ layout)")
    grade.add_argument("submitted", help="folder laid out as <student_id>/<assignment>/<notebook>.ipynb")
    grade.add_argument("--out", required=True, help="where grades.csv, checks.csv and feedback/ go")
    grade.add_argument("--source", metavar="SOURCE",
                       help="an nbgrader source folder (<assignment>/<notebook>.ipynb and files beside them) "
                            "to grade against, graded by its own test cells (default: the course's solutions/)")
    grade.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: two per core)")
    grade.add_argument("--config", metavar="FILE",
                       help="the --source course's nbgrader config (default: the nbgrader_config.py in the folder "
                            "holding SOURCE); its timeout, delimiters, code stubs, ignore list and header are used")
    grade.add_argument("--cell-timeout", type=float, default=None,
                       help="seconds per cell and per check call (default 10; with --source, the course's "
                            "nbgrader timeout, nbgrader's 30 s if it sets none)")
    grade.add_argument("--notebook-timeout", type=float, default=None,
                       help="seconds per notebook in all (default 120, or a cell's limit if that is longer)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--student", action="append", metavar="NAME",
                       help="grade only this learner, again (repeatable); the outputs still cover the class")
    grade.add_argument("--regrade-all", action="store_true",
                       help="grade every notebook again, not only new, changed or ungraded ones")
    grade.add_argument("--db-wait", type=float, default=60.0, metavar="S",
                       help="how long to wait for a database server that stopped answering (default 60 s)")
    grade.add_argument("--no-similarity", action="store_true",
                       help="leave the \"Similar answers\" section (pairs of learners whose answers are most "
                            "alike) out of report.html; it never changes a grade either way")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="grade without the bubblewrap sandbox (trusted submissions only: a submission "
                            "can then reach your files, processes and network)")
    grade.add_argument("--due", action="append", metavar="ASSIGNMENT=WHEN",
                       help="the assignment's due date, e.g. core=2026-12-10T23:59:00+00:00 (repeatable); "
                            "overrides the one in the course's nbgrader gradebook")
    grade.add_argument("--late-policy", default="none", metavar="POLICY",
                       help="what a notebook handed in after its due date loses: none (default), zero, or "
                            "per-hour:P (P points per started hour late, never below 0)")
    grade.set_defaults(handler=cmd_grade)

    extend = commands.add_parser("extend", help="grant a learner an extension on an assignment (nbgrader's)")
    extend.add_argument("student", help="the learner's id, as in submitted/<student_id>/")
    extend.add_argument("assignment", help="the assignment, e.g. core")
    extend.add_argument("hours", help="hours added to the due date for this learner (0 takes it back)")
    extend.add_argument("--source", metavar="SOURCE", help="an nbgrader course's source folder (default: this course)")
    extend.add_argument("--config", metavar="FILE", help="the --source course's nbgrader config")
    extend.set_defaults(handler=cmd_extend)

    release = commands.add_parser(
        "release-feedback", help="release the feedback pages of `pglab grade` through nbgrader's exchange")
    release.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment graded, e.g. core")
    release.add_argument("--grades", default="grader/grades", metavar="OUT",
                         help="the --out of `pglab grade` (default grader/grades)")
    release.add_argument("--submitted", default="grader/submitted", metavar="DIR",
                         help="the submissions graded, as `nbgrader collect` put them (default grader/submitted)")
    release.add_argument("--course-dir", default="grader", metavar="DIR",
                         help="the folder you run nbgrader in: its nbgrader_config.py names the course and the "
                              "exchange (default grader)")
    release.add_argument("--student", action="append", metavar="NAME",
                         help="release only this learner's feedback (repeatable)")
    release.set_defaults(handler=cmd_release_feedback)

    bundle = commands.add_parser("bundle", help="write the learner-facing copy of the course")
    bundle.add_argument("out", help="target folder (must not exist or be empty)")
    bundle.set_defaults(handler=cmd_bundle)

    add_learners_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except PglabError as err:
        print(f"pglab: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``pglab`` command: :func:`main`; after ``pglab grade``, the process ends without tearing
    its modules down. A grading run has loaded some 1,700 modules and 200,000 objects (nbgrader,
    SQLAlchemy, matplotlib, copydetect): Python's finalization of them took 0.3 to 0.4 s of a
    one-learner re-run's 2.6 s, after every output was written and closed. No exit handler those
    libraries register has work left by then (kernels are stopped, the pool is shut down, temporary
    folders are removed by their ``with`` blocks); logging is flushed, as at a normal exit."""
    argv = sys.argv[1:]
    status = main(argv)
    if argv[:1] != ["grade"]:
        raise SystemExit(status)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    run()
