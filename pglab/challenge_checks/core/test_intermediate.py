"""Visible checks for the intermediate challenge (`get_low_stock_report`)."""

import pytest

KEYS = {"category", "total_stock", "product_count", "min_stock", "lowest_stock_product"}


@pytest.mark.points(2)
def test_reports_the_low_stock_categories(sub):
    """returns one dict per category below the threshold, with the five keys, lowest total first"""
    got = sub.call("get_low_stock_report", 500)
    assert isinstance(got, list), f"expected a list of dicts, got {type(got).__name__}"
    assert all(isinstance(r, dict) for r in got), "each item should be a dict (dict(row) of a RealDictRow)"
    for row in got:
        assert set(row) == KEYS, f"each dict needs exactly the keys {sorted(KEYS)}; got {sorted(row)}"
    expected = sub.sql("SELECT category, sum(stock) AS total_stock FROM products GROUP BY category "
                       "HAVING sum(stock) < 500")
    assert {r["category"] for r in got} == {r["category"] for r in expected}, (
        f"with threshold=500 the categories are {sorted(r['category'] for r in expected)}, "
        f"got {sorted(str(r.get('category')) for r in got)}"
    )
    totals = {r["category"]: r["total_stock"] for r in expected}
    for row in got:
        assert row["total_stock"] == totals[row["category"]], (
            f"total_stock of '{row['category']}' should be {totals[row['category']]}, got {row['total_stock']!r}: "
            "SUM(stock) per category"
        )
    assert [r["total_stock"] for r in got] == sorted(totals.values()), (
        "the categories are not lowest total stock first: ORDER BY the total"
    )
