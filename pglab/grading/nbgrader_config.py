"""A course's ``nbgrader_config.py``, read by nbgrader's own loader: what of it changes autograding.

``pglab grade --source`` is meant as a drop-in for ``nbgrader autograde``, so a course is graded by
its own configuration, not by pglab's defaults: its cell timeout (nbgrader's 30 s when it sets
none), its solution and hidden-test delimiters and code stubs (which decide what a released cell
is, so which cells come back from the source), its ``CourseDirectory.ignore`` (which files are
laid beside a notebook), its header notebook. The file is loaded as ``nbgrader`` loads the one in
a course root (traitlets' loader, through nbgrader's ``NbGrader`` application, which also maps
nbgrader's outdated option names), and the preprocessors pglab borrows from nbgrader are built
with it (:meth:`CourseConfig.preprocessor`), so each option means what nbgrader's code makes of it.

A setting that changes autograding but that pglab does not apply (late penalties, a kernel option,
a replaced preprocessor list) is not silently dropped: it is an :class:`UnhonouredSetting`, which
``pglab grade`` prints as one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nbgrader.apps.baseapp import NbGrader
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets.config import Application, Config, Configurable

from pglab.errors import PglabError, one_line

CONFIG_FILE = "nbgrader_config.py"
NO_CELL_LIMIT_S = 0.0  # Execute.timeout None or <= 0: nbgrader waits for a cell as long as it runs

# Options pglab applies itself (the rest of these classes' options are listed as not honoured).
APPLIED = {("Execute", "timeout"), ("ExecutePreprocessor", "timeout"), ("CourseDirectory", "ignore"),
           ("Autograde", "exclude_overwriting"), ("IncludeHeaderFooter", "header"),
           ("IncludeHeaderFooter", "footer")}
# nbgrader's own preprocessors that pglab runs with the course's configuration: every option of theirs holds.
PASSED_ON = {"ClearSolutions", "ClearHiddenTests", "InstantiateTests", "LockCells", "ComputeChecksums",
             "ClearOutput", "DeduplicateIds", "OverwriteCells", "ClearMarkScheme"}
# What else changes how ``nbgrader autograde`` scores a notebook, and why pglab does not follow it.
NOT_APPLIED = {
    "Execute": "pglab runs each notebook in its own sandboxed kernel and takes only the timeout from the config",
    "ExecutePreprocessor": "pglab runs each notebook in its own sandboxed kernel and takes only the timeout "
                           "from the config",
    "Autograde": "pglab runs nbgrader's default autograde steps",
    "GenerateAssignment": "pglab prepares the source with nbgrader's default steps",
    "IncludeHeaderFooter": "pglab takes only the header and footer notebooks from the config",
    "LimitOutput": "pglab cuts a cell's output at its own limit",
    "IgnorePattern": "pglab counts every write to stderr, as nbgrader does by default",
    "AssignLatePenalties": "pglab applies late penalties by --late-policy: none, zero or per-hour:P",
    "LateSubmissionPlugin": "pglab applies late penalties by --late-policy: none, zero or per-hour:P",
    "SaveAutoGrades": "pglab records nbgrader's default automatic grades",
    "OverwriteKernelspec": "pglab grades every notebook with its own Python kernel",
    "CheckCellMetadata": "pglab checks cell metadata its own way",
}

log = logging.getLogger("pglab.nbgrader")
Made = TypeVar("Made", bound=Configurable)


@dataclass(frozen=True)
class UnhonouredSetting:
    """A setting of the course's config that changes autograding and that pglab does not apply."""

    name: str  # Class.option
    value: str
    why: str

    def line(self, path: Path) -> str:
        return f"{path}: {self.name} = {self.value} is not honoured ({self.why})"


@dataclass(frozen=True)
class CourseConfig:
    """What a course's nbgrader configuration says about autograding; nbgrader's defaults without one.

    Two configs are equal when they come from the same version of the same file (the loaded
    traitlets ``Config`` is not compared), so caches of what was made from a source notebook with
    a config (:mod:`pglab.grading.nbgrader_cells`) stay right when the file changes between runs.
    """

    path: Path | None = None  # the file read, None: nbgrader's defaults
    version: tuple[int, int] = (0, 0)  # the file's (mtime_ns, size) when it was read
    unhonoured: tuple[UnhonouredSetting, ...] = ()
    config: Config = field(default_factory=Config, compare=False, repr=False)

    def unhonoured_lines(self) -> list[str]:
        """One line for each setting pglab does not apply, naming the file."""
        return [setting.line(self.path) for setting in self.unhonoured if self.path is not None]

    def preprocessor(self, kind: type[Made], **traits: Any) -> Made:
        """One of nbgrader's configurables as nbgrader would make it with this config."""
        made = kind(config=self.config, **traits)
        if hasattr(made, "log"):
            made.log = log
        return made

    @property
    def cell_timeout_s(self) -> float:
        """nbgrader's ``Execute.timeout`` (nbgrader's default 30 s when unset); NO_CELL_LIMIT_S: none."""
        timeout = self.preprocessor(Execute).timeout
        return float(timeout) if timeout is not None and timeout > 0 else NO_CELL_LIMIT_S

    @property
    def hidden_tests(self) -> tuple[str, str]:
        """The hidden-tests delimiters (begin, end)."""
        hidden = self.preprocessor(ClearHiddenTests)
        return hidden.begin_test_delimeter, hidden.end_test_delimeter

    @property
    def ignore(self) -> list[str]:
        """``CourseDirectory.ignore``: the files nbgrader never copies beside a notebook."""
        return list(self.preprocessor(CourseDirectory).ignore)

    def exclude_overwriting(self, assignment: str) -> list[str]:
        """``Autograde.exclude_overwriting``: the source files of ``assignment`` a learner's own copy keeps."""
        found = self.config.get("Autograde", {}).get("exclude_overwriting", {})
        return [str(name) for name in found.get(assignment, [])] if isinstance(found, dict) else []

    def course_file(self, option: str) -> Path | None:
        """``IncludeHeaderFooter.header`` or ``.footer``, resolved as nbgrader does (from the course root)."""
        name = self.config.get("IncludeHeaderFooter", {}).get(option, "")
        if not name or self.path is None:
            return None
        root = Path(str(self.config.get("CourseDirectory", {}).get("root", "") or self.path.parent))
        return (root / str(name)).resolve()


DEFAULTS = CourseConfig()


def find_config(source: Path, config_file: Path | None) -> Path | None:
    """The config to read: ``--config FILE``, else the one in the course root (the folder holding ``--source``)."""
    if config_file is not None:
        if not config_file.is_file():
            raise PglabError(f"--config {config_file} is not a file: give the course's {CONFIG_FILE}")
        return config_file
    beside = source.resolve().parent / CONFIG_FILE
    return beside if beside.is_file() else None


def read_course_config(source: Path, config_file: Path | None = None) -> CourseConfig:
    """The course's config for ``--source`` (see :func:`find_config`); nbgrader's defaults when there is none."""
    path = find_config(source, config_file)
    if path is None:
        return DEFAULTS
    path = path.resolve()
    app = NbGrader(log=log)
    app.raise_config_file_errors = True
    try:  # as nbgrader's NbGrader.initialize loads the course root's nbgrader_config.py
        Application.load_config_file(app, path.name, path=str(path.parent))
    except Exception as err:
        raise PglabError(f"{path} cannot be read as an nbgrader config ({type(err).__name__}: {one_line(err)}): "
                         "fix it, or give another one with --config") from None
    stat = path.stat()
    config = app.config
    made = CourseConfig(path, (stat.st_mtime_ns, stat.st_size), unhonoured(config), config)
    if made.cell_timeout_s == NO_CELL_LIMIT_S:
        timeout = UnhonouredSetting("Execute.timeout", repr(made.preprocessor(Execute).timeout),
                                    "pglab gives a cell at most the notebook's time, --notebook-timeout")
        made = CourseConfig(path, made.version, (timeout, *made.unhonoured), config)
    for option in ("header", "footer"):
        where = made.course_file(option)
        if where is not None and not where.is_file():
            raise PglabError(f"{path}: IncludeHeaderFooter.{option} names {where}, which is not a file: "
                             "fix the config (nbgrader generate_assignment would fail on it too)")
    return made


def unhonoured(config: Config) -> tuple[UnhonouredSetting, ...]:
    """The settings of ``config`` that change autograding and that pglab does not apply, in order."""
    found = []
    for section in sorted(config):
        options = config[section]
        if section in PASSED_ON or section not in NOT_APPLIED or not isinstance(options, Config):
            continue
        for option in sorted(options):
            if (section, option) not in APPLIED:
                value = one_line(repr(options[option]))
                found.append(UnhonouredSetting(f"{section}.{option}", value[:60] + ("..." if len(value) > 60 else ""),
                                               NOT_APPLIED[section]))
    return tuple(found)
