# Reference answers to the exercises of Part 9 (instructor-side: not in the learner bundle).

# %% Exercise 9.1
def search_by_all_tags(tags: list[str]) -> list[Product]:
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE tags @> %s ORDER BY price, name", (list(tags),))
        return [Product.from_row(row) for row in cur.fetchall()]

# %% Exercise 9.2
def restock_category(category: str, units: int) -> list[Product]:
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE products SET stock = stock + %s, updated_at = NOW() WHERE category = %s RETURNING *",
                    (units, category))
        return [Product.from_row(row) for row in cur.fetchall()]
