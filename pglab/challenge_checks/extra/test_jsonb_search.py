"""Visible checks for the array and JSONB search challenge (`search_products`)."""

import json

import pytest

CATEGORY = "zz-grader-search-visible"
PRODUCTS = [  # name, price, tags, metadata
    ("zz grader lamp", 30, ["zz-grader-desk", "zz-grader-light"], {"zz_grader": "visible", "room": "office"}),
    ("zz grader chair", 80, ["zz-grader-desk"], {"zz_grader": "visible", "room": "office"}),
    ("zz grader chair", 85, ["zz-grader-desk"], {"zz_grader": "visible", "room": "office", "arms": True}),
    ("zz grader board", 15, ["zz-grader-desk"], {"zz_grader": "visible", "room": "kitchen"}),
    ("zz grader rug", 60, ["zz-grader-floor"], {"zz_grader": "visible", "room": "office"}),
]


@pytest.mark.points(2)
def test_finds_products_by_tag_and_metadata(sub):
    """returns the products with the tag and the metadata, as Product objects ordered by name, then id"""
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))  # left over from an interrupted check
    try:
        for name, price, tags, metadata in PRODUCTS:
            sub.sql(
                "INSERT INTO products (name, price, category, tags, metadata) VALUES (%s, %s, %s, %s, %s)",
                (name, price, CATEGORY, tags, json.dumps(metadata)),
            )
        expected = [
            r["id"]
            for r in sub.sql(
                "SELECT id::text AS id FROM products WHERE tags && %s AND metadata @> %s ORDER BY name, id",
                (["zz-grader-desk"], json.dumps({"zz_grader": "visible", "room": "office"})),
            )
        ]
        got = sub.call("search_products", ["zz-grader-desk"], {"zz_grader": "visible", "room": "office"})
        assert isinstance(got, list), f"return a list of Product, not {type(got).__name__}"
        assert all(isinstance(p, dict) and p.get("__type__") == "Product" for p in got), (
            "each item should be a Product: build them with Product.from_row(row)"
        )
        ids = [p.get("id") for p in got]
        assert sorted(map(str, ids)) == sorted(expected), (
            f"expected the {len(expected)} products tagged 'zz-grader-desk' whose metadata contains "
            f"room=office, got {len(got)}: filter with tags && %s AND metadata @> %s"
        )
        assert ids == expected, "the products are not in order: ORDER BY name, id"
    finally:
        sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))
