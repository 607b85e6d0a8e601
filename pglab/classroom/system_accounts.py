"""Which hub names can be system accounts, for a hub whose learners are system users (one machine).

LocalProcessSpawner runs each learner's JupyterLab as the system user of the same name, so that name
must be one ``useradd`` accepts. Debian's (shadow 4.13) takes e-mail-style names such as
``jane.doe@example.org`` but nothing over 32 characters (utmp's limit): an opaque LTI ``sub`` id of 64
characters can have a database (see :mod:`pglab.classroom.learner_names`) but no account. The spawn hook
says so in one line instead of letting the spawn fail on a missing user.
"""

from __future__ import annotations

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
