"""Visible checks for the statement-timeout challenge (`run_with_timeout`)."""

import pytest

from pglab.checks.submission import LearnerCodeError

QUERY = "SELECT name, price FROM products WHERE category = %s ORDER BY name, id LIMIT 5"


@pytest.mark.points(2)
def test_a_fast_query_returns_its_rows_as_dicts(sub):
    """a fast query with a parameter returns its rows as a list of dicts; a cancelled one gives None"""
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
    try:
        slow = sub.call("run_with_timeout", "SELECT pg_sleep(3)", [], 200)
    except LearnerCodeError as err:
        pytest.fail(f"SELECT pg_sleep(3) with timeout_ms=200 raised {err.type_name}: catch "
                    "psycopg2.errors.QueryCanceled and return None")
    assert slow is None, (
        f"SELECT pg_sleep(3) with timeout_ms=200 returned {slow!r}: set statement_timeout from timeout_ms "
        "for this transaction, and return None when the statement was cancelled"
    )
