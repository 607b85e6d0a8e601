# Reference answers to the exercises of Part 7 (instructor-side: not in the learner bundle).

# %% Exercise 7.1
def add_user(cur, name: str, email: str) -> tuple:
    cur.execute("INSERT INTO scratch_users (name, email) VALUES (%s, %s) RETURNING id, created_at", (name, email))
    return cur.fetchone()

# %% Exercise 7.2
def save_preference(cur, user_id: int, key: str, value: str) -> str:
    cur.execute(
        """
        INSERT INTO scratch_user_preferences AS p (user_id, key, value) VALUES (%s, %s, %s)
        ON CONFLICT (user_id, key) DO UPDATE
            SET value = EXCLUDED.value, updated_at = NOW()
            WHERE p.value IS DISTINCT FROM EXCLUDED.value
        RETURNING old.id IS NULL
        """,
        (user_id, key, value),
    )
    row = cur.fetchone()
    if row is None:
        return "unchanged"
    return "inserted" if row[0] else "updated"

# %% Exercise 7.3
def preference_id(cur, user_id: int, key: str, value: str) -> int:
    cur.execute(
        """
        WITH inserted AS (
            INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%(user)s, %(key)s, %(value)s)
            ON CONFLICT (user_id, key) DO NOTHING
            RETURNING id
        )
        SELECT id FROM inserted
        UNION ALL
        SELECT id FROM scratch_user_preferences WHERE user_id = %(user)s AND key = %(key)s
        LIMIT 1
        """,
        {"user": user_id, "key": key, "value": value},
    )
    return cur.fetchone()[0]
