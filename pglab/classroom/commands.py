"""``pglab learners``: the instructor's commands for a database and role per learner.

They act on the server at ``PGLAB_ADMIN_URL``, or on the embedded one when it is unset (see
:func:`pglab.db.provision.admin_url`); the work is done by :mod:`pglab.classroom.learners`.
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlsplit

from pglab.classroom import learners


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pglab.db.provision import admin_url

    names = list(args.names)
    if args.roster:
        names += learners.read_roster(Path(args.roster))
    url = admin_url()
    started = time.monotonic()
    added = learners.add_learners(url, names)
    seconds = time.monotonic() - started
    for learner in added:
        called = learner.hub_name
        if learner.name != learner.hub_name:
            called += f" (database {learner.name})"
        print(f"added {called}" if learner.added_now else f"kept {called} (already there; checked)")
    fresh = sum(1 for learner in added if learner.added_now)
    print(f"{len(added)} learner(s) on {_server(url)}: {fresh} added, {len(added) - fresh} already there "
          f"({seconds / len(added):.3f} s per learner); `pglab learners url NAME` prints one's DATABASE_URL")
    return 0


def cmd_url(args: argparse.Namespace) -> int:
    from pglab.db.provision import admin_url

    print(f"DATABASE_URL={learners.learner_url(admin_url(), args.name)}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from pglab.db.provision import admin_url

    learner = learners.reset_learner(admin_url(), args.name)
    print(f"{learner.hub_name}'s database was rebuilt from the course data (their sessions were ended; "
          "the password is unchanged)")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from pglab.db.provision import admin_url

    removed = learners.remove_learners(admin_url(), args.names)
    for name in dict.fromkeys(args.names):
        print(f"removed {name} (database and role)" if name in removed else f"{name} was not a learner: nothing to do")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from pglab.db.provision import admin_url

    url = admin_url()
    found = learners.list_learners(url)
    if not found:
        print(f"no learners on {_server(url)}: `pglab learners add NAME...` adds some")
        return 0
    width = max(len("learner"), *(len(s.hub_name) for s in found))
    print(f"{'learner':<{width}}  database  sessions  name on the server")
    for status in found:
        print(f"{status.hub_name:<{width}}  {'yes' if status.has_database else 'MISSING':<8}  {status.sessions:<8}  "
              f"{status.name}")
    missing = sum(1 for s in found if not s.has_database)
    note = f"; {missing} without a database (`pglab learners reset NAME` makes it)" if missing else ""
    print(f"{len(found)} learner(s) on {_server(url)}{note}")
    return 0


def _server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


def add_learners_parser(commands: argparse._SubParsersAction) -> None:
    """The ``learners`` command group, added to ``pglab``'s parser by :func:`pglab.cli.build_parser`."""
    group = commands.add_parser(
        "learners", help="a database and role per learner (on PGLAB_ADMIN_URL's server, or the embedded one)")
    sub = group.add_subparsers(dest="learners_command", required=True)
    add = sub.add_parser("add", help="create learners' roles and databases (adding twice is fine)")
    add.add_argument("names", nargs="*", metavar="NAME", help="learners' hub user names (any login name)")
    add.add_argument("--roster", metavar="FILE.csv", help="a CSV with a username/login_id/student_id/id column")
    add.set_defaults(handler=cmd_add)
    url = sub.add_parser("url", help="print DATABASE_URL=... for a learner (like `pglab db url`)")
    url.add_argument("name", metavar="NAME")
    url.set_defaults(handler=cmd_url)
    reset = sub.add_parser("reset", help="give a learner a fresh copy of the course database")
    reset.add_argument("name", metavar="NAME")
    reset.set_defaults(handler=cmd_reset)
    remove = sub.add_parser("remove", help="drop learners' databases and roles")
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(handler=cmd_remove)
    listing = sub.add_parser("list", help="the learners on the server, their database and open sessions")
    listing.set_defaults(handler=cmd_list)
