"""Hidden checks for the array and JSONB search challenge (`search_products`).

Each check adds products of its own (category ``zz-grader-search``, a ``zz_grader`` metadata key
naming the check), computes the expected answer with trusted SQL and compares the ids, in order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pglab.checks.submission import LearnerCodeError

CATEGORY = "zz-grader-search"

REFERENCE = """
SELECT id::text AS id FROM products
WHERE metadata @> %(metadata)s::jsonb
  AND (cardinality(%(tags)s::text[]) = 0 OR tags && %(tags)s::text[])
  AND (%(cap)s::numeric IS NULL OR price <= %(cap)s::numeric)
ORDER BY name, id
"""


def _first_line(message: str, limit: int) -> str:
    """The first line of a learner-side error, short enough for a one-line reason."""
    lines = message.strip().splitlines()
    return lines[0][:limit] if lines else ""


def _add(sub: Any, products: list[tuple[str, float, list[str], dict]]) -> None:
    for name, price, tags, metadata in products:
        sub.sql(
            "INSERT INTO products (name, price, category, tags, metadata) VALUES (%s, %s, %s, %s, %s)",
            (name, price, CATEGORY, tags, json.dumps(metadata)),
        )


def _cleanup(sub: Any) -> None:
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))


@pytest.fixture
def own_rows(sub):
    """The rows a check arranges in the submission's database: none left over from an interrupted
    check before it runs, none after it, whatever happened (a failure here fails the check)."""
    _cleanup(sub)
    yield
    _cleanup(sub)


def _expected(sub: Any, tags: list[str], metadata: dict, cap: float | None = None) -> list[str]:
    rows = sub.sql(REFERENCE, {"tags": tags, "metadata": json.dumps(metadata), "cap": cap})
    return [r["id"] for r in rows]


def _names(sub: Any, ids: list[str]) -> list[str]:
    rows = sub.sql("SELECT name FROM products WHERE id::text = ANY(%s) ORDER BY name", (list(ids),))
    return [r["name"] for r in rows]


def _search(sub: Any, *args: Any) -> list[str]:
    got = sub.call("search_products", *args)
    assert isinstance(got, list) and all(isinstance(p, dict) for p in got), (
        f"search_products should return a list of Product, got {type(got).__name__}"
    )
    return [str(p.get("id")) for p in got]


def _ordinary_search_works(sub: Any) -> None:
    _add(sub, [("zz grader plain", 10, ["zz-grader-plain"], {"zz_grader": "plain"})])
    try:
        got = _search(sub, ["zz-grader-plain"], {"zz_grader": "plain"})
    except LearnerCodeError as err:
        pytest.fail(f"make an ordinary search work first: it raised {err.type_name}")
    assert got == _expected(sub, ["zz-grader-plain"], {"zz_grader": "plain"}), (
        "make an ordinary search work first: one tag, one metadata key"
    )


@pytest.mark.points(2)
def test_any_one_of_the_tags_is_enough(sub, own_rows):
    """a product needs only one of any_tags (overlap &&), not all of them"""
    _add(
        sub,
        [
            ("zz grader only x", 10, ["zz-grader-x"], {"zz_grader": "overlap"}),
            ("zz grader only y", 10, ["zz-grader-y", "zz-grader-w"], {"zz_grader": "overlap"}),
            ("zz grader x and y", 10, ["zz-grader-x", "zz-grader-y"], {"zz_grader": "overlap"}),
            ("zz grader only z", 10, ["zz-grader-z"], {"zz_grader": "overlap"}),
        ],
    )
    args = (["zz-grader-x", "zz-grader-y"], {"zz_grader": "overlap"})
    expected = _expected(sub, *args)
    got = _search(sub, *args)
    missing = _names(sub, sorted(set(expected) - set(got)))
    assert not missing, (
        f"with any_tags ['zz-grader-x', 'zz-grader-y'], {missing} are missing although each "
        "has one of the two tags: 'any of the tags' is overlap, tags && %s (@> wants all)"
    )
    assert got == expected, (
        f"with any_tags ['zz-grader-x', 'zz-grader-y'] expected {_names(sub, expected)} "
        f"in order, got {_names(sub, got)}"
    )


@pytest.mark.points(2)
def test_metadata_containment_reaches_nested_keys(sub, own_rows):
    """metadata {"specs": {"color": "red"}} matches nested objects that contain it (@>)"""
    _add(
        sub,
        [
            (
                "zz grader red l",
                10,
                ["zz-grader-n"],
                {"zz_grader": "nested", "brand": "acme", "specs": {"color": "red", "size": "L"}},
            ),
            ("zz grader blue l", 10, ["zz-grader-n"], {"zz_grader": "nested", "specs": {"color": "blue"}}),
            ("zz grader flat red", 10, ["zz-grader-n"], {"zz_grader": "nested", "color": "red"}),
        ],
    )
    criteria = {"zz_grader": "nested", "specs": {"color": "red"}}
    expected = _expected(sub, ["zz-grader-n"], criteria)
    got = _search(sub, ["zz-grader-n"], criteria)
    assert got == expected, (
        f"metadata {json.dumps(criteria)} should find {_names(sub, expected)} (its specs are "
        f'{{"color": "red", "size": "L"}}), got {_names(sub, got)}: use containment, '
        "metadata @> %s with Json(metadata), which compares nested objects too"
    )


@pytest.mark.points(1)
def test_the_price_cap_is_inclusive_and_optional(sub, own_rows):
    """max_price includes a product priced exactly at it; None means no cap"""
    _add(
        sub,
        [
            ("zz grader cheap", 10.00, ["zz-grader-p"], {"zz_grader": "price"}),
            ("zz grader at cap", 20.00, ["zz-grader-p"], {"zz_grader": "price"}),
            ("zz grader over cap", 20.01, ["zz-grader-p"], {"zz_grader": "price"}),
        ],
    )
    args = (["zz-grader-p"], {"zz_grader": "price"})
    got = _search(sub, *args, 20.0)
    assert got == _expected(sub, *args, 20.0), (
        f"max_price=20.0 should find ['zz grader at cap', 'zz grader cheap'], got {_names(sub, got)}: "
        "the cap is inclusive, price <= %s"
    )
    got = _search(sub, *args, None)
    assert got == _expected(sub, *args), (
        f"max_price=None should not filter by price, got {_names(sub, got)}: add the price condition "
        "only when max_price is not None"
    )


@pytest.mark.points(1)
def test_an_empty_tag_list_does_not_filter(sub, own_rows):
    """any_tags=[] means no tag filter: every product whose metadata matches comes back"""
    _add(
        sub,
        [
            ("zz grader untagged", 10, [], {"zz_grader": "no tags"}),
            ("zz grader tagged", 10, ["zz-grader-e"], {"zz_grader": "no tags"}),
        ],
    )
    args: tuple[list[str], dict] = ([], {"zz_grader": "no tags"})
    got = _search(sub, *args)
    expected = _expected(sub, *args)
    assert got == expected, (
        f"with any_tags=[] expected {_names(sub, expected)}, got {_names(sub, got)}: `tags && '{{}}'` "
        "matches nothing, so add the tag condition only when any_tags is not empty"
    )


@pytest.mark.points(2)
def test_values_with_quotes_are_parameters(sub, own_rows):
    """a tag and a metadata value with quotes find their product: values are parameters"""
    tag = 'zz-grader-o\'reilly "fan"'
    criteria = {"zz_grader": "quotes", "note": 'it\'s "quoted"; -- not SQL'}
    _ordinary_search_works(sub)
    _add(
        sub,
        [
            ("zz grader quoted", 10, [tag], criteria),
            ("zz grader other", 10, [tag], {"zz_grader": "quotes", "note": "other"}),
        ],
    )
    try:
        got = _search(sub, [tag], criteria)
    except LearnerCodeError as err:
        pytest.fail(
            f"a tag or metadata value with a quote raised {err.type_name} "
            f"({_first_line(err.message, 80)}): the value was pasted into the SQL text; "
            "pass values as parameters, Json(metadata) for the dict and the list as it is"
        )
    expected = _expected(sub, [tag], criteria)
    assert got == expected, (
        f"tag {tag!r} with note {criteria['note']!r} should find {_names(sub, expected)}, "
        f"got {_names(sub, got)}: pass values as parameters, Json(metadata) for the dict"
    )
