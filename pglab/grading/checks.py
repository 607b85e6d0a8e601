"""Checks are plain functions with points, like otter-grader's ``@test_case(points=2, hidden=True)``.

A check module is an ordinary pytest module: every ``test_*`` function decorated with :func:`check`
takes a ``sub`` argument (the learner's work, see :mod:`pglab.grading.learner`) and fails by raising
:class:`CheckFailed` (via :func:`expect`) with a message the learner can act on. Anything else a check
raises is reported as a grader fault, never blamed on the learner silently.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import psycopg2

from pglab.errors import one_line

F = TypeVar("F", bound=Callable[..., Any])


class CheckFailed(AssertionError):
    """The learner's code did not do what the check expects; ``str()`` says what to fix."""


class LearnerError(Exception):
    """The learner's code raised while a check called it."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


class SandboxError(Exception):
    """The learner's kernel could not answer: their code timed out, killed it, or it would not start."""


@dataclass(frozen=True)
class Check:
    name: str
    points: float
    hidden: bool
    description: str
    function: Callable[..., None]


def check(points: float, hidden: bool = True) -> Callable[[F], F]:
    """Mark a ``test_*`` function as a graded check worth ``points``."""

    def mark(function: F) -> F:
        function.__pglab_check__ = (points, hidden)  # type: ignore[attr-defined]
        return function

    return mark


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def collect(module: ModuleType) -> list[Check]:
    """The module's checks in the order they are written."""
    found = []
    for name, function in vars(module).items():
        marker = getattr(function, "__pglab_check__", None)
        if name.startswith("test_") and marker is not None:
            points, hidden = marker
            doc = inspect.getdoc(function) or name.removeprefix("test_").replace("_", " ")
            found.append(Check(name=name, points=float(points), hidden=bool(hidden),
                               description=doc.splitlines()[0], function=function))
    found.sort(key=lambda c: c.function.__code__.co_firstlineno)
    return found


def load_module(path: Path) -> ModuleType:
    """Import a check module from a file path (the hidden checks are not a package on sys.path)."""
    name = "pglab_checks_" + "_".join(path.with_suffix("").parts[-3:]).replace("-", "_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import checks from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    points: float
    max_points: float
    hidden: bool
    message: str

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


def run_check(item: Check, sub: Any) -> CheckResult:
    """Run one check; the result always carries a message a learner can read."""
    try:
        item.function(sub)
    except CheckFailed as failed:
        return _result(item, 0.0, str(failed))
    except LearnerError as err:
        detail = one_line(err.message)
        return _result(item, 0.0, f"your code raised {err.type_name}" + (f": {detail}" if detail else ""))
    except SandboxError as err:
        return _result(item, 0.0, str(err))
    except psycopg2.Error as err:  # the check's own query, on the submission's database
        reason = one_line(err) or type(err).__name__
        return _result(item, 0.0, f"the check's own query failed on your database ({type(err).__name__}: "
                                  f"{reason}): did your code drop, change or lock a table?")
    except Exception as err:  # a fault in the check or the sandbox, reported as such
        return _result(item, 0.0, f"the check could not run ({type(err).__name__}: {err})")
    return _result(item, item.points, "passed")


def _result(item: Check, points: float, message: str) -> CheckResult:
    return CheckResult(name=item.name, description=item.description, points=points,
                       max_points=item.points, hidden=item.hidden, message=message)
