"""The package's layout: old module names still import, and nothing a learner's kernel runs pulls in
the grader's kernel machinery (zmq, jupyter_client)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pglab.checks
import pglab.learner
from pglab.moved_modules import MOVED, former_names


def test_old_names_are_the_very_same_modules() -> None:
    assert MOVED, "no aliases: every notebook's imports were rewritten and none were ever released?"
    for old, new in MOVED.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
        assert sys.modules[old] is sys.modules[new]
        assert sys.modules[new].__spec__.name == new, "the alias must not take over the module's spec"
        assert former_names(new) and old in former_names(new)


def test_old_from_imports_give_the_same_objects() -> None:
    for old, new in MOVED.items():
        package, name = old.rsplit(".", 1)
        code = f"from {package} import {name} as via_old\nimport {new} as via_new\n"
        scope: dict = {}
        exec(code, scope)  # the form a learner's old cell uses
        assert scope["via_old"] is scope["via_new"], old


def test_the_grader_knows_the_checks_cell_by_its_old_import_too() -> None:
    """Source notebooks made before the move call the course's checks as pglab.grading.in_kernel."""
    from pglab.grading.nbgrader_cells import COURSE_CHECKS_MARKERS

    for name in ("pglab.learner.nbgrader_score", *former_names("pglab.learner.nbgrader_score")):
        assert any(marker in f"from {name} import score" for marker in COURSE_CHECKS_MARKERS), name
    assert len(COURSE_CHECKS_MARKERS) > 1


def test_a_learners_kernel_modules_do_not_import_zmq_or_jupyter_client() -> None:
    """What a learner's kernel imports (their modules, and the checks' contract their *Check your work*
    cell runs) stays light: none of the grader's kernel machinery, none of the grader."""
    names = sorted([*(f"pglab.learner.{m.name}" for m in pkgutil.iter_modules(pglab.learner.__path__)),
                    *(f"pglab.checks.{m.name}" for m in pkgutil.iter_modules(pglab.checks.__path__))])
    assert any(n.startswith("pglab.learner.") for n in names) and "pglab.checks.plugin" in names
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('zmq', 'jupyter_client')\n"
            "                        or m.startswith('pglab.grading'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], f"a module in pglab/learner pulls in: {done.stdout}"
