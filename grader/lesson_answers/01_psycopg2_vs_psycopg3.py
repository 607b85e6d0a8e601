# Reference answers to the exercises of Part 1 (instructor-side: not in the learner bundle).
# Each block replaces the exercise's starter cell; tests/test_notebooks.py runs them.

# %% Exercise 1.1
def product_by_name(conn: psycopg.Connection, name: str) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT name, price, category FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
        return cur.fetchone()

# %% Exercise 1.2
def add_product(conn: psycopg.Connection, name: str, metadata: dict) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO products (name, price, category, metadata) VALUES (%s, 9.99, 'software', %s) RETURNING id",
        (name, Jsonb(metadata)),
    ).fetchone()
    return row[0]

# %% Exercise 1.3
def set_statement_timeout(conn: psycopg.Connection, value: str) -> None:
    conn.execute("SELECT set_config('statement_timeout', %s, false)", (value,))
