"""One answer to "where is the course database?", making it exist when pglab owns the server.

With ``DATABASE_URL`` (or ``PG*``) set, that server is used as it is: pglab only checks it answers
and loads the catalogue into it if the ``products`` table is missing. Otherwise the embedded server
is started, the learner role and ``catalogue`` database created, and the data loaded, once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from pglab.db import course_data
from pglab.db.server import EmbeddedServer, ServerInfo
from pglab.errors import SettingsError
from pglab.settings import Settings, load_settings


@dataclass(frozen=True)
class CourseDatabase:
    url: str
    embedded: ServerInfo | None
    loaded_now: bool


def embedded_server(settings: Settings) -> EmbeddedServer:
    return EmbeddedServer(settings.home, preferred_port=settings.preferred_port)


def ensure_course_database(settings: Settings | None = None) -> CourseDatabase:
    settings = settings or load_settings()
    course_data.check_data_files(settings.data_dir)
    if settings.external:
        url = settings.database_url or course_data.url_from_libpq_variables(settings.libpq_variables)
        info = None
    else:
        info = embedded_server(settings).start()
        if info.note:
            print(f"pglab: {info.note}", file=sys.stderr)
        course_data.ensure_course_role_and_database(info.admin_url(), info.course_password)
        url = info.url()
    loaded_now = False
    if not course_data.products_loaded(url):
        course_data.reset_course_database(url, settings.data_dir)
        loaded_now = True
    return CourseDatabase(url=url, embedded=info, loaded_now=loaded_now)


def database_url() -> str:
    """The URL notebooks and scripts connect with (starting the embedded server if needed)."""
    return ensure_course_database().url


def admin_url() -> str:
    """A URL allowed to create databases and roles: ``PGLAB_ADMIN_URL``, or the embedded server's.

    Grading (a database per submission) and ``pglab learners`` (a database and role per learner)
    both need one; the embedded server's admin password is in ``PGLAB_HOME/server.json`` (mode 600).
    """
    settings = load_settings()
    if settings.admin_url:
        return settings.admin_url
    if settings.external:
        raise SettingsError(
            f"{settings.describe_external()} is set, but pglab needs to create databases and roles there: "
            "set PGLAB_ADMIN_URL to a superuser URL on that server, or unset it to use the embedded server")
    return embedded_server(settings).start().admin_url()
