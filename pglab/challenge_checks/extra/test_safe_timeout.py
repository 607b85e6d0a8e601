"""Visible checks for the statement-timeout challenge (`run_with_timeout`)."""

import pytest

QUERY = "SELECT name, price FROM products WHERE category = %s ORDER BY name, id LIMIT 5"


@pytest.mark.points(2)
def test_a_fast_query_returns_its_rows_as_dicts(sub):
    """a fast query with a parameter returns its rows as a list of dicts"""
    category = sub.sql("SELECT category FROM products GROUP BY category ORDER BY category LIMIT 1")[0]["category"]
    expected = sub.sql(QUERY, (category,))
    got = sub.call("run_with_timeout", QUERY, [category], 2000)
    assert got is not None, "a fast query with a 2 s timeout returned None: None is only for a cancelled query"
    assert isinstance(got, list) and all(isinstance(r, dict) for r in got), (
        f"return the rows as a list of dicts ([dict(row) for row in cur.fetchall()]), not {type(got).__name__}"
    )
    assert got == expected, (
        f"expected the rows {expected[:2]}..., got {got[:2]}...: run the query with its "
        "params, cur.execute(query, params)"
    )
