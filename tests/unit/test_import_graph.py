"""The package's imports point one way: no cycle anywhere, and the checks' contract and the learner's
modules import nothing of the grader.

Read from the source (every ``import`` statement, at module level or inside a function or an
``if TYPE_CHECKING`` block), so a cycle hidden by an import inside a function is found too.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pglab
from pglab.grading.reports.gradebook_writer import GRADEBOOK

PACKAGE = Path(pglab.__file__).resolve().parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names[name] = path
    return names


MODULES = module_names()


def imported(path: Path) -> Iterator[str]:
    """The pglab modules ``path`` imports (``from pglab.a import b`` is ``pglab.a.b`` when that is a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                     for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("pglab"):
                yield name


def graph() -> dict[str, set[str]]:
    edges = {name: set(imported(path)) for name, path in MODULES.items()}
    for name in edges:  # importing pglab.a.b runs pglab/a/__init__.py first: not an edge a cycle needs
        edges[name].discard(name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_graph_is_read_from_every_module() -> None:
    edges = graph()
    assert "pglab.grading.batch" in edges and "pglab.checks.plugin" in edges["pglab.grading.check_runner"]
    assert "pglab.grading.check_catalogue" in edges["pglab.grading.course_layout"]


def test_a_cycle_would_be_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(graph()) == []


def test_the_checks_contract_and_the_learners_modules_import_nothing_of_the_grader() -> None:
    edges = graph()
    for name in MODULES:
        if name.startswith(("pglab.checks", "pglab.learner", "pglab.challenge_checks")):
            grader = sorted(m for m in reachable(edges, name) if m.startswith(("pglab.grading", "pglab.classroom")))
            assert grader == [], f"{name} reaches {grader}"
    contract = {m for name in MODULES if name.startswith("pglab.checks") for m in reachable(edges, name)}
    allowed = {"pglab", "pglab.errors", "pglab.messages", "pglab.settings", "pglab.moved_modules"}
    assert contract <= {m for m in MODULES if m.startswith("pglab.checks")} | allowed


def test_no_test_module_imports_another() -> None:
    """What test modules share lives in ``tests/support/`` (and the corpora), never in a test module
    or ``conftest.py``: importing one runs its fixtures' module again under another name."""
    tests = Path(__file__).resolve().parents[1]
    offenders = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(tests)} imports {name}" for name in names
                          if name.startswith("tests.") and name.split(".")[1].startswith(("test_", "conftest"))]
    assert offenders == []


def test_the_grader_imports_no_nbgrader_until_a_run_needs_it() -> None:
    """Importing nbgrader costs a run 0.7 s, copydetect's pyplot 0.3 s: the grader and the command
    line import none of it, nor does writing the outputs (the gradebook writer's process imports
    nbgrader's gradebook, by a name that must stay the module's)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pglab.cli, pglab.grading.batch, pglab.grading.grade_notebook\n"
                               "heavy = ('nbgrader', 'copydetect', 'matplotlib')\n"
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
    assert GRADEBOOK in MODULES and importlib.util.find_spec(GRADEBOOK) is not None
    assert "nbgrader.api" in ast.unparse(ast.parse(MODULES[GRADEBOOK].read_text(encoding="utf-8")))


def test_the_gradebook_writer_imports_nbgrader_without_its_server_extensions() -> None:
    """The writer's process: nbgrader's gradebook, not its package's Jupyter server extensions."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys\n"
                               "from pglab.grading.reports.gradebook_writer import import_nbgrader_gradebook\n"
                               "module = import_nbgrader_gradebook()\n"
                               "assert callable(module.write_gradebook)\n"
                               "wanted = ('nbgrader.', 'jupyter_server')\n"
                               "print(sorted(m for m in sys.modules if m.startswith(wanted)))"],
        capture_output=True, text=True, check=True)
    modules = set(ast.literal_eval(loaded.stdout.strip()))
    assert "nbgrader.api" in modules and "nbgrader.plugins.export" in modules
    assert not any(m.startswith(("nbgrader.server_extensions", "jupyter_server")) for m in modules), modules
