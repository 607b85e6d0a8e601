"""Hostile and broken submissions (issue: harden the grader). Each gets what it honestly earns.

They are graded in the same batch as the correct ones in ``cases_core``: a submission that drops
tables, holds locks, forks, or kills its kernel must not change anyone else's grade.
"""

from __future__ import annotations

import json

from pglab.grading.course_layout import RELEASE
from tests.corpus.case import Case
from tests.corpus.cases_core import SEED_BEGINNER as GOOD

STUB = '''def get_products_in_price_range(min_price: float, max_price: float) -> list[Product]:
    raise NotImplementedError()
'''


def _release(notebook: str = "beginner") -> dict:
    return json.loads((RELEASE / "core" / f"{notebook}.ipynb").read_text())


def _grade_id(cell: dict) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def _delete_setup_and_fake_checks(nb: dict) -> dict:
    nb["cells"] = [c for c in nb["cells"] if _grade_id(c) != "setup"]
    for cell in nb["cells"]:
        if _grade_id(cell) == "checks":
            cell["source"] = "score = 10\nprint('Score: 10 / 10')\n10"
    return nb


def _duplicate_answer_id(nb: dict) -> dict:
    index = next(i for i, c in enumerate(nb["cells"]) if _grade_id(c) == "answer")
    impostor = json.loads(json.dumps(nb["cells"][index]))
    impostor["source"] = STUB  # a later cell claiming the answer's id, overriding the function
    nb["cells"].insert(index + 1, impostor)
    return nb


def _latin1(nb: dict) -> bytes:
    nb["cells"][0]["source"] = "Réponse: café"
    return json.dumps(nb, ensure_ascii=False).encode("latin-1")


READ_SOLUTIONS = '''import json, pathlib
import pglab
root = pathlib.Path(pglab.__file__).resolve().parent.parent
notebook = json.loads((root / "solutions" / "core" / "beginner.ipynb").read_text())
exec(next("".join(c["source"]) for c in notebook["cells"]
          if c["metadata"].get("nbgrader", {}).get("grade_id") == "answer"))
'''

IMPORT_CHECKS = '''import pathlib, sys
import pglab
root = pathlib.Path(pglab.__file__).resolve().parent.parent
sys.path.insert(0, str(root / "grader" / "checks" / "core"))
import test_beginner
'''

MONKEYPATCH = STUB + '''
import builtins
import pytest
import pglab.checks.plugin as plugin
import pglab.learner.nbgrader_score as nbgrader_score
import pglab.checks.wire as wire
pytest.main = lambda *args, **kwargs: 0
plugin.run_here = lambda *args, **kwargs: []
plugin.assertion_message = lambda text: "passed"
nbgrader_score.score = lambda *args, **kwargs: 10
builtins.isinstance = lambda *args: True
wire.dumps = lambda value: '{"ok": true}'
'''

STDERR_NOISE = GOOD.replace('''    with get_db() as conn:''', '''    import logging, sys, warnings
    warnings.warn("this query could use an index", stacklevel=1)
    print("debug: querying prices", file=sys.stderr)
    logging.getLogger("catalogue").error("not really an error")
    with get_db() as conn:''')

CASES = [
    Case("hostile-loop-after-def", "core", "beginner", 10, answer=GOOD + "\nwhile True:\n    pass\n",
         reasons=("interrupted",)),
    Case("hostile-loop-in-function", "core", "beginner", 0,
         answer="def get_products_in_price_range(min_price, max_price):\n    while True:\n        pass\n",
         reasons=("no answer within",)),
    Case("hostile-os-exit", "core", "beginner", 0, answer=GOOD + "\nimport os\nos._exit(0)\n",
         reasons=("kernel exited",)),
    Case("hostile-sys-exit", "core", "beginner", 10, answer=GOOD + "\nimport sys\nsys.exit()\n",
         reasons=("SystemExit",)),
    Case("hostile-kill-kernel", "core", "beginner", 0,
         answer=GOOD + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", reasons=("kernel exited",)),
    Case("hostile-fork-bomb", "core", "beginner", 0,
         # Either the parent hits the process limit (BlockingIOError) or the spinning children starve
         # it until the grader gives up on the kernel: both end in 0 points with a reason.
         answer="import os\nwhile True:\n    if os.fork() == 0:\n        while True:\n            pass\n"),
    Case("hostile-thread-bomb", "core", "beginner", 0,
         answer="import threading, time\nwhile True:\n"
                "    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n",
         reasons=("can't start new thread",)),
    Case("hostile-memory-hog", "core", "beginner", 10, answer=GOOD + "\nhog = bytearray(64 * 1024**3)\n",
         reasons=("MemoryError",)),
    Case("hostile-drop-table", "core", "beginner", 0,
         answer=GOOD + "\nwith get_db() as conn, conn.cursor() as cur:\n    cur.execute('DROP TABLE products')\n",
         reasons=("does not exist",)),
    Case("hostile-drop-databases", "core", "beginner", 10, answer=GOOD + '''
for target in ("catalogue", "postgres", "pglab_grading_template"):
    try:
        with get_db() as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE {target}")
    except psycopg2.Error as err:
        print(target, type(err).__name__)
for target in ("catalogue", "postgres"):
    try:
        psycopg2.connect(DATABASE_URL.rsplit("/", 1)[0] + "/" + target, connect_timeout=3)
    except psycopg2.Error as err:
        print("connect", target, type(err).__name__)
'''),
    Case("hostile-pg-sleep", "core", "beginner", 10,
         answer=GOOD + "\nwith get_db() as conn, conn.cursor() as cur:\n    cur.execute('SELECT pg_sleep(3600)')\n",
         reasons=("interrupted",)),
    Case("hostile-lock-forever", "core", "beginner", 0, answer=GOOD + '''
locker = psycopg2.connect(DATABASE_URL)
locker.cursor().execute("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; "
                        "LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
''', reasons=("lock",)),
    # In the sandbox, the course folder holds nothing but the pglab package (and the virtualenv).
    Case("hostile-read-solutions", "core", "beginner", 0, answer=READ_SOLUTIONS,
         reasons=("FileNotFoundError",)),
    Case("hostile-import-checks", "core", "beginner", 0, answer=IMPORT_CHECKS,
         reasons=("ModuleNotFoundError",)),
    Case("hostile-read-env", "core", "beginner", 0, answer='''import os
ADMIN = os.environ["PGLAB_ADMIN_URL"]
''', reasons=("KeyError",)),
    Case("hostile-edit-locked", "core", "beginner", 10, answer=GOOD, edit=_delete_setup_and_fake_checks),
    Case("hostile-fake-score-stub", "core", "beginner", 0, answer=STUB, edit=_delete_setup_and_fake_checks),
    Case("hostile-duplicate-id", "core", "beginner", 10, answer=GOOD, edit=_duplicate_answer_id,
         reasons=("repeats the id",)),
    Case("hostile-monkeypatch", "core", "beginner", 0, answer=MONKEYPATCH),
    Case("hostile-fake-print", "core", "beginner", 0,
         answer=STUB + "\nprint('Score: 10 / 10')\nprint('{\"points\": 10}')\n"),
    Case("hostile-huge-output", "core", "beginner", 10, answer=GOOD + "\nprint('x' * 5_000_000)\n",
         reasons=("cut",)),
    Case("hostile-stderr-noise", "core", "beginner", 10, answer=STDERR_NOISE),
    Case("broken-json", "core", "beginner", 0, raw=b'{"cells": [{"cell_type": "code", "sou',
         reasons=("not valid notebook JSON",)),
    Case("broken-no-cells", "core", "beginner", 0,
         raw=json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
         reasons=("no cells",)),
    Case("broken-latin1", "core", "beginner", 0, raw=_latin1(_release()), reasons=("not UTF-8",)),
    Case("broken-wrong-notebook", "core", "upsert_returning", 0, answer=None, raw=json.dumps(_release()).encode(),
         problem=True, reasons=("not a notebook of assignment 'core'",)),
    Case("broken-unknown-assignment", "lesson99", "beginner", 0, raw=json.dumps(_release()).encode(),
         problem=True, reasons=("there is no assignment 'lesson99'",)),
]
