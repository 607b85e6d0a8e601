"""Visible checks for the upsert challenge (`set_price_watch`)."""

import pytest

CATEGORY = "zz-grader-upsert"
KEYS = {"product_id", "target_price", "note", "created_at", "updated_at", "inserted"}


@pytest.mark.points(2)
def test_first_call_creates_the_watch(sub):
    """the first call for a product stores its watch and returns it with inserted=True"""
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))  # left over from an interrupted check
    product = sub.sql(
        "INSERT INTO products (name, price, category) VALUES ('grader watch probe', 40, %s) RETURNING id::text AS id",
        (CATEGORY,),
    )[0]["id"]
    try:
        got = sub.call("set_price_watch", product, 31.5, "first")
        assert isinstance(got, dict), f"return a dict (e.g. dict(cur.fetchone())), not {type(got).__name__}"
        assert set(got) >= KEYS, f"the dict is missing {sorted(KEYS - set(got))}: list them after RETURNING"
        stored = sub.sql("SELECT target_price, note FROM price_watch WHERE product_id = %s", (product,))
        assert stored == [{"target_price": 31.5, "note": "first"}], (
            f"price_watch should hold target_price 31.5 and note 'first' for the product, it holds {stored}: "
            "insert the row and let get_db() commit"
        )
        assert got["inserted"] is True, (
            f"the first call created the row, so inserted should be True, got {got['inserted']!r}: "
            "add (xmax = 0) AS inserted to RETURNING"
        )
        returned = {key: got[key] for key in ("product_id", "target_price", "note")}
        assert returned == {"product_id": product, "target_price": 31.5, "note": "first"}, (
            f"the returned watch should be product_id={product}, target_price=31.5, note='first'; got "
            f"{returned}: return the columns that RETURNING gives back"
        )
    finally:
        sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))
