"""Small nbgrader courses made in code: cells as nbgrader's *Create Assignment* toolbar writes them,
the ``shop`` assignment (a query answer whose test reads the database), handing a learner's
edits of a released notebook in, as nbgrader's exchange lays it out, and running real nbgrader
commands in a course root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

NBGRADER_TIMESTAMP = "2026-11-20 10:00:00.000000 UTC"  # as nbgrader's exchange writes timestamp.txt


def nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """Run ``nbgrader ARGS`` in the course root ``course`` and wait for it to succeed."""
    finish_nbgrader(start_nbgrader(course, *args, env=env), *args)


def start_nbgrader(course: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``nbgrader ARGS`` started in ``course`` (with this interpreter's nbgrader and alembic), not waited for."""
    env = dict(env or os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # its alembic
    return subprocess.Popen([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_nbgrader(running: subprocess.Popen[str], *args: str) -> None:
    """Wait (a bounded time) for a started nbgrader command, which must succeed."""
    try:
        stdout, stderr = running.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        running.kill()
        running.communicate()
        raise
    assert running.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}"


def cell(kind: str, source: str, grade_id: str | None = None, *, solution: bool = False, grade: bool = False,
         locked: bool = False, points: float = 0, task: bool = False) -> nbformat.NotebookNode:
    """A cell as nbgrader's Create Assignment toolbar writes it (``task``: a *Manually graded task*)."""
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    made = make(source)
    if grade_id:
        meta = {"grade_id": grade_id, "solution": solution, "grade": grade,
                "locked": locked or task or (grade and not solution), "schema_version": 3, "task": task}
        if grade or task:
            meta["points"] = points
        made.metadata["nbgrader"] = meta
    return made


def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


CHEAPEST = notebook(
    cell("code", "import os\nimport psycopg2\nconn = psycopg2.connect(os.environ['DATABASE_URL'])\n"
                 "conn.autocommit = True", "setup", locked=True),
    cell("code", "def cheapest_product():\n    ### BEGIN SOLUTION\n    with conn.cursor() as cur:\n"
                 "        cur.execute('SELECT name FROM products ORDER BY price, name LIMIT 1')\n"
                 "        return cur.fetchone()[0]\n    ### END SOLUTION", "answer", solution=True),
    cell("code", "with conn.cursor() as cur:\n"
                 "    cur.execute('SELECT name FROM products ORDER BY price, name LIMIT 1')\n"
                 "    expected = cur.fetchone()[0]\nassert cheapest_product() == expected",
         "test_cheapest", grade=True, points=2),
)
CHEAPEST_ANSWER = ("def cheapest_product():\n    with conn.cursor() as cur:\n"
                   "        cur.execute('SELECT name FROM products ORDER BY price, name LIMIT 1')\n"
                   "        return cur.fetchone()[0]")
# adam's answer drops the table before bea and carl are graded (nbgrader goes alphabetically)
SHOP_LEARNERS: dict[str, dict[str, str | None]] = {
    "adam": {"answer": "with conn.cursor() as cur:\n    cur.execute('DROP TABLE products CASCADE')\n"
                       + CHEAPEST_ANSWER},
    "bea": {"answer": CHEAPEST_ANSWER},
    "carl": {"answer": CHEAPEST_ANSWER},
}


def submit(release: Path, submitted: Path, student: str, assignment: str, edits: dict[str, str | None],
           timestamp: str | None = NBGRADER_TIMESTAMP) -> None:
    """``student``'s edits of the released notebook, handed in at ``timestamp`` (None: no timestamp.txt)."""
    nb = nbformat.read(release, as_version=4)
    kept = []
    for item in nb.cells:
        grade_id = item.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in edits and edits[grade_id] is None:
            continue
        if grade_id in edits:
            item.source = edits[grade_id]
        kept.append(item)
    nb.cells = kept
    folder = submitted / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / release.name)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
