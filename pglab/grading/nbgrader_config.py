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

This module holds what a run keeps of the config (:class:`CourseConfig`, nbgrader's defaults
without one) and imports nothing of nbgrader (importing nbgrader costs a run 0.6 s, see
:mod:`pglab.grading.cell_metadata`); the file is read by :mod:`pglab.grading.nbgrader_config_file`,
which does, and only with ``--source``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from traitlets.config import Config, Configurable

from pglab.errors import PglabError, one_line
from pglab.grading.course_root import course_gradebook

CONFIG_FILE = "nbgrader_config.py"
SQLITE = "sqlite:///"
NO_CELL_LIMIT_S = 0.0  # Execute.timeout None or <= 0: nbgrader waits for a cell as long as it runs
# nbgrader's defaults (Execute.timeout, ClearHiddenTests' delimiters, CourseDirectory.ignore),
# held to nbgrader's own by tests/unit/test_nbgrader_config.py
NBGRADER_CELL_TIMEOUT_S = 30.0
# (split, as in pglab.bundle: the learner bundle refuses a file holding the marker itself)
NBGRADER_HIDDEN_TESTS = ("BEGIN " + "HIDDEN TESTS", "END " + "HIDDEN TESTS")
NBGRADER_IGNORE = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")

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
    # what nbgrader's classes make of the file, as read (pglab.grading.nbgrader_config_file)
    cell_timeout_s: float = NBGRADER_CELL_TIMEOUT_S  # Execute.timeout; NO_CELL_LIMIT_S: none
    hidden_tests: tuple[str, str] = NBGRADER_HIDDEN_TESTS  # the hidden-tests delimiters (begin, end)
    ignore: tuple[str, ...] = NBGRADER_IGNORE  # CourseDirectory.ignore: files never copied beside a notebook
    gradebook_url: str = ""  # CourseDirectory.db_url when the file sets it (or the root): "" when it does not

    def unhonoured_lines(self) -> list[str]:
        """One line for each setting pglab does not apply, naming the file."""
        return [setting.line(self.path) for setting in self.unhonoured if self.path is not None]

    def preprocessor(self, kind: type[Made], **traits: Any) -> Made:
        """One of nbgrader's configurables as nbgrader would make it with this config."""
        made = kind(config=self.config, **traits)
        if hasattr(made, "log"):
            made.log = log
        return made

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


def course_gradebook_url(source: Path | None, config: CourseConfig) -> str:
    """The course's gradebook (due dates, extensions), as nbgrader run in its course root would open
    it: for this course, the one of the clone you work in (:func:`~pglab.grading.course_root.course_gradebook`)."""
    if source is None:
        return f"{SQLITE}{course_gradebook()}"
    return config.gradebook_url or f"{SQLITE}{source.resolve().parent / 'gradebook.db'}"


def sqlite_path(url: str) -> Path | None:
    return Path(url[len(SQLITE):]) if url.startswith(SQLITE) else None


def has_gradebook(url: str) -> bool:
    """Whether there is a gradebook to read (a database server's is assumed to be there)."""
    path = sqlite_path(url)
    return path is None or path.is_file()


def find_config(source: Path, config_file: Path | None) -> Path | None:
    """The config to read: ``--config FILE``, else the one in the course root (the folder holding ``--source``)."""
    if config_file is not None:
        if not config_file.is_file():
            raise PglabError(f"--config {config_file} is not a file: give the course's {CONFIG_FILE}")
        return config_file
    beside = source.resolve().parent / CONFIG_FILE
    return beside if beside.is_file() else None


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
