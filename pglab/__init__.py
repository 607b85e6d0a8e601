"""pglab: what the course notebooks, the grader and the command line share."""

__version__ = "0.1.0"
