"""Visible checks for the bulk-loading challenge (`load_products`)."""

import pytest

CATEGORY = "zz-grader-bulk-visible"
ROWS = [
    {
        "name": "grader crate a",
        "price": 12.5,
        "category": CATEGORY,
        "tags": ["wood", "large"],
        "metadata": {"origin": "pine"},
        "stock": 7,
    },
    {
        "name": "grader crate b",
        "price": 3.0,
        "category": CATEGORY,
        "tags": ["plastic"],
        "metadata": {"origin": "recycled", "colors": 3},
        "stock": 0,
    },
    {
        "name": "grader crate c",
        "price": 99.99,
        "category": CATEGORY,
        "tags": ["metal"],
        "metadata": {"origin": "steel"},
        "stock": 120,
    },
]


@pytest.mark.points(2)
def test_loads_plain_rows_and_returns_the_count(sub):
    """loads three ordinary rows, every column as sent, and returns 3"""
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))  # left over from an interrupted check
    try:
        got = sub.call("load_products", ROWS)
        stored = sub.sql(
            "SELECT name, price, category, tags, metadata, stock FROM products WHERE category = %s ORDER BY name",
            (CATEGORY,),
        )
        assert len(stored) == len(ROWS), (
            f"{len(stored)} of the {len(ROWS)} rows are in the table: COPY them and let get_db() commit"
        )
        for sent, row in zip(ROWS, stored, strict=True):
            assert row == sent, (
                f"the row {sent} was stored as {row}: write the six columns in the order "
                "the COPY column list names them"
            )
        assert got == len(ROWS), (
            f"load_products returned {got!r} for {len(ROWS)} rows: return the number "
            "of rows loaded (cur.rowcount after the COPY)"
        )
    finally:
        sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))
