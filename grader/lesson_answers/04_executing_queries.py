# Reference answers to the exercises of Part 4 (instructor-side: not in the learner bundle).

# %% Exercise 4.1
def search_products(cur: psycopg2.extensions.cursor, category: str, max_price: float) -> list[tuple]:
    cur.execute("SELECT name, price FROM products WHERE category = %s AND price <= %s ORDER BY price, name",
                (category, max_price))
    return cur.fetchall()

# %% Exercise 4.2
def count_starting_with(cur: psycopg2.extensions.cursor, prefix: str, category: str) -> int:
    cur.execute("SELECT count(*) FROM products WHERE name LIKE %s AND category = %s", (prefix + "%", category))
    return cur.fetchone()[0]

# %% Exercise 4.3
def stock_summary(cur: psycopg2.extensions.cursor, max_total: int) -> list[tuple]:
    cur.execute(
        """
        WITH totals AS (
            SELECT category, count(*) AS products, sum(stock) AS total_stock
            FROM products
            GROUP BY category
            HAVING sum(stock) < %s
        )
        SELECT t.category, t.products, t.total_stock,
               (SELECT p.name FROM products AS p
                WHERE p.category = t.category
                ORDER BY p.stock, p.name
                LIMIT 1) AS least_stocked
        FROM totals AS t
        ORDER BY t.total_stock, t.category
        """,
        (max_total,),
    )
    return cur.fetchall()
