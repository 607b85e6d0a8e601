"""Every hub user's home is theirs alone (mode 0700) before their server starts.

``useradd --create-home`` on Debian makes homes 0755: on a shared machine one learner could then
list and read another's lessons and fetched challenges (answers included), and every learner could
read the course clone an instructor keeps in ``~/pglab`` (solutions, hidden checks). The spawn hook
(:mod:`pglab.classroom.hub_hooks`) closes the home at every start, for learners and instructors
alike, or refuses to start the server with one line saying why. ``pglab hub`` also warns at start
about an instructor whose course clone others can still read (:func:`readable_instructor_clones`).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from pglab.classroom.system_accounts import missing_home, system_account
from pglab.errors import HubError

COURSE_CLONE = "pglab"  # where docs/classroom.md has instructors clone the course


def make_home_private(username: str) -> Path:
    """Take group and others' access off ``username``'s home; returns the home. HubError if it cannot."""
    entry = system_account(username)
    home = Path(entry.pw_dir)
    try:
        info = home.lstat()
    except FileNotFoundError:
        raise missing_home(home, username) from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != entry.pw_uid:
        raise HubError(f"the home folder {home} of {username!r} is not a folder of their own (it must be a "
                       f"directory owned by them): give them one (`usermod --home /home/{username} --move-home "
                       f"{username}`) so that their files are private")
    if stat.S_IMODE(info.st_mode) & 0o077:
        try:
            os.chmod(home, stat.S_IMODE(info.st_mode) & ~0o077)
        except OSError as err:
            raise HubError(f"cannot make the home folder {home} of {username!r} private ({err.strerror}): "
                           f"run `chmod 700 {home}`; the hub must run as root") from None
    return home


def readable_instructor_clones(group: str, clone: str = COURSE_CLONE) -> list[tuple[str, Path]]:
    """Instructors (members of ``group``) whose course clone (``~/pglab``) other users can read."""
    try:
        members = grp.getgrnam(group)
    except KeyError:
        return []
    names = set(members.gr_mem) | {e.pw_name for e in pwd.getpwall() if e.pw_gid == members.gr_gid}
    found: list[tuple[str, Path]] = []
    for name in sorted(names):
        home = Path(pwd.getpwnam(name).pw_dir)
        try:
            home_mode, clone_mode = home.stat().st_mode, (home / clone).stat().st_mode
        except OSError:
            continue
        if home_mode & 0o001 and clone_mode & 0o005:
            found.append((name, home / clone))
    return found
