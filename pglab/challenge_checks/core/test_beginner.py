"""Visible checks for the beginner challenge (`get_products_in_price_range`)."""

import pytest


@pytest.mark.points(2)
def test_returns_the_products_of_a_common_range(sub):
    """returns every product priced 10.00-15.00 as Product objects, cheapest first"""
    got = sub.call("get_products_in_price_range", 10.0, 15.0)
    assert isinstance(got, list), f"expected a list, got {type(got).__name__}: return a list of Product"
    assert all(isinstance(p, dict) and p.get("__type__") == "Product" for p in got), (
        "each item should be a Product: build them with Product.from_row(row)"
    )
    expected = sub.sql("SELECT id::text AS id FROM products WHERE price >= 10 AND price <= 15")
    assert len(got) == len(expected), f"expected {len(expected)} products priced 10.00-15.00, got {len(got)}"
    assert sorted(str(p.get("id")) for p in got) == sorted(r["id"] for r in expected), (
        "the products returned are not the ones priced 10.00-15.00: filter on price, with both values as parameters"
    )
    prices = [p.get("price") for p in got]
    assert prices == sorted(prices), "the products are not cheapest first: ORDER BY price"
