"""What a failed check tells the learner, and whose doing it is: never "a bug in the check" on a
learner's work (the grader proves each check on the reference first)."""

from __future__ import annotations

import datetime

import psycopg2
import pytest

from pglab.checks.submission import LearnerCodeError, Returned, SandboxError
from pglab.checks.verdicts import Explanation, assertion_message, explain
from pglab.checks.wire import describe, promised_return, to_jsonable
from pglab.errors import FaultKind, GraderFault
from pglab.messages import Blame, Failure, failure_of


def raised(err: BaseException) -> pytest.ExceptionInfo[BaseException]:
    try:
        raise err
    except BaseException:
        return pytest.ExceptionInfo.from_current()


NONE = Returned("rows", "None", "NoneType", "list[dict]")


@pytest.mark.parametrize(("err", "expected"), [
    (AssertionError("return both rows"), Explanation("return both rows", Blame.LEARNER)),
    (LearnerCodeError("ZeroDivisionError", "division by zero"),
     Explanation("your code raised ZeroDivisionError: division by zero", Blame.LEARNER)),
    (SandboxError("no answer within 10 s (an endless loop?)"),
     Explanation("no answer within 10 s (an endless loop?)", Blame.LEARNERS_KERNEL)),
    (psycopg2.errors.UndefinedTable("relation \"products\" does not exist"),
     Explanation("the check's own query failed on your database (UndefinedTable: relation \"products\" does not "
                 "exist): did your code drop, change or lock a table?", Blame.LEARNER)),
    (KeyError("missing"), Explanation("the check could not use what your code left behind (KeyError: 'missing')",
                                      Blame.LEARNER, in_check_code=True)),
    (GraderFault(FaultKind.KERNEL, "the fork server died"),
     Explanation("a grading kernel could not be started: the fork server died", Blame.GRADER)),
])
def test_each_failure_has_its_message_and_its_blame(err: BaseException, expected: Explanation) -> None:
    assert explain(raised(err)) == expected
    assert expected.blame.is_a_grade is (expected.blame is not Blame.GRADER)


@pytest.mark.parametrize("err", [LearnerCodeError("ValueError", "bad"), SandboxError("the kernel died"),
                                 GraderFault(FaultKind.DATABASE, "gone")])
def test_a_failure_crosses_a_process_boundary_as_itself(err: BaseException) -> None:
    failure = failure_of(err)
    assert isinstance(failure, Failure)
    again = failure.exception()
    assert type(again) is type(err) and str(again) == str(err)
    assert failure_of(KeyError("a bug of ours")) is None


def test_a_check_tripping_over_a_return_value_names_the_function_and_what_came_back() -> None:
    why = explain(raised(TypeError("'NoneType' object is not iterable")), NONE)
    assert (why.blame, why.in_check_code) == (Blame.LEARNER, True)
    assert why.message == ("rows returned None (a function without `return` returns None); the check expected "
                       "list[dict] (TypeError: 'NoneType' object is not iterable)")
    bare = Returned("rows", "a generator", "generator")
    assert explain(raised(TypeError("x")), bare).message == (
        "rows returned a generator, which the check could not use (TypeError: x)")


def test_an_assertion_gets_what_came_back_only_when_it_breaks_the_signature() -> None:
    assert explain(raised(AssertionError("expected 3 rows")), NONE).message == (
        "expected 3 rows (rows returned None (a function without `return` returns None); the check expected "
        "list[dict])")
    fine = Returned("rows", "a list of 2 items", "list", "list[dict]")
    assert explain(raised(AssertionError("expected 3 rows")), fine).message == "expected 3 rows"


@pytest.mark.parametrize(("kind", "promised", "unexpected"), [
    ("list", "list[Product]", False), ("NoneType", "list[Product]", True), ("generator", "list[Product]", True),
    ("NoneType", "list[dict] | None", False), ("NoneType", "Optional[list[dict]]", False),
    ("dict", "Optional[list[dict]]", True), ("tuple", "dict", True), ("NoneType", "", True), ("dict", "", False),
    ("str", "Any", False), ("Product", "catalogue.Product", False),
])
def test_what_breaks_a_signature(kind: str, promised: str, unexpected: bool) -> None:
    assert Returned("f", "x", kind, promised).unexpected is unexpected


def test_values_are_described_where_they_live() -> None:
    assert describe(None) == "None"
    assert describe({"a": 1}) == "a dict of 1 item"
    assert describe((1, 2)) == "a tuple of 2 items"
    assert describe(x for x in ()) == "a generator"
    assert describe("O'Malley") == "a str (\"O'Malley\")"
    assert describe(3) == "an int (3)"
    assert to_jsonable((1, datetime.date(2026, 12, 3))) == [1, "2026-12-03"]


def test_the_promised_type_reads_as_written() -> None:
    class Product:
        pass

    def listed() -> list[Product]:
        return []

    def untyped():  # type: ignore[no-untyped-def]
        return []

    assert promised_return(listed) == "list[Product]"
    assert promised_return(untyped) == ""
    assert promised_return(len) == ""


def test_the_message_is_the_assertions_own() -> None:
    got = [1, 2]
    with pytest.raises(AssertionError) as raised:
        assert got == [1, 3], "the second item is wrong:\nuse the price, not the id"
    assert assertion_message(str(raised.value)) == "the second item is wrong:\nuse the price, not the id"


def test_a_bare_assert_gets_pytests_short_explanation() -> None:
    got = [1, 2]
    with pytest.raises(AssertionError) as raised:
        assert len(got) == 3
    assert assertion_message(str(raised.value)) == "assert 2 == 3; where 2 = len([1, 2])"
    with pytest.raises(AssertionError) as raised:
        assert {"a": 1} == {"a": 2}
    assert assertion_message(str(raised.value)).startswith("assert {'a': 1} == {'a': 2}; ")
