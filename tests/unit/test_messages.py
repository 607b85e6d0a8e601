"""Each process boundary's messages, encoded and decoded in one place: what one side writes, the
other reads back as the same typed message."""

from __future__ import annotations

import pickle

from pglab.checks.results import CheckInfo, CheckResult
from pglab.errors import FaultKind
from pglab.messages import (
    ANSWER_CHARS,
    Blame,
    Catalogue,
    Evaluated,
    Failure,
    ForkAnswer,
    ForkRequest,
    KernelAnswer,
    NotebookChecked,
    decode_answer,
    encode_answer,
)


def test_a_kernels_answer_round_trips_as_json() -> None:
    assert decode_answer(encode_answer({"rows": (1, 2)})) == KernelAnswer(value={"rows": [1, 2]})
    assert decode_answer(encode_answer(raised=ZeroDivisionError("division by zero"))) == KernelAnswer(
        raised=("ZeroDivisionError", "division by zero"))
    huge = decode_answer(encode_answer("x" * ANSWER_CHARS))
    assert huge is not None and huge.too_large > ANSWER_CHARS and huge.value is None


def test_what_is_no_answer_is_none() -> None:
    for text in (None, 42, "not json", "[1, 2]", '{"something": "else"}', '{"error": "not a pair"}'):
        assert decode_answer(text) is None, text


def test_fork_server_lines_round_trip() -> None:
    request = ForkRequest("/run/kernel-1.json", {"DATABASE_URL": "postgresql:///sub_1"},
                          {"workdir": "/w", "cpu_s": 120})
    assert ForkRequest.read(request.line()) == request
    for answer in (ForkAnswer(pid=41, init=7), ForkAnswer(pid=41), ForkAnswer(error="EPERM"), ForkAnswer(ready=True)):
        assert ForkAnswer.read(answer.line(), silent="?") == answer
    assert ForkAnswer.read(b"", silent="the kernel said nothing") == ForkAnswer(error="the kernel said nothing")


def test_check_runner_messages_travel_whole() -> None:
    checked = NotebookChecked([CheckResult("test_a", "a", 1.0, 2.0, True, "half")])
    failed = Evaluated(failure=Failure(Blame.GRADER, "GraderFault", "the fork server died", FaultKind.KERNEL))
    for message in (checked, failed, Evaluated(value=[1, {"a": None}])):
        assert pickle.loads(pickle.dumps(message)) == message


def test_the_catalogue_line_round_trips() -> None:
    catalogue = Catalogue([CheckInfo("test_a", "about a", 2.0, False, "/course/test_x.py")])
    assert Catalogue.read(catalogue.line()) == catalogue
    assert Catalogue.read(Catalogue(error="SyntaxError in test_x.py").line()).error == "SyntaxError in test_x.py"
