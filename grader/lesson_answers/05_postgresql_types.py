# Reference answers to the exercises of Part 5 (instructor-side: not in the learner bundle).

# %% Exercise 5.1
def count_with_metadata(cur: psycopg2.extensions.cursor, fragment: dict) -> int:
    cur.execute("SELECT count(*) FROM products WHERE metadata @> %s", (psycopg2.extras.Json(fragment),))
    return cur.fetchone()[0]

# %% Exercise 5.2
TAGGED_SQL = "SELECT name FROM products WHERE tags @> %s"

# %% Exercise 5.3
def to_instant(cur: psycopg2.extensions.cursor, wall_clock: datetime, zone: str) -> datetime:
    cur.execute("SELECT %s::timestamp AT TIME ZONE %s", (wall_clock, zone))
    return cur.fetchone()[0]
