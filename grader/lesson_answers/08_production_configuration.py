# Reference answers to the exercises of Part 8 (instructor-side: not in the learner bundle).

# %% Exercise 8.1
def production_connect(url: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(
        url, connect_timeout=5, application_name="pglab-08-exercise",
        options="-c statement_timeout=2s -c lock_timeout=500ms -c idle_in_transaction_session_timeout=10s",
    )

# %% Exercise 8.2
def stock_if_free(conn: psycopg2.extensions.connection, product_id) -> int | None:
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '200ms'")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            return cur.fetchone()[0]
    except psycopg2.errors.LockNotAvailable:
        conn.rollback()
        return None
