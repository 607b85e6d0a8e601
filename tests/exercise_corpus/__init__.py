"""Wrong and fair answers to the lesson exercises, as a learner would write them.

``WRONG[number]`` lists classic mistakes, each with a piece of the "to fix" line that must catch it;
``FAIR[number]`` lists other right answers, which must pass. ``tests/test_notebooks.py`` swaps each
one into its exercise's starter cell, in the notebook's own kernel, and runs the check cell.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A wrong answer and a piece of the failed expectation's line that names what to fix."""

    why: str
    source: str
    caught_by: str
