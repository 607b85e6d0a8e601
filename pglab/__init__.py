"""pglab: what the course notebooks, the grader and the command line share."""

__version__ = "0.1.0"

from pglab.moved_modules import install as _install_moved_modules

_install_moved_modules()  # old module names in learners' notebooks keep working
