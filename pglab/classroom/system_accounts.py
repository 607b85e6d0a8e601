"""Which hub names can be system accounts, for a hub whose learners are system users (one machine).

LocalProcessSpawner runs each learner's JupyterLab as the system user of the same name, so that name
must be one ``useradd`` accepts. Debian's (shadow 4.13) takes e-mail-style names such as
``jane.doe@example.org`` but nothing over 32 characters (utmp's limit): an opaque LTI ``sub`` id of 64
characters can have a database (see :mod:`pglab.classroom.learner_names`) but no account. The spawn hook
says so in one line instead of letting the spawn fail on a missing user.
"""

from __future__ import annotations

import pwd
from pathlib import Path

from pglab.errors import HubError

SYSTEM_NAME_MAX = 32  # bytes; useradd refuses longer names ("invalid user name")


def check_system_account_name(hub_name: str) -> None:
    """Refuse, in one line, a hub name that cannot be a system account on this machine."""
    if len(hub_name.encode("utf-8")) > SYSTEM_NAME_MAX:
        raise HubError(
            f"the hub user {hub_name!r} is longer than the {SYSTEM_NAME_MAX} characters a system account may have, "
            "so their server cannot run as their own user on this machine: map such names to short logins with "
            "JupyterHub's Authenticator.username_map, or run the class on Kubernetes (docs/classroom.md), where "
            "learners need no system account")


def system_account(username: str) -> pwd.struct_passwd:
    """The system account a hub user's server runs as; HubError saying how to create it when there is none."""
    try:
        return pwd.getpwnam(username)
    except KeyError:
        raise HubError(f"{username!r} has no system account: LocalProcessSpawner runs each learner's JupyterLab "
                       "as their own user (create it with `useradd --create-home -K HOME_MODE=0700`)") from None


def missing_home(home: Path, username: str) -> HubError:
    """What to do about an account whose home folder is not there."""
    return HubError(f"the home folder {home} of {username!r} does not exist: create it (`mkhomedir_helper "
                    f"{username}`) or recreate the user with `useradd --create-home`")
