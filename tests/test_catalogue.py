"""pglab.learner.catalogue against the real course database.

Every test that writes uses its own category (``test-catalogue-<random>``) and deletes it afterwards,
so the shared catalogue is left as it was found.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime

import psycopg2
import psycopg2.errors
import pytest

from pglab.learner import catalogue
from pglab.learner.catalogue import InsufficientStock, PoolNotInitialized, Product

NASTY_PIECES = [
    ",", '"', "'", "{", "}", "\\", "\\\\", " ", "  ", "NULL", "null", "()", "[]", ";", "\t", "\n",
    "é", "日本", "🐘", "kids, 3+", "12\" vinyl", "collector's item", "a\\\"b", "{,}", "\\N", "\\.",
]
FIXED_NASTY_TAGS = ["", " ", "NULL", "{}", "a,b", '"', "\\", '\\"', "}{", "ü,ö", "\\.", "\\N"]


def nasty_strings(rng: random.Random, count: int) -> list[str]:
    """Strings glued from pieces that break hand-built array literals, CSV or COPY escaping."""
    return ["".join(rng.choice(NASTY_PIECES) for _ in range(rng.randint(1, 5))) for _ in range(count)]


@pytest.fixture()
def category(course_url: str) -> Iterator[str]:
    """A category of our own; every product in it is deleted when the test ends."""
    name = f"test-catalogue-{uuid.uuid4().hex[:8]}"
    yield name
    conn = psycopg2.connect(course_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM products WHERE category = %s", (name,))
    finally:
        conn.close()


@pytest.fixture()
def pool(course_url: str) -> Iterator[None]:
    catalogue.init_pool(course_url, min_conn=1, max_conn=3)
    yield
    catalogue.close_pool()


def scalar(conn: psycopg2.extensions.connection, query: str, params: tuple[object, ...] = ()) -> object:
    with conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    conn.rollback()
    assert row is not None
    return row[0]


def test_get_db_before_init_pool_says_what_to_do() -> None:
    catalogue.close_pool()
    with pytest.raises(PoolNotInitialized, match=r"call init_pool\(\)"), catalogue.get_db():
        pass


def test_init_pool_reads_database_url(course_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", course_url)
    catalogue.init_pool()
    try:
        with catalogue.get_db() as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database() AS db, current_setting('statement_timeout') AS st")
            row = cur.fetchone()
        assert row["st"] == "30s"  # the pool's options= reached the server; rows are dict-like
    finally:
        catalogue.close_pool()
    catalogue.close_pool()  # twice is harmless


def test_init_db_is_idempotent_and_uses_the_schema_file(pool: None) -> None:
    assert "CREATE TABLE IF NOT EXISTS products" in catalogue.schema_sql()
    assert not hasattr(catalogue, "SCHEMA_SQL")
    catalogue.init_db()
    catalogue.init_db()


def test_product_from_row_matches_the_table(pool: None) -> None:
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {catalogue.COLUMNS} FROM products WHERE tags <> '{{}}' LIMIT 1")
        row = cur.fetchone()
    product = Product.from_row(row)
    assert isinstance(product.id, uuid.UUID)
    assert isinstance(product.price, float) and product.price == float(row["price"])
    assert isinstance(product.tags, list) and product.tags
    assert isinstance(product.metadata, dict)
    assert isinstance(product.created_at, datetime) and product.created_at.tzinfo is not None


def test_crud_round_trip_with_returning(pool: None, category: str) -> None:
    before = datetime.now().astimezone()
    created = catalogue.create_product(
        "Python Widget", 29.99, category, tags=["python", "kids, 3+"],
        metadata={"license": "MIT", "nested": {"v": [1, 2]}}, stock=5,
    )
    assert isinstance(created.id, uuid.UUID)  # the server's default, returned by RETURNING
    assert created.created_at is not None and created.created_at >= before.replace(microsecond=0)
    assert (created.price, created.stock, created.tags) == (29.99, 5, ["python", "kids, 3+"])
    assert created.metadata == {"license": "MIT", "nested": {"v": [1, 2]}}

    assert catalogue.get_product(created.id) == created
    assert [p.id for p in catalogue.list_products_by_category(category)] == [created.id]

    cheaper = catalogue.create_product("Cheap Widget", 1.5, category)
    assert (cheaper.tags, cheaper.metadata, cheaper.stock) == ([], {}, 0)
    assert [p.name for p in catalogue.list_products_by_category(category)] == ["Cheap Widget",
                                                                                "Python Widget"]

    assert catalogue.delete_product(created.id) is True
    assert catalogue.get_product(created.id) is None
    assert catalogue.delete_product(created.id) is False


def test_search_by_tag_matches_sql_counts(pool: None, conn: psycopg2.extensions.connection) -> None:
    for tag in ("python", "eco-friendly", "kids, 3+", "collector's item", '12" vinyl', "no-such-tag"):
        expected = scalar(conn, "SELECT count(*) FROM products WHERE %s = ANY(tags)", (tag,))
        found = catalogue.search_by_tag(tag)
        assert len(found) == expected, tag
        assert all(tag in p.tags for p in found)
    assert scalar(conn, "SELECT count(*) FROM products WHERE 'python' = ANY(tags)") > 0


def test_search_by_metadata_matches_sql_counts(pool: None, conn: psycopg2.extensions.connection) -> None:
    mit = scalar(conn, "SELECT count(*) FROM products WHERE metadata->>'license' = 'MIT'")
    assert mit > 0
    found = catalogue.search_by_metadata({"license": "MIT"})
    assert len(found) == mit
    assert {p.category for p in found} == {"software"}

    brand, color = "Kestrel", "white"
    both = scalar(conn, "SELECT count(*) FROM products WHERE metadata->>'brand' = %s "
                        "AND metadata->>'color' = %s", (brand, color))
    assert len(catalogue.search_by_metadata({"brand": brand, "color": color})) == both
    assert catalogue.search_by_metadata({"license": "no such licence"}) == []


def test_update_stock_returns_the_row_and_refuses_going_below_zero(pool: None, category: str) -> None:
    product = catalogue.create_product("Stocked", 10, category, stock=3)
    assert product.id is not None
    updated = catalogue.update_stock(product.id, -2)
    assert updated is not None and updated.stock == 1
    assert updated.updated_at is not None and product.updated_at is not None
    assert updated.updated_at >= product.updated_at

    with pytest.raises(InsufficientStock, match="below zero") as info:
        catalogue.update_stock(product.id, -2)
    assert isinstance(info.value.__cause__, psycopg2.errors.CheckViolation)
    again = catalogue.get_product(product.id)
    assert again is not None and again.stock == 1  # nothing changed

    assert catalogue.update_stock(uuid.uuid4(), 1) is None


def test_get_db_rolls_back_on_exception_and_returns_the_connection(
    course_url: str, category: str, conn: psycopg2.extensions.connection
) -> None:
    catalogue.init_pool(course_url, min_conn=1, max_conn=1)
    try:
        with pytest.raises(RuntimeError, match="boom"), catalogue.get_db() as db, db.cursor() as cur:
            cur.execute("INSERT INTO products (name, price, category) VALUES ('ghost', 1, %s)",
                        (category,))
            raise RuntimeError("boom")
        assert scalar(conn, "SELECT count(*) FROM products WHERE category = %s", (category,)) == 0
        # max_conn=1: this works only if the connection went back to the pool, rolled back
        with catalogue.get_db() as db, db.cursor() as cur:
            cur.execute("SELECT count(*) AS n FROM products WHERE category = %s", (category,))
            assert cur.fetchone()["n"] == 0
    finally:
        catalogue.close_pool()


def test_get_db_discards_a_connection_whose_backend_died(course_url: str) -> None:
    catalogue.init_pool(course_url, min_conn=1, max_conn=1)
    try:
        with pytest.raises(psycopg2.OperationalError), catalogue.get_db() as db, db.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        with catalogue.get_db() as db, db.cursor() as cur:  # a fresh connection, not the dead one
            cur.execute("SELECT 1 AS one")
            assert cur.fetchone()["one"] == 1
    finally:
        catalogue.close_pool()


def test_the_challenges_get_db_discards_a_dead_connection_too(course_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The challenges' set-up hands learners a get_db of its own pool: the same rule must hold there."""
    monkeypatch.setenv("DATABASE_URL", course_url)
    import pglab.learner.challenge_setup as challenge

    with pytest.raises(psycopg2.OperationalError), challenge.get_db() as db, db.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    with challenge.get_db() as db, db.cursor() as cur:  # the pool's last one back: it must not be the dead one
        cur.execute("SELECT 1 AS one")
        assert cur.fetchone()["one"] == 1


def test_pg_array_literal_quotes_everything() -> None:
    assert catalogue.pg_array_literal([]) == "{}"
    assert catalogue.pg_array_literal(["a,b", 'say "hi"', "NULL"]) == '{"a,b","say \\"hi\\"","NULL"}'
    with pytest.raises(ValueError, match="NUL"):
        catalogue.pg_array_literal(["a\x00b"])


def test_pg_array_literal_is_what_postgresql_parses(conn: psycopg2.extensions.connection) -> None:
    tags = nasty_strings(random.Random(7), 40) + FIXED_NASTY_TAGS
    assert scalar(conn, "SELECT %s::text[]", (catalogue.pg_array_literal(tags),)) == tags


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_bulk_loader_round_trips_nasty_text_exactly(pool: None, category: str, seed: int) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(30):
        tags = nasty_strings(rng, rng.randint(0, 4))
        if i < len(FIXED_NASTY_TAGS):
            tags.append(FIXED_NASTY_TAGS[i])
        rows.append({
            "name": f"{i:03d} " + nasty_strings(rng, 1)[0],
            "price": round(rng.uniform(0, 500), 2),
            "category": category,
            "tags": tags,
            "metadata": {"note": nasty_strings(rng, 1)[0], "n": i},
            "stock": rng.randint(0, 99),
        })
    rows.append({"name": "", "price": 0, "category": category})  # empty name stays '' (not NULL)
    assert catalogue.bulk_create_products(rows, chunk_size=7) == len(rows)

    stored = {p.name: p for p in catalogue.list_products_by_category(category)}
    assert len(stored) == len(rows)
    for row in rows:
        got = stored[row["name"]]
        assert got.tags == row.get("tags", []), row["name"]
        assert got.metadata == row.get("metadata", {})
        assert (got.price, got.stock) == (row["price"], row.get("stock", 0))


def test_the_lessons_array_literal_would_have_broken(conn: psycopg2.extensions.connection) -> None:
    naive = "{" + ",".join(["kids, 3+", "eco-friendly"]) + "}"
    assert scalar(conn, "SELECT %s::text[]", (naive,)) == ["kids", "3+", "eco-friendly"]
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        scalar(conn, "SELECT %s::text[]", ("{" + '12" vinyl' + "}",))


def test_bulk_loader_chunks_progress_and_generators(pool: None, category: str) -> None:
    rows = ({"name": f"gen {i}", "price": i, "category": category, "tags": ["bulk"]} for i in range(25))
    assert catalogue.bulk_create_products(rows, progress=True, chunk_size=10) == 25
    assert len(catalogue.search_by_metadata({})) >= 25
    assert catalogue.bulk_create_products([]) == 0
    with pytest.raises(ValueError):
        catalogue.bulk_create_products([], chunk_size=0)


def test_bulk_loader_is_all_or_nothing(
    pool: None, category: str, conn: psycopg2.extensions.connection
) -> None:
    rows = [{"name": f"ok {i}", "price": 1, "category": category} for i in range(10)]
    rows.append({"name": "bad", "price": -1, "category": category})  # CHECK (price >= 0), in chunk 3
    with pytest.raises(psycopg2.errors.CheckViolation):
        catalogue.bulk_create_products(rows, chunk_size=4)
    assert scalar(conn, "SELECT count(*) FROM products WHERE category = %s", (category,)) == 0
