"""Hidden checks for the intermediate challenge (`get_low_stock_report`).

The checks add their own small categories (prefixed ``zz-grader-``) with known stock, and compare
the learner's report with the same report computed here by SQL they cannot influence.
"""

import pytest

from pglab.checks.submission import LearnerCodeError

PREFIX = "zz-grader-"
REFERENCE = """
SELECT category, sum(stock) AS total_stock, count(*) AS product_count, min(stock) AS min_stock
FROM products GROUP BY category HAVING sum(stock) < %s ORDER BY sum(stock), category
"""


def _add(sub, category, stocks):
    sub.sql(
        "INSERT INTO products (name, price, category, stock) "
        "SELECT %s || ' item ' || n, 10, %s, s FROM unnest(%s::int[]) WITH ORDINALITY AS u(s, n)",
        (category, PREFIX + category, list(stocks)),
    )


def _cleanup(sub):
    sub.sql("DELETE FROM products WHERE category LIKE %s", (PREFIX + "%",))


@pytest.fixture
def own_rows(sub):
    """The rows a check arranges in the submission's database: none left over from an interrupted
    check before it runs, none after it, whatever happened (a failure here fails the check)."""
    _cleanup(sub)
    yield
    _cleanup(sub)


def _by_category(rows):
    return {r.get("category"): r for r in rows if isinstance(r, dict)}


@pytest.mark.points(2)
def test_strictly_below_the_threshold(sub, own_rows):
    """includes a category just below the threshold and leaves out one exactly at it"""
    _add(sub, "under", [100, 132])  # 232 < 233
    _add(sub, "edge", [200, 33])  # 233, not below
    got = _by_category(sub.call("get_low_stock_report", 233))
    assert PREFIX + "under" in got, "a category whose total stock is below the threshold is missing"
    assert PREFIX + "edge" not in got, (
        "a category whose total stock equals the threshold is reported: 'below' means < (HAVING sum < %s)"
    )


@pytest.mark.points(2)
def test_totals_counts_and_minimums(sub, own_rows):
    """total_stock, product_count and min_stock are right for every category"""
    _add(sub, "mixed", [5, 40, 12, 3])
    expected = {r["category"]: r for r in sub.sql(REFERENCE, (400,))}
    got = _by_category(sub.call("get_low_stock_report", 400))
    assert set(got) == set(expected), (
        f"categories below 400: expected {sorted(expected)}, got {sorted(map(str, got))}"
    )
    for name, row in expected.items():
        for key in ("total_stock", "product_count", "min_stock"):
            assert got[name].get(key) == row[key], (
                f"{key} of '{name}' should be {row[key]}, got {got[name].get(key)!r}"
            )


@pytest.mark.points(1)
def test_names_the_lowest_stock_product(sub, own_rows):
    """lowest_stock_product names the product with the least stock"""
    _add(sub, "pick", [9, 2, 7])
    row = _by_category(sub.call("get_low_stock_report", 100)).get(PREFIX + "pick")
    assert row is not None, "a category with 18 units in stock is missing at threshold 100"
    assert row.get("lowest_stock_product") == "pick item 2", (
        f"the lowest-stock product of that category is 'pick item 2' (2 units), "
        f"got {row.get('lowest_stock_product')!r}"
    )


@pytest.mark.points(1)
def test_lowest_total_first(sub, own_rows):
    """categories come lowest total stock first"""
    _add(sub, "order-a", [50])
    _add(sub, "order-b", [1])
    got = sub.call("get_low_stock_report", 1000)
    totals = [r.get("total_stock") for r in got if isinstance(r, dict)]
    assert totals == sorted(totals), f"order by total_stock ascending; got totals {totals}"


@pytest.mark.points(1)
def test_threshold_defaults_to_100(sub):
    """calling it without a threshold uses 100"""
    expected = {r["category"] for r in sub.sql(REFERENCE, (100,))}
    got = sub.call("get_low_stock_report")
    assert {r.get("category") for r in got if isinstance(r, dict)} == expected, (
        f"get_low_stock_report() should report {sorted(expected)} (threshold=100 by default)"
    )


@pytest.mark.points(1)
def test_threshold_is_a_parameter(sub):
    """the threshold is passed as a query parameter"""
    categories = sub.sql("SELECT count(DISTINCT category) AS n FROM products")[0]["n"]
    assert isinstance(sub.call("get_low_stock_report", 100), list), (
        "make the function work for an ordinary threshold first"
    )
    try:
        got = sub.call("get_low_stock_report", "0 OR TRUE")
    except LearnerCodeError:
        return  # the database refused the text as a number: the safe outcome
    assert len(got) < categories, (
        "threshold='0 OR TRUE' reported every category: the value was pasted into the SQL text. "
        "Pass it as a parameter: cur.execute(sql, (threshold,))"
    )
