# Reference answers to the exercises of Part 6 (instructor-side: not in the learner bundle).

# %% Exercise 6.1
def pg_array_literal(items: list[str]) -> str:
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"

# %% Exercise 6.2
def load_supplier_csv(conn: psycopg2.extensions.connection, csv_text: str) -> int:
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.StringIO(csv_text))
        loaded = cur.rowcount
    conn.commit()
    return loaded

# %% Exercise 6.3
from psycopg2 import sql


def export_category_csv(conn: psycopg2.extensions.connection, category: str) -> str:
    out = io.StringIO()
    statement = sql.SQL("COPY (SELECT name, price FROM products WHERE category = {}) TO STDOUT WITH (FORMAT csv)")
    with conn.cursor() as cur:
        cur.copy_expert(statement.format(sql.Literal(category)), out)
    conn.rollback()
    return out.getvalue()
