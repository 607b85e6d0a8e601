"""The one setup cell every lesson notebook starts with.

``course = setup()`` finds (or starts) the course database, exports ``DATABASE_URL`` for the code
that follows, wires up ``%sql`` (ipython-sql) against the same database, and prints one line saying
where the learner is connected. Lessons that change the catalogue call ``course.reset()`` to start
from the known data; nothing else is ever reset, and no file is touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

from pglab.db import course_data
from pglab.db.provision import ensure_course_database
from pglab.settings import load_settings, mask_password


@dataclass
class Course:
    url: str

    def connect(self, **kwargs: object) -> psycopg2.extensions.connection:
        """A new psycopg2 connection to the course database (the caller closes it)."""
        return course_data.connect(self.url, **kwargs)

    def reset(self) -> None:
        """Put the course database back to ``data/``: ends other sessions on it, keeps files."""
        ended, loaded = course_data.reset_course_database(self.url, load_settings().data_dir)
        extra = f", {ended} other session(s) ended" if ended else ""
        print(f"course database reset: {loaded} products{extra}")

    def product_count(self) -> int:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM products")
                row = cur.fetchone()
                return int(row[0]) if row else 0
        finally:
            conn.close()


def setup(reset: bool = False, sql_magic: bool = True) -> Course:
    """Connect the notebook to the course database; ``reset=True`` reloads the catalogue first."""
    url = ensure_course_database().url
    os.environ["DATABASE_URL"] = url
    course = Course(url=url)
    if reset:
        course.reset()
    if sql_magic:
        _enable_sql_magic(url)
    _plot_defaults()
    conn = course.connect()
    try:
        version = conn.server_version
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            row = cur.fetchone()
    finally:
        conn.close()
    major, minor = divmod(version, 10000)
    print(f"connected to {mask_password(url)} (PostgreSQL {major}.{minor}): "
          f"{row[0] if row else 0} products")
    if major < REQUIRED_MAJOR:
        print(older_server_note(major))
    return course


# The course is written for PostgreSQL 18; these are the places that need it (or a recent release).
REQUIRED_MAJOR = 18
NEEDS_NEWER = {
    18: "Part 7's RETURNING old/new cells, Part 3's and Part 5's notes on 18's messages and plans",
    17: "Part 8's transaction_timeout cell",
}


def older_server_note(major: int) -> str:
    """One line for a learner on their own older server: which cells will not work as written."""
    missing = "; ".join(cells for needs, cells in NEEDS_NEWER.items() if major < needs)
    return (f"note: this server is PostgreSQL {major}, the course is written for {REQUIRED_MAJOR}: "
            f"{missing} fail or differ here (use the course's own database, or `docker compose up`).")


def _enable_sql_magic(url: str) -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    if "sql" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "sql")
    shell.run_line_magic("config", "SqlMagic.displaycon = False")
    shell.run_line_magic("config", "SqlMagic.feedback = False")
    shell.run_line_magic("config", "SqlMagic.displaylimit = 20")
    shell.run_line_magic("sql", url)


def _plot_defaults() -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        return
    mpl.rcParams.update({"figure.figsize": (7, 3.6), "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False})
