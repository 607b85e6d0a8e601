"""Every lesson notebook executes top to bottom, twice in one kernel, against a fresh database.

The first pass leaves every exercise as the learner gets it (each check must say "not done yet"),
the second fills in the reference answers from grader/lesson_answers/ (each check must pass). The
static tests hold the lessons to their shape: exercises with a starter and a check, an answer under
every question, short code cells, and a text that stands on its own.
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import nbformat
import pytest

from pglab.db import course_data
from pglab.learner import exercises
from pglab.settings import load_settings
from tests.exercise_corpus.answers import FAIR, WRONG
from tests.support.environment import clean_environ
from tests.support.lessons import LESSONS, exercise_cells, reference_answers
from tests.support.notebook_runner import CellRunner, cell_text, error_outputs, run_notebook_twice

MAX_CODE_LINES = 30


def test_lessons_are_numbered_one_per_part() -> None:
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(numbers) + 1)), [p.name for p in LESSONS]


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_has_exercises_with_starter_check_and_reference_answer(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    part = str(int(notebook.name[:2]))
    found = exercise_cells(nb)
    assert 2 <= len(found) <= 4, f"{notebook.name}: {len(found)} exercises, want 2 to 4"
    for number, (starter, check, title) in found.items():
        assert number.split(".")[0] == part, f"{notebook.name}: Exercise {number} is numbered for another part"
        assert nb.cells[starter].cell_type == "code" and nb.cells[check].cell_type == "code", number
        function = f"check_{number.replace('.', '_')}"
        assert f"part{int(part):02d}.{function}(" in nb.cells[check].source and \
            len(nb.cells[check].source.splitlines()) <= 2, \
            f"{notebook.name}: the cell after Exercise {number}'s starter must be its check, one call"
        checks = importlib.import_module(f"pglab.learner.exercise_checks.part{int(part):02d}")
        assert getattr(checks, function).title == title, f"{notebook.name}: Exercise {number}'s title differs"
    assert set(reference_answers(notebook)) == set(found), f"{notebook.name}: one reference answer per exercise"


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_has_an_answer_under_every_question_and_short_cells(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    questions = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Questions")]
    assert len(questions) == 1, notebook.name
    numbered = re.findall(r"^(\d+)\. ", questions[0], re.MULTILINE)
    answers = re.findall(r"<details><summary>Answer</summary>", questions[0])
    assert numbered and len(answers) == len(numbered), \
        f"{notebook.name}: {len(numbered)} questions, {len(answers)} collapsed answers"
    long_cells = {i: len(c.source.splitlines()) for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and len(c.source.splitlines()) > MAX_CODE_LINES}
    assert not long_cells, f"{notebook.name}: code cells over {MAX_CODE_LINES} lines (index: lines): {long_cells}"


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_stands_on_its_own(notebook: Path) -> None:
    text = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells)
    mentions = len(re.findall(r"\bthe (?:original )?lesson\b", text, re.IGNORECASE))
    assert mentions <= 2, f"{notebook.name} mentions 'the lesson' {mentions} times (at most 2: learners do not have it)"


@pytest.mark.slow
@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_unanswered_then_with_the_reference_answers(notebook: Path, course_url: str,
                                                               tmp_path: Path) -> None:
    course_data.reset_course_database(course_url, load_settings().data_dir)
    env = clean_environ(DATABASE_URL=course_url, MPLBACKEND="Agg",
                        PGLAB_HOME=os.environ.get("PGLAB_HOME", ""),
                        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                        PGLAB_NOTEBOOK_SCALE="1")
    nb = nbformat.read(notebook, as_version=4)
    cells = exercise_cells(nb)
    answers = reference_answers(notebook)
    corpus: dict[str, list[str]] = {}
    checks = {check: {number: (starter, check, title)} for number, (starter, check, title) in cells.items()}
    unanswered, answered = run_notebook_twice(
        notebook, env, answers={starter: answers[number] for number, (starter, _, _) in cells.items()},
        after_cell=lambda kernel, index: corpus.update(run_corpus(kernel, checks.get(index), answers)))
    assert error_outputs(unanswered) == []
    assert error_outputs(answered) == []
    for number, (_, check, title) in cells.items():
        heading = f"Exercise {number} · {title}: "
        before, after = cell_text(unanswered.cells[check]), cell_text(answered.cells[check])
        assert heading + exercises.NOT_DONE in before, f"unanswered, the check said:\n{before}"
        assert heading + exercises.PASSED in after, f"with the reference answer, the check said:\n{after}"
    problems = [line for lines in corpus.values() for line in lines]
    assert not problems, "\n".join(problems)


def run_corpus(kernel: CellRunner, cells: dict[str, tuple[int, int, str]] | None,
               answers: dict[str, str]) -> dict[str, list[str]]:
    """Swap each wrong and fair answer into its starter cell and run the check; what went wrong, per exercise.

    It runs right after the exercise's check cell in the answered pass; then the reference answer runs
    again and must still pass, and the rest of the notebook runs: a wrong answer left no damage.
    """
    problems: dict[str, list[str]] = {}
    for number, (starter, check, title) in (cells or {}).items():
        found = problems.setdefault(number, [])
        assert len(WRONG.get(number, [])) >= 3 and FAIR.get(number), f"Exercise {number}: corpus too small"
        verdict = f"Exercise {number} · {title}: "
        for mistake in WRONG[number]:
            _, errors = kernel.run(starter, mistake.source)
            text, check_errors = kernel.run(check, kernel.nb.cells[check].source)
            failed = [line for line in text.splitlines() if line.startswith("  ✘")]
            if errors or check_errors or not text or exercises.TO_FIX not in text.splitlines()[0]:
                found.append(f"{number} {mistake.why}: expected 'to fix', got {errors + check_errors}\n{text}")
            elif not any(mistake.caught_by in line for line in failed):
                found.append(f"{number} {mistake.why}: no failed line mentions {mistake.caught_by!r}\n{text}")
        for index, source in enumerate([*FAIR[number], answers[number]]):
            _, errors = kernel.run(starter, source)
            text, check_errors = kernel.run(check, kernel.nb.cells[check].source)
            if errors or check_errors or not text.startswith(verdict + exercises.PASSED):
                kind = "fair answer" if index < len(FAIR[number]) else "reference answer after the corpus"
                found.append(f"{number} {kind} #{index}: {errors + check_errors}\n{text}")
    return problems
