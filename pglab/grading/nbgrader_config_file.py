"""Reading a course's ``nbgrader_config.py`` with nbgrader's own loader, into a :class:`CourseConfig`.

Loaded as ``nbgrader`` loads the file in a course root (traitlets' loader, through nbgrader's
``NbGrader`` application, which also maps nbgrader's outdated option names); what nbgrader's
classes make of it (the cell timeout, the hidden-tests delimiters, the ignored files) is asked of
those classes once, here, so a run that never reads a config imports nothing of nbgrader.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nbgrader.apps.baseapp import NbGrader
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets.config import Application

from pglab.errors import PglabError, one_line
from pglab.grading.nbgrader_config import (
    DEFAULTS,
    NO_CELL_LIMIT_S,
    CourseConfig,
    UnhonouredSetting,
    find_config,
    log,
    unhonoured,
)


def read_course_config(source: Path, config_file: Path | None = None) -> CourseConfig:
    """The course's config for ``--source`` (see :func:`~pglab.grading.nbgrader_config.find_config`);
    nbgrader's defaults when there is none."""
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
    made = CourseConfig(path, (stat.st_mtime_ns, stat.st_size), unhonoured(app.config), app.config)
    timeout = made.preprocessor(Execute).timeout
    hidden = made.preprocessor(ClearHiddenTests)
    made = replace(made, cell_timeout_s=float(timeout) if timeout is not None and timeout > 0 else NO_CELL_LIMIT_S,
                   hidden_tests=(hidden.begin_test_delimeter, hidden.end_test_delimeter),
                   ignore=tuple(made.preprocessor(CourseDirectory).ignore))
    directory = app.config.get("CourseDirectory", {})
    if "db_url" in directory or "root" in directory:  # else nbgrader's default: gradebook.db in the course root
        made = replace(made, gradebook_url=str(made.preprocessor(CourseDirectory).db_url))
    if made.cell_timeout_s == NO_CELL_LIMIT_S:
        setting = UnhonouredSetting("Execute.timeout", repr(timeout),
                                    "pglab gives a cell at most the notebook's time, --notebook-timeout")
        made = replace(made, unhonoured=(setting, *made.unhonoured))
    for option in ("header", "footer"):
        where = made.course_file(option)
        if where is not None and not where.is_file():
            raise PglabError(f"{path}: IncludeHeaderFooter.{option} names {where}, which is not a file: "
                             "fix the config (nbgrader generate_assignment would fail on it too)")
    return made
