"""Where the course database is, decided once from the environment.

``DATABASE_URL`` wins; otherwise any of the standard libpq ``PG*`` variables that name a server
(``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``, ``PGSERVICE``) means "use that server"; only when
none is set does pglab run its own embedded server under ``PGLAB_HOME`` (default ``.pglab/`` in the
project). ``PGLAB_ADMIN_URL`` names a role that may create databases and roles on an external server
(grading, ``pglab learners``, the hub). Nothing here holds a credential of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pglab.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LIBPQ_SERVER_VARIABLES = ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
COURSE_DATABASE = "catalogue"
COURSE_ROLE = "learner"


@dataclass(frozen=True)
class Settings:
    home: Path
    data_dir: Path
    database_url: str | None
    libpq_variables: tuple[str, ...]
    preferred_port: int
    admin_url: str | None = None  # PGLAB_ADMIN_URL: may create databases and roles (grading, learners, the hub)

    @property
    def external(self) -> bool:
        """True when the learner brought their own server and pglab must not manage one."""
        return self.database_url is not None or bool(self.libpq_variables)

    def describe_external(self) -> str:
        if self.database_url is not None:
            return f"DATABASE_URL={mask_password(self.database_url)}"
        return "the libpq variables " + ", ".join(self.libpq_variables)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None:
        check_database_url(database_url)
    port_text = env.get("PGLAB_PORT", "5432")
    try:
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise SettingsError(
            f"PGLAB_PORT={port_text!r} is not a TCP port: "
            "set a number from 1 to 65535 (0: any free port) or unset it"
        ) from None
    home = Path(env.get("PGLAB_HOME") or PROJECT_ROOT / ".pglab").expanduser().resolve()
    data_dir = Path(env.get("PGLAB_DATA") or PROJECT_ROOT / "data").expanduser().resolve()
    return Settings(
        home=home,
        data_dir=data_dir,
        database_url=database_url,
        libpq_variables=tuple(name for name in LIBPQ_SERVER_VARIABLES if env.get(name)),
        preferred_port=port,
        admin_url=env.get("PGLAB_ADMIN_URL") or None,
    )


def check_database_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in ("postgresql", "postgres") and "=" not in url:
        raise SettingsError(
            f"DATABASE_URL={mask_password(url)} is not a PostgreSQL URL: it should look like "
            "postgresql://user:password@host:5432/catalogue (or unset it to use the embedded server)"
        )


def mask_password(url: str) -> str:
    """The URL as it may be printed: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
