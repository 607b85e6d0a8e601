"""Hidden checks for the beginner challenge (`get_products_in_price_range`).

Each check arranges its own rows in the submission's private database, so the expected answer
is known exactly, and removes them afterwards.
"""

import pytest

from pglab.checks.submission import LearnerCodeError

CATEGORY = "zz-grader-beginner"


def _insert(sub, prices):
    rows = sub.sql(
        "INSERT INTO products (name, price, category) "
        "SELECT 'grader probe ' || p, p, %s FROM unnest(%s::numeric[]) AS p RETURNING id::text, price",
        (CATEGORY, list(prices)),
    )
    return {r["id"]: r["price"] for r in rows}


def _cleanup(sub):
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))


@pytest.fixture
def own_rows(sub):
    """The rows a check arranges in the submission's database: none left over from an interrupted
    check before it runs, none after it, whatever happened (a failure here fails the check)."""
    _cleanup(sub)
    yield
    _cleanup(sub)


def _ids(result):
    return {p.get("id") for p in result if isinstance(p, dict)}


@pytest.mark.points(2)
def test_includes_a_product_priced_exactly_min_price(sub, own_rows):
    """includes a product priced exactly at min_price"""
    probe = _insert(sub, ["7777.77"])
    got = sub.call("get_products_in_price_range", 7777.77, 7800.0)
    assert set(probe) <= _ids(got), (
        "a product priced exactly at min_price is missing: the range is inclusive (use >= or BETWEEN, not >)"
    )


@pytest.mark.points(2)
def test_includes_a_product_priced_exactly_max_price(sub, own_rows):
    """includes a product priced exactly at max_price"""
    probe = _insert(sub, ["7799.99"])
    got = sub.call("get_products_in_price_range", 7700.0, 7799.99)
    assert set(probe) <= _ids(got), (
        "a product priced exactly at max_price is missing: BETWEEN is inclusive (use <= or BETWEEN, not <)"
    )


@pytest.mark.points(1)
def test_cheapest_first_and_nothing_else(sub, own_rows):
    """returns exactly the products in range, cheapest first"""
    probe = _insert(sub, ["8100.50", "8100.10", "8100.90", "8099.99", "8101.00"])
    got = sub.call("get_products_in_price_range", 8100.0, 8100.99)
    inside = {i for i, price in probe.items() if 8100.0 <= price <= 8100.99}
    assert _ids(got) == inside, (
        f"expected the {len(inside)} products priced 8100.00-8100.99, got {len(got)} products (check both bounds)"
    )
    prices = [p.get("price") for p in got]
    assert prices == sorted(prices), "results must be ordered by price, cheapest first (ORDER BY price)"


@pytest.mark.points(1)
def test_an_empty_range_gives_an_empty_list(sub):
    """returns [] when no product is in range"""
    got = sub.call("get_products_in_price_range", 99_999_000.0, 99_999_001.0)
    assert got == [], f"with no products in range, return an empty list, not {got!r}"


@pytest.mark.points(2)
def test_values_are_parameters_not_sql_text(sub):
    """values are passed as query parameters, so SQL in them is never executed"""
    total = sub.sql("SELECT count(*) AS n FROM products")[0]["n"]
    ordinary = sub.call("get_products_in_price_range", 10.0, 11.0)
    assert isinstance(ordinary, list), "make the function work for ordinary prices first"
    for payload in ("0 OR TRUE", "0' OR '1'='1"):
        try:
            got = sub.call("get_products_in_price_range", 0, payload)
        except LearnerCodeError:
            continue  # the database refused the text as a price: that is the safe outcome
        count = len(got) if isinstance(got, list) else 0
        assert count < total, (
            f"max_price={payload!r} returned all {total} products: the value was pasted into the "
            "SQL text, where it ran as SQL. Pass values as parameters: cur.execute(sql, (min, max))"
        )
