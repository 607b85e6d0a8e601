"""A class of N learners handing in the three core notebooks, for ``benchmarks/classroom_grading.py``.

Every learner answers all three (the corpus's seed answers); every fifth has one wrong answer, in one
of the three notebooks in turn, taken from the corpus's classic mistakes. Each submission has the
``timestamp.txt`` that ``nbgrader collect`` leaves beside it. Like ``beginner_class``, the benchmark
runs this module in a process of its own (``python -m tests.corpus.core_class FOLDER N`` from the
project root): the corpus holds answers and stays in ``tests/``, which learners never get.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pglab.grading.course_layout import RELEASE
from tests.corpus import cases_core
from tests.corpus.case import with_answer

SEEDS = {"beginner": cases_core.SEED_BEGINNER, "intermediate": cases_core.SEED_INTERMEDIATE,
         "advanced": cases_core.SEED_ADVANCED}
WRONG = {"beginner": [cases_core.EXCLUSIVE_BOUNDS, cases_core.F_STRING, cases_core.NO_ORDER],
         "intermediate": [cases_core.AT_OR_BELOW, cases_core.HIGHEST_NOT_LOWEST],
         "advanced": [cases_core.LAST_WAIT_ONLY, cases_core.NO_ROLLBACK]}
TIMESTAMP = "2026-12-01 12:00:00.000000 UTC"


def answers_for(index: int) -> dict[str, str]:
    """The seed answers; every fifth learner has one of them replaced by a classic mistake."""
    answers = dict(SEEDS)
    if index % 5 == 4:
        wrong_one = list(SEEDS)[(index // 5) % len(SEEDS)]
        variants = WRONG[wrong_one]
        answers[wrong_one] = variants[(index // 15) % len(variants)]
    return answers


def write_class(folder: Path, count: int) -> None:
    for index in range(count):
        target = folder / f"learner{index:03d}" / "core"
        target.mkdir(parents=True)
        for notebook, answer in answers_for(index).items():
            content = with_answer(RELEASE / "core" / f"{notebook}.ipynb", answer)
            (target / f"{notebook}.ipynb").write_text(json.dumps(content), encoding="utf-8")
        (target / "timestamp.txt").write_text(TIMESTAMP, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="where the submissions go, as learner*/core/<notebook>.ipynb")
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    write_class(args.folder, args.count)


if __name__ == "__main__":
    main()
