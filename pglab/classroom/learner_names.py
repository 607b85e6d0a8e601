"""From a hub user's name to the name of their PostgreSQL database and role.

Hubs name people as their login does: ``jane.doe``, ``J.Doe``, ``jane-doe@example.org`` (LTI 1.3's
default) or a 64-character opaque LTI ``sub``. PostgreSQL wants identifiers of at most 63 bytes
(NAMEDATALEN), and pglab wants them plain so that a learner can type them and ``pg_hba.conf``'s
``sameuser`` can match them. So:

- a hub name that already is a plain name (lower-case letters, digits, ``_`` or ``-``, starting with
  a letter, at most :data:`PLAIN_MAX` characters, not reserved) is the database and role name as it
  is; pglab has always named learners so, and their databases keep their names;
- any other name becomes its readable part (lower-cased, every other character replaced by ``_``)
  followed by ``_`` and the first 8 hex digits of the SHA-256 of the *whole original* name, capped
  at 63 bytes. The hash makes names that differ only in case or punctuation (``Jane.Doe``,
  ``jane.doe``, ``jane_doe``) distinct, and it is the same at every spawn and in ``pglab learners``.

The hub name stays what people see (reports, CSVs, ``pglab learners list``); the database name is
what PostgreSQL sees. Two hub names that would still share a database name (a plain name typed to
look like another's hashed one) are refused by :mod:`pglab.classroom.learners`, which records the
hub name beside each database.
"""

from __future__ import annotations

import hashlib
import re

from pglab.errors import LearnerError
from pglab.settings import COURSE_DATABASE, COURSE_ROLE

NAMEDATALEN = 63  # PostgreSQL's longest identifier, in bytes
PLAIN_MAX = 32  # longer names are hashed, so a plain name can never reach a hashed one's length cap
HASH_DIGITS = 8
PLAIN_NAME = re.compile(rf"[a-z][a-z0-9_-]{{0,{PLAIN_MAX - 1}}}")
RESERVED_NAMES = frozenset({
    "postgres", COURSE_ROLE, COURSE_DATABASE, "template0", "template1",
    # names PostgreSQL or pg_hba.conf give a meaning of their own
    "public", "none", "all", "sameuser", "samerole", "samegroup", "replication",
    "current_user", "current_role", "session_user", "system_user", "user",
})
RESERVED_PREFIXES = ("pg_", "pglab", "sub_")  # PostgreSQL's, ours, the grader's throw-away roles
NOT_READABLE = re.compile(r"[^a-z0-9]+")


def is_plain(name: str) -> bool:
    """True when ``name`` can be a database and role name as it is."""
    return bool(PLAIN_NAME.fullmatch(name)) and name not in RESERVED_NAMES and not name.startswith(RESERVED_PREFIXES)


def database_name(hub_name: str) -> str:
    """The database (and role) name of the hub user ``hub_name``: see the module's docstring."""
    if not hub_name or hub_name != hub_name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in hub_name):
        raise LearnerError(f"{hub_name!r} is not a hub user name: a name must be non-empty, without "
                           "leading or trailing spaces or control characters")
    if is_plain(hub_name):
        return hub_name
    digest = hashlib.sha256(hub_name.encode("utf-8")).hexdigest()[:HASH_DIGITS]
    readable = NOT_READABLE.sub("_", hub_name.lower()).strip("_")
    if not readable[:1].isalpha() or readable.startswith(RESERVED_PREFIXES) or readable in RESERVED_NAMES:
        readable = f"u_{readable}".rstrip("_")
    readable = readable[:NAMEDATALEN - HASH_DIGITS - 1].rstrip("_")
    return f"{readable}_{digest}"


def database_names(hub_names: list[str]) -> dict[str, str]:
    """Each hub name's database name (first-seen order), refusing two hub names that would share one."""
    found: dict[str, str] = {}
    owners: dict[str, str] = {}
    for hub_name in hub_names:
        name = database_name(hub_name)
        other = owners.setdefault(name, hub_name)
        if other != hub_name:
            raise LearnerError(f"hub users {other!r} and {hub_name!r} would share the database {name}: "
                               "rename one of them (JupyterHub's Authenticator.username_map can)")
        found[hub_name] = name
    return found
