# Reference answers to the exercises of Part 3 (instructor-side: not in the learner bundle).

# %% Exercise 3.1
def safe_price(pool: psycopg2.pool.AbstractConnectionPool, name: str) -> float | None:
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT price FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
            row = cur.fetchone()
        conn.rollback()
    finally:
        pool.putconn(conn)
    return None if row is None else float(row[0])

# %% Exercise 3.2
def pool_size_per_process(limits: dict[str, int], hosts: int, workers_per_host: int, spare: int = 5) -> int:
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits.get("reserved_connections", 0) - spare)
    return max(usable // (hosts * workers_per_host), 0)
