"""A class of N beginner submissions for ``benchmarks/grading.py``: the corpus's answers, mixed.

60% correct, 25% partly correct, 15% broken, spread over the batch. The benchmark runs this module
in a process of its own, ``python -m tests.corpus.beginner_class FOLDER N`` from the project root,
rather than importing it: the corpus holds answers, so it stays in ``tests/``, which learners never
get (``pglab bundle`` leaves it out, ``pglab hub`` closes it to them), while ``benchmarks/`` is
readable by every learner on a hub.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pglab.grading.course_layout import RELEASE, SOURCE
from pglab.grading.notebook_cells import nbgrader_meta
from tests.corpus import cases_core
from tests.corpus.case import with_answer

CORRECT = [cases_core.SEED_BEGINNER, None]  # None: the reference solution from solutions/
PARTIAL = [cases_core.EXCLUSIVE_BOUNDS, cases_core.F_STRING, cases_core.NO_ORDER, cases_core.NONE_WHEN_EMPTY]
BROKEN = ["stub", "invalid-json", cases_core.SEED_BEGINNER.replace("get_db()", "get_database()")]


def answer_for(index: int) -> str | None:
    """A realistic mix: 60% correct, 25% partly correct, 15% broken, spread over the batch."""
    slot = index % 20
    if slot < 12:
        return CORRECT[slot % len(CORRECT)] or "reference"
    if slot < 17:
        return PARTIAL[slot % len(PARTIAL)]
    return BROKEN[slot % len(BROKEN)]


def write_submissions(folder: Path, count: int) -> None:
    reference = next(c for c in json.loads((SOURCE / "core" / "beginner.ipynb").read_text())["cells"]
                     if nbgrader_meta(c).get("grade_id") == "answer")
    for index in range(count):
        target = folder / f"student{index:03d}" / "core"
        target.mkdir(parents=True)
        answer = answer_for(index)
        if answer == "invalid-json":
            (target / "beginner.ipynb").write_text('{"cells": [')
            continue
        if answer == "stub":
            source = None
        else:
            source = "".join(reference["source"]) if answer == "reference" else answer
            source = source.replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION", "")
        notebook = with_answer(RELEASE / "core" / "beginner.ipynb", source)
        (target / "beginner.ipynb").write_text(json.dumps(notebook))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where the submissions go, as student*/core/beginner.ipynb")
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    write_submissions(args.folder, args.count)


if __name__ == "__main__":
    main()
