"""The course data as loaded: counts, types, constraints, indexes, and a reset that loses nothing."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import psycopg2
import pytest

from pglab.db import course_data
from pglab.settings import load_settings
from scripts.generate_products import generate_rows, render_csv


def _csv_rows(project_root: Path) -> list[dict[str, str]]:
    with (project_root / "data" / "products.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_data_file_is_what_the_generator_makes(project_root: Path) -> None:
    committed = (project_root / "data" / "products.csv").read_text(encoding="utf-8")
    assert committed == render_csv(generate_rows()), (
        "data/products.csv is stale: run python scripts/generate_products.py data/products.csv"
    )


def test_loaded_rows_match_the_data_file(conn, project_root: Path) -> None:
    rows = _csv_rows(project_root)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT category), sum(stock) FROM products")
        count, categories, stock = cur.fetchone()
    assert count == len(rows) >= 5000
    assert categories == len({r["category"] for r in rows}) >= 10
    assert stock == sum(int(r["stock"]) for r in rows)


def test_catalogue_has_what_the_lessons_query(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT category FROM products GROUP BY category HAVING sum(stock) < 500 ORDER BY 1"
        )
        low = [r[0] for r in cur.fetchall()]
        assert len(low) >= 2, "the inventory-alert challenge needs low-stock categories"
        cur.execute("SELECT count(*) FROM products WHERE metadata @> '{\"license\": \"MIT\"}'")
        assert cur.fetchone()[0] > 10
        cur.execute("SELECT count(*) FROM products WHERE tags && ARRAY['python', 'async']")
        assert cur.fetchone()[0] > 10
        cur.execute("SELECT count(*) FROM products WHERE 'kids, 3+' = ANY(tags)")
        assert cur.fetchone()[0] > 0, "a tag with a comma survives the load as one element"
        cur.execute("SELECT count(*) FROM products WHERE tags @> ARRAY['12\" vinyl']")
        assert cur.fetchone()[0] > 0


def test_schema_types_defaults_and_indexes(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'products' ORDER BY ordinal_position"
        )
        assert dict(cur.fetchall()) == {
            "id": "uuid", "name": "text", "price": "numeric", "category": "text",
            "tags": "ARRAY", "metadata": "jsonb", "stock": "integer",
            "created_at": "timestamp with time zone", "updated_at": "timestamp with time zone",
        }
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products'")
        indexes = dict(cur.fetchall())
        assert "USING gin (tags)" in indexes["idx_products_tags"]
        assert "USING gin (metadata)" in indexes["idx_products_metadata"]
        assert "(category)" in indexes["idx_products_category"]
        cur.execute(
            "INSERT INTO products (name, price, category) VALUES ('x', 1.005, 'c') "
            "RETURNING id, price, tags, metadata, stock, created_at"
        )
        new_id, price, tags, metadata, stock, created = cur.fetchone()
        assert len(str(new_id)) == 36 and str(price) == "1.01"
        assert (tags, metadata, stock) == ([], {}, 0)
        assert created.tzinfo is not None


@pytest.mark.parametrize(
    "statement, constraint",
    [
        ("INSERT INTO products (name, price, category) VALUES ('x', -1, 'c')", "products_price_check"),
        ("INSERT INTO products (name, price, category, stock) VALUES ('x', 1, 'c', -5)",
         "products_stock_check"),
    ],
)
def test_check_constraints_are_enforced(conn, statement: str, constraint: str) -> None:
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation, match=constraint):
        cur.execute(statement)


def test_null_name_is_refused(conn) -> None:
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.NotNullViolation):
        cur.execute("INSERT INTO products (price, category) VALUES (1, 'c')")


def test_reset_rebuilds_after_damage_and_ends_a_blocking_session(course_url: str) -> None:
    data_dir = load_settings().data_dir
    damage = psycopg2.connect(course_url)
    with damage.cursor() as cur:
        cur.execute("DELETE FROM products WHERE category = 'books'")
        cur.execute("CREATE TABLE scratch (n int)")
    damage.commit()
    blocker = psycopg2.connect(course_url)  # a notebook that left a transaction open
    with blocker.cursor() as cur:
        cur.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
    result: dict[str, object] = {}

    def reset() -> None:
        result["value"] = course_data.reset_course_database(course_url, data_dir)

    worker = threading.Thread(target=reset)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "reset hung behind an open transaction"
    ended, loaded = result["value"]  # type: ignore[misc]
    assert ended >= 2 and loaded >= 5000
    with pytest.raises(psycopg2.OperationalError), blocker.cursor() as cur:
        cur.execute("SELECT 1")
    with psycopg2.connect(course_url) as fresh, fresh.cursor() as cur:
        cur.execute("SELECT count(*) FROM products WHERE category = 'books'")
        assert cur.fetchone()[0] > 0
        cur.execute("SELECT to_regclass('scratch')")
        assert cur.fetchone()[0] is None
    damage.close()
    blocker.close()


def test_cli_reset_leaves_notebooks_and_data_alone(course_url: str, project_root: Path) -> None:
    import subprocess
    import sys

    from tests.support.environment import clean_environ

    watched = [*project_root.glob("notebooks/**/*.ipynb"), *project_root.glob("data/*")]
    before = {p: p.read_bytes() for p in watched}
    done = subprocess.run([sys.executable, "-m", "pglab.cli", "db", "reset"],
                          env=clean_environ(DATABASE_URL=course_url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "products" in done.stdout and "not touched" in done.stdout
    assert {p: p.read_bytes() for p in watched} == before


def test_missing_data_files_give_one_line(tmp_path: Path, course_url: str) -> None:
    with pytest.raises(course_data.DataError, match=r"course data missing in .*: schema.sql"):
        course_data.reset_course_database(course_url, tmp_path)
