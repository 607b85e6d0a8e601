"""pglab.learner.exercises: a check says "not done yet", "passed" or what to fix, and never raises."""

from __future__ import annotations

import pytest

from pglab.learner.exercises import NOT_DONE, PASSED, TO_FIX, Exercise, answer


def _starter() -> int:
    raise NotImplementedError


def test_an_unanswered_exercise_is_not_done_yet(capsys: pytest.CaptureFixture[str]) -> None:
    for placeholder in (_starter, lambda: answer(...) == "SELECT 1"):
        check = Exercise("1.1", "Rows as dictionaries")
        check.expect("runs", placeholder)
        check.expect("never evaluated once not done", lambda: 1 / 0)
        assert check.report() == NOT_DONE
        out = capsys.readouterr().out
        assert out.startswith("Exercise 1.1 · Rows as dictionaries: not done yet") and "ZeroDivision" not in out


def test_a_wrong_answer_says_what_to_fix_without_raising(capsys: pytest.CaptureFixture[str]) -> None:
    check = Exercise("3.2", "Give the connection back")
    check.expect("returns 5", lambda: 4 == 5, "count again")
    check.expect("does not raise", lambda: {}["missing"], "look up a key that exists")
    check.expect("a plain truth", True)
    assert check.report() == TO_FIX
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Exercise 3.2 · Give the connection back: 2 of 3 to fix"
    assert out[1] == "  ✘ returns 5 — count again"
    assert out[2].startswith("  ✘ does not raise — look up a key that exists (your code raised KeyError")
    assert out[3] == "  ✔ a plain truth"


def test_a_right_answer_passes(capsys: pytest.CaptureFixture[str]) -> None:
    check = Exercise("4.1", "A search")
    check.expect("returns rows", lambda: [1, 2])
    assert check.report() == PASSED
    assert capsys.readouterr().out.startswith("Exercise 4.1 · A search: passed")
