"""What a failed check tells the learner, and whose doing it is: never "a bug in the check" on a
learner's work (the grader proves each check on the reference first)."""

from __future__ import annotations

import datetime

import psycopg2
import pytest

from pglab.checks.submission import LearnerCodeError, Returned, SandboxError
from pglab.checks.verdicts import Verdict, assertion_message, explain
from pglab.checks.wire import describe, promised_return, to_jsonable


def raised(err: BaseException) -> pytest.ExceptionInfo[BaseException]:
    try:
        raise err
    except BaseException:
        return pytest.ExceptionInfo.from_current()


NONE = Returned("rows", "None", "NoneType", "list[dict]")


@pytest.mark.parametrize(("err", "message", "verdict"), [
    (AssertionError("return both rows"), "return both rows", Verdict.LEARNER),
    (LearnerCodeError("ZeroDivisionError", "division by zero"), "your code raised ZeroDivisionError: division by zero",
     Verdict.LEARNER),
    (SandboxError("no answer within 10 s (an endless loop?)"), "no answer within 10 s (an endless loop?)",
     Verdict.LEARNER),
    (psycopg2.errors.UndefinedTable("relation \"products\" does not exist"),
     "the check's own query failed on your database (UndefinedTable: relation \"products\" does not exist): "
     "did your code drop, change or lock a table?", Verdict.LEARNER),
    (KeyError("missing"), "the check could not use what your code left behind (KeyError: 'missing')",
     Verdict.UNUSABLE_ANSWER),
])
def test_each_failure_has_its_message_and_is_the_learners(err: BaseException, message: str,
                                                           verdict: Verdict) -> None:
    assert explain(raised(err)) == (message, verdict)


def test_a_check_tripping_over_a_return_value_names_the_function_and_what_came_back() -> None:
    message, verdict = explain(raised(TypeError("'NoneType' object is not iterable")), NONE)
    assert verdict is Verdict.UNUSABLE_ANSWER
    assert message == ("rows returned None (a function without `return` returns None); the check expected "
                       "list[dict] (TypeError: 'NoneType' object is not iterable)")
    bare = Returned("rows", "a generator", "generator")
    assert explain(raised(TypeError("x")), bare)[0] == "rows returned a generator, which the check could not use " \
                                                        "(TypeError: x)"


def test_an_assertion_gets_what_came_back_only_when_it_breaks_the_signature() -> None:
    assert explain(raised(AssertionError("expected 3 rows")), NONE)[0] == (
        "expected 3 rows (rows returned None (a function without `return` returns None); the check expected "
        "list[dict])")
    fine = Returned("rows", "a list of 2 items", "list", "list[dict]")
    assert explain(raised(AssertionError("expected 3 rows")), fine)[0] == "expected 3 rows"


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
