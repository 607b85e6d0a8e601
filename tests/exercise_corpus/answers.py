"""The corpus itself: per exercise, classic mistakes (WRONG) and other right answers (FAIR)."""

from __future__ import annotations

from tests.exercise_corpus import Mistake

WRONG: dict[str, list[Mistake]] = {
    "1.1": [
        Mistake("f-string", '''
def product_by_name(conn, name):
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT name, price, category FROM products WHERE name = '{name}' ORDER BY id LIMIT 1")
        return cur.fetchone()
''', "two products are called"),
        Mistake("tuples, not dicts", '''
def product_by_name(conn, name):
    return conn.execute("SELECT name, price, category FROM products WHERE name = %s ORDER BY id LIMIT 1",
                        (name,)).fetchone()
''', "is the dict"),
        Mistake("SELECT *", '''
def product_by_name(conn, name):
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
        return cur.fetchone()
''', "is the dict"),
        Mistake("no ORDER BY", '''
def product_by_name(conn, name):
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT name, price, category FROM products WHERE name = %s", (name,))
        return cur.fetchone()
''', "the one with the smaller id"),
        Mistake("fetchall()[0]", '''
def product_by_name(conn, name):
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT name, price, category FROM products WHERE name = %s ORDER BY id", (name,))
        return cur.fetchall()[0]
''', "returns None"),
    ],
    "1.2": [
        Mistake("json.dumps in Jsonb", '''
import json
def add_product(conn, name, metadata):
    return conn.execute("INSERT INTO products (name, price, category, metadata) VALUES (%s, 9.99, 'software', %s) "
                        "RETURNING id", (name, Jsonb(json.dumps(metadata)))).fetchone()[0]
''', "not a string"),
        Mistake("commits", '''
def add_product(conn, name, metadata):
    new_id = conn.execute("INSERT INTO products (name, price, category, metadata) VALUES (%s, 9.99, 'software', %s) "
                          "RETURNING id", (name, Jsonb(metadata))).fetchone()[0]
    conn.commit()
    return new_id
''', "nothing committed"),
        Mistake("f-string", '''
import json
def add_product(conn, name, metadata):
    return conn.execute(f"INSERT INTO products (name, price, category, metadata) VALUES ('{name}', 9.99, "
                        f"'software', '{json.dumps(metadata)}') RETURNING id").fetchone()[0]
''', "returned the new id"),
    ],
    "1.3": [
        Mistake("f-string SET", '''
def set_statement_timeout(conn, value):
    conn.execute(f"SET statement_timeout = '{value}'")
''', "is refused by the server"),
        Mistake("local", '''
def set_statement_timeout(conn, value):
    conn.execute("SELECT set_config('statement_timeout', %s, true)", (value,))
''', "the session's statement_timeout is 3s"),
        Mistake("swallows errors", '''
def set_statement_timeout(conn, value):
    try:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (value,))
    except Exception:
        pass
''', "'forever' is refused"),
        Mistake("SET with a placeholder", '''
def set_statement_timeout(conn, value):
    conn.execute("SET statement_timeout = %s", (value,))
''', "the session's statement_timeout is 3s"),
    ],
    "2.1": [
        Mistake("URL by hand", '''
def connect_as(url, app_name):
    return psycopg2.connect(f"{url}?application_name={app_name}&connect_timeout=5")
''', "returned an open psycopg2 connection"),
        Mistake("no connect_timeout", '''
def connect_as(url, app_name):
    return psycopg2.connect(url, application_name=app_name)
''', "connect_timeout is 5"),
        Mistake("SET afterwards, f-string", '''
def connect_as(url, app_name):
    conn = psycopg2.connect(url, connect_timeout=5)
    with conn.cursor() as cur:
        cur.execute(f"SET application_name = '{app_name}'")
    conn.commit()
    return conn
''', "returned an open psycopg2 connection"),
    ],
    "2.2": [
        Mistake("every error is a refusal", '''
def diagnose(url):
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except Exception:
        return "refused by the server"
    return "connected"
''', "a port where nothing listens"),
        Mistake("'refused' matches Connection refused", '''
def diagnose(url):
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as err:
        return "refused by the server" if "refused" in str(err) or "FATAL" in str(err) else "nothing listens"
    return "connected"
''', "a port where nothing listens"),
        Mistake("only passwords", '''
def diagnose(url):
    try:
        psycopg2.connect(url, connect_timeout=5).close()
    except psycopg2.OperationalError as err:
        return "refused by the server" if "password" in str(err) else "nothing listens"
    return "connected"
''', "a database that does not exist"),
    ],
    "3.1": [
        Mistake("leaks on the early return", '''
def safe_price(pool, name):
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SELECT price FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
        row = cur.fetchone()
    if row is None:
        return None
    pool.putconn(conn)
    return float(row[0])
''', "nothing leaked"),
        Mistake("swallows the error", '''
def safe_price(pool, name):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT price FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
            row = cur.fetchone()
        return None if row is None else float(row[0])
    except Exception:
        return None
    finally:
        pool.putconn(conn)
''', "reaches the caller"),
        Mistake("f-string", '''
def safe_price(pool, name):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT price FROM products WHERE name = '{name}' ORDER BY id LIMIT 1")
            row = cur.fetchone()
    finally:
        pool.putconn(conn)
    return None if row is None else float(row[0])
''', "comes back as the float"),
        Mistake("Decimal, not float", '''
def safe_price(pool, name):
    conn = pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT price FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
            row = cur.fetchone()
    finally:
        pool.putconn(conn)
    return None if row is None else row[0]
''', "comes back as the float"),
    ],
    "3.2": [
        Mistake("no clamp", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits.get("reserved_connections", 0) - spare)
    return usable // (hosts * workers_per_host)
''', "max=5"),
        Mistake("true division", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits.get("reserved_connections", 0) - spare)
    return max(usable / (hosts * workers_per_host), 0)
''', "expected the int"),
        Mistake("reserved_connections forgotten", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    usable = limits["max_connections"] - limits["superuser_reserved_connections"] - spare
    return max(usable // (hosts * workers_per_host), 0)
''', "reserved=12"),
        Mistake("spare forgotten", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits.get("reserved_connections", 0))
    return max(usable // (hosts * workers_per_host), 0)
''', "is 23"),
        Mistake("reserved_connections required", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits["reserved_connections"] - spare)
    return max(usable // (hosts * workers_per_host), 0)
''', "a missing reserved_connections counts as 0"),
        Mistake("no spare by default", '''
def pool_size_per_process(limits, hosts, workers_per_host, spare=0):
    usable = (limits["max_connections"] - limits["superuser_reserved_connections"]
              - limits.get("reserved_connections", 0) - spare)
    return max(usable // (hosts * workers_per_host), 0)
''', "spare defaults to 5"),
    ],
    "4.1": [
        Mistake("< for at most", '''
def search_products(cur, category, max_price):
    cur.execute("SELECT name, price FROM products WHERE category = %s AND price < %s ORDER BY price, name",
                (category, max_price))
    return cur.fetchall()
''', "up to 12: these 6 rows"),
        Mistake("ties not by name", '''
def search_products(cur, category, max_price):
    cur.execute("SELECT name, price FROM products WHERE category = %s AND price <= %s ORDER BY price",
                (category, max_price))
    return cur.fetchall()
''', "up to 12: these 6 rows"),
        Mistake("f-string category", '''
def search_products(cur, category, max_price):
    cur.execute(f"SELECT name, price FROM products WHERE category = '{category}' AND price <= %s "
                "ORDER BY price, name", (max_price,))
    return cur.fetchall()
''', "up to 12: these 6 rows"),
        Mistake("f-string max_price", '''
def search_products(cur, category, max_price):
    cur.execute(f"SELECT name, price FROM products WHERE category = %s AND price <= {max_price} "
                "ORDER BY price, name", (category,))
    return cur.fetchall()
''', "both the category and max_price went as parameters"),
    ],
    "4.2": [
        Mistake("ILIKE", '''
def count_starting_with(cur, prefix, category):
    cur.execute("SELECT count(*) FROM products WHERE name ILIKE %s AND category = %s", (prefix + "%", category))
    return cur.fetchone()[0]
''', '"O\'Malley" in'),
        Mistake("f-string pattern", '''
def count_starting_with(cur, prefix, category):
    cur.execute(f"SELECT count(*) FROM products WHERE name LIKE '{prefix}%%' AND category = %s", (category,))
    return cur.fetchone()[0]
''', "'Tab\\t' in"),
        Mistake("contains, not starts with", '''
def count_starting_with(cur, prefix, category):
    cur.execute("SELECT count(*) FROM products WHERE name LIKE %s AND category = %s", ("%" + prefix + "%", category))
    return cur.fetchone()[0]
''', '"O\'Malley" in'),
        Mistake("category forgotten", '''
def count_starting_with(cur, prefix, category):
    cur.execute("SELECT count(*) FROM products WHERE name LIKE %s", (prefix + "%",))
    return cur.fetchone()[0]
''', '"O\'Malley" in'),
    ],
    "4.3": [
        Mistake("<= for below", '''
def stock_summary(cur, max_total):
    cur.execute("""
        SELECT category, count(*), sum(stock),
               (SELECT p.name FROM products p WHERE p.category = o.category ORDER BY p.stock LIMIT 1)
        FROM products o GROUP BY category HAVING sum(stock) <= %s ORDER BY sum(stock)""", (max_total,))
    return cur.fetchall()
''', "one category's total exactly"),
        Mistake("most stocked", '''
def stock_summary(cur, max_total):
    cur.execute("""
        SELECT category, count(*), sum(stock),
               (SELECT p.name FROM products p WHERE p.category = o.category ORDER BY p.stock DESC LIMIT 1)
        FROM products o GROUP BY category HAVING sum(stock) < %s ORDER BY sum(stock)""", (max_total,))
    return cur.fetchall()
''', "least-stocked product"),
        Mistake("a query per category", '''
def stock_summary(cur, max_total):
    cur.execute("SELECT category, count(*), sum(stock) FROM products GROUP BY category HAVING sum(stock) < %s "
                "ORDER BY sum(stock)", (max_total,))
    rows = cur.fetchall()
    out = []
    for category, n, total in rows:
        cur.execute("SELECT name FROM products WHERE category = %s ORDER BY stock LIMIT 1", (category,))
        out.append((category, n, total, cur.fetchone()[0]))
    return out
''', "one statement"),
        Mistake("f-string max_total", '''
def stock_summary(cur, max_total):
    cur.execute(f"""
        SELECT category, count(*), sum(stock),
               (SELECT p.name FROM products p WHERE p.category = o.category ORDER BY p.stock LIMIT 1)
        FROM products o GROUP BY category HAVING sum(stock) < {max_total} ORDER BY sum(stock)""")
    return cur.fetchall()
''', "one statement, with max_total as its parameter"),
    ],
    "5.1": [
        Mistake("->> on each key", '''
def count_with_metadata(cur, fragment):
    where = " AND ".join("metadata ->> %s = %s" for _ in fragment) or "true"
    cur.execute(f"SELECT count(*) FROM products WHERE {where}",
                [x for k, v in fragment.items() for x in (k, v if isinstance(v, str) else json.dumps(v))])
    return cur.fetchone()[0]
''', "{'platforms': ['linux']}"),
        Mistake("f-string json", '''
def count_with_metadata(cur, fragment):
    cur.execute(f"SELECT count(*) FROM products WHERE metadata @> '{json.dumps(fragment)}'")
    return cur.fetchone()[0]
''', "Brien"),
        Mistake("filter in Python", '''
def count_with_metadata(cur, fragment):
    cur.execute("SELECT metadata FROM products")
    return sum(all(m.get(k) == v for k, v in fragment.items()) for (m,) in cur.fetchall())
''', "{'platforms': ['linux']}"),
    ],
    "5.2": [
        Mistake("= ANY", '''TAGGED_SQL = "SELECT name FROM products WHERE %s = ANY(tags)"
''', "['python']: the"),
        Mistake("&& (any of)", '''TAGGED_SQL = "SELECT name FROM products WHERE tags && %s"
''', "['python', 'async']"),
        Mistake("<@ (all tags in the list)", '''TAGGED_SQL = "SELECT name FROM products WHERE tags <@ %s"
''', "['python']: the"),
        Mistake("each tag with = ANY", '''TAGGED_SQL = ("SELECT name FROM products "
              "WHERE (SELECT bool_and(t = ANY(tags)) FROM unnest(%s::text[]) AS t)")
''', "the planner can use idx_products_tags"),
    ],
    "5.3": [
        Mistake("timestamptz in the session zone", '''
def to_instant(cur, wall_clock, zone):
    cur.execute("SELECT %s::timestamptz", (wall_clock,))
    return cur.fetchone()[0]
''', "in Europe/Paris"),
        Mistake("SET TIME ZONE", '''
def to_instant(cur, wall_clock, zone):
    cur.execute("SET TIME ZONE %s", (zone,))
    cur.execute("SELECT %s::timestamptz", (wall_clock,))
    return cur.fetchone()[0]
''', "still Asia/Tokyo"),
        Mistake("in Python", '''
def to_instant(cur, wall_clock, zone):
    from zoneinfo import ZoneInfo
    return wall_clock.replace(tzinfo=ZoneInfo(zone))
''', "the server did it"),
        Mistake("AT TIME ZONE on a timestamptz", '''
def to_instant(cur, wall_clock, zone):
    cur.execute("SELECT %s::timestamptz AT TIME ZONE %s", (wall_clock, zone))
    return cur.fetchone()[0]
''', "in Europe/Paris"),
    ],
    "6.1": [
        Mistake("no quoting", '''
def pg_array_literal(items):
    return "{" + ",".join(items) + "}"
''', "a comma"),
        Mistake("backslash not escaped", '''
def pg_array_literal(items):
    return "{" + ",".join('"' + i.replace('"', '\\\\"') + '"' for i in items) + "}"
''', "a backslash"),
        Mistake("CSV-style doubled quotes", '''
def pg_array_literal(items):
    return "{" + ",".join('"' + i.replace("\\\\", "\\\\\\\\").replace('"', '""') + '"' for i in items) + "}"
''', "a double quote"),
        Mistake("a list, not a string", '''
def pg_array_literal(items):
    return list(items)
''', "expected a string"),
    ],
    "6.2": [
        Mistake("no HEADER", '''
def load_supplier_csv(conn, csv_text):
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN WITH (FORMAT csv)", io.StringIO(csv_text))
        n = cur.rowcount
    conn.commit()
    return n
''', "returns 6"),
        Mistake("no commit", '''
def load_supplier_csv(conn, csv_text):
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.StringIO(csv_text))
        return cur.rowcount
''', "another connection sees every row"),
        Mistake("executemany INSERT", '''
def load_supplier_csv(conn, csv_text):
    rows = list(csv.reader(io.StringIO(csv_text)))[1:]
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {SCRATCH} (name, price, category) VALUES (%s, %s, %s)", rows)
    conn.commit()
    return len(rows)
''', "one COPY statement"),
        Mistake("swallows errors", '''
def load_supplier_csv(conn, csv_text):
    try:
        with conn.cursor() as cur:
            cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN WITH (FORMAT csv, HEADER true)",
                            io.StringIO(csv_text))
            n = cur.rowcount
        conn.commit()
        return n
    except Exception:
        conn.rollback()
        return 0
''', "malformed file"),
        Mistake("lines counted", '''
def load_supplier_csv(conn, csv_text):
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.StringIO(csv_text))
    conn.commit()
    return len(csv_text.splitlines()) - 1
''', "returns 6"),
    ],
    "6.3": [
        Mistake("f-string", '''
from psycopg2 import sql
def export_category_csv(conn, category):
    out = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY (SELECT name, price FROM products WHERE category = '{category}') TO STDOUT "
                        "WITH (FORMAT csv)", out)
    conn.rollback()
    return out.getvalue()
''', "rows as CSV"),
        Mistake("CSV in Python", '''
def export_category_csv(conn, category):
    out = io.StringIO()
    with conn.cursor() as cur:
        cur.execute("SELECT name, price::text FROM products WHERE category = %s", (category,))
        csv.writer(out).writerows(cur.fetchall())
    conn.rollback()
    return out.getvalue()
''', "the server wrote it"),
        Mistake("with a header", '''
from psycopg2 import sql
def export_category_csv(conn, category):
    out = io.StringIO()
    statement = sql.SQL("COPY (SELECT name, price FROM products WHERE category = {}) "
                        "TO STDOUT WITH (FORMAT csv, HEADER)")
    with conn.cursor() as cur:
        cur.copy_expert(statement.format(sql.Literal(category)), out)
    conn.rollback()
    return out.getvalue()
''', "rows as CSV, no header"),
    ],
    "7.1": [
        Mistake("two round trips", '''
def add_user(cur, name, email):
    cur.execute("INSERT INTO scratch_users (name, email) VALUES (%s, %s)", (name, email))
    cur.execute("SELECT id, created_at FROM scratch_users WHERE email = %s", (email,))
    return cur.fetchone()
''', "in one round trip"),
        Mistake("f-string", '''
def add_user(cur, name, email):
    cur.execute(f"INSERT INTO scratch_users (name, email) VALUES ('{name}', '{email}') RETURNING id, created_at")
    return cur.fetchone()
''', "returned (id, created_at)"),
        Mistake("created_at from Python", '''
from datetime import datetime, timezone
def add_user(cur, name, email):
    cur.execute("INSERT INTO scratch_users (name, email) VALUES (%s, %s) RETURNING id", (name, email))
    return cur.fetchone()[0], datetime.now(timezone.utc)
''', "are what the server stored"),
        Mistake("fetchall", '''
def add_user(cur, name, email):
    cur.execute("INSERT INTO scratch_users (name, email) VALUES (%s, %s) RETURNING id, created_at", (name, email))
    return cur.fetchall()
''', "returned (id, created_at)"),
    ],
    "7.2": [
        Mistake("no WHERE on DO UPDATE", '''
def save_preference(cur, user_id, key, value):
    cur.execute("""INSERT INTO scratch_user_preferences AS p (user_id, key, value) VALUES (%s, %s, %s)
                   ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value
                   RETURNING old.id IS NULL, old.value IS NOT DISTINCT FROM new.value""", (user_id, key, value))
    inserted, same_value = cur.fetchone()
    return "inserted" if inserted else ("unchanged" if same_value else "updated")
''', "writes no new row version"),
        Mistake("SELECT first", '''
def save_preference(cur, user_id, key, value):
    cur.execute("SELECT value FROM scratch_user_preferences WHERE user_id = %s AND key = %s", (user_id, key))
    row = cur.fetchone()
    if row is None:
        cur.execute("INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%s, %s, %s)",
                    (user_id, key, value))
        return "inserted"
    if row[0] == value:
        return "unchanged"
    cur.execute("UPDATE scratch_user_preferences SET value = %s WHERE user_id = %s AND key = %s",
                (value, user_id, key))
    return "updated"
''', "in one statement"),
        Mistake("every conflict is an update", '''
def save_preference(cur, user_id, key, value):
    cur.execute("""INSERT INTO scratch_user_preferences AS p (user_id, key, value) VALUES (%s, %s, %s)
                   ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value
                   RETURNING old.id IS NULL""", (user_id, key, value))
    return "inserted" if cur.fetchone()[0] else "updated"
''', "'unchanged', in one statement"),
    ],
    "7.3": [
        Mistake("DO NOTHING RETURNING alone", '''
def preference_id(cur, user_id, key, value):
    cur.execute("INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, key) DO NOTHING RETURNING id", (user_id, key, value))
    return cur.fetchone()[0]
''', "'light') returns an id"),
        Mistake("overwrites", '''
def preference_id(cur, user_id, key, value):
    cur.execute("INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value RETURNING id", (user_id, key, value))
    return cur.fetchone()[0]
''', "left as it is"),
        Mistake("no-op update", '''
def preference_id(cur, user_id, key, value):
    cur.execute("INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, key) DO UPDATE SET key = EXCLUDED.key RETURNING id", (user_id, key, value))
    return cur.fetchone()[0]
''', "left as it is"),
        Mistake("two round trips", '''
def preference_id(cur, user_id, key, value):
    cur.execute("INSERT INTO scratch_user_preferences (user_id, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (user_id, key) DO NOTHING", (user_id, key, value))
    cur.execute("SELECT id FROM scratch_user_preferences WHERE user_id = %s AND key = %s", (user_id, key))
    return cur.fetchone()[0]
''', "returns an id in one statement"),
    ],
    "8.1": [
        Mistake("SET afterwards", '''
def production_connect(url):
    conn = psycopg2.connect(url, connect_timeout=5, application_name="pglab-08-exercise")
    with conn.cursor() as cur:
        cur.execute("SET statement_timeout = '2s'; SET lock_timeout = '500ms'; "
                    "SET idle_in_transaction_session_timeout = '10s'")
    conn.commit()
    return conn
''', "source 'client'"),
        Mistake("PGOPTIONS for the whole process", '''
def production_connect(url):
    os.environ["PGOPTIONS"] = "-c statement_timeout=2s -c lock_timeout=500ms -c idle_in_transaction_session_timeout=10s"
    return psycopg2.connect(url, connect_timeout=5, application_name="pglab-08-exercise")
''', "PGOPTIONS"),
        Mistake("no connect_timeout", '''
def production_connect(url):
    return psycopg2.connect(url, application_name="pglab-08-exercise",
        options="-c statement_timeout=2s -c lock_timeout=500ms -c idle_in_transaction_session_timeout=10s")
''', "connect_timeout = 5"),
    ],
    "8.2": [
        Mistake("SET, not SET LOCAL", '''
def stock_if_free(conn, product_id):
    try:
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '200ms'")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            return cur.fetchone()[0]
    except psycopg2.errors.LockNotAvailable:
        conn.rollback()
        return None
''', "unchanged afterwards"),
        Mistake("no rollback", '''
def stock_if_free(conn, product_id):
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '200ms'")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            return cur.fetchone()[0]
    except psycopg2.errors.LockNotAvailable:
        return None
''', "once the lock is released"),
        Mistake("catches everything", '''
def stock_if_free(conn, product_id):
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '200ms'")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            return cur.fetchone()[0]
    except Exception:
        conn.rollback()
        return None
''', "not a UUID"),
        Mistake("statement_timeout instead", '''
def stock_if_free(conn, product_id):
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL statement_timeout = '200ms'")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
            return cur.fetchone()[0]
    except psycopg2.errors.QueryCanceled:
        conn.rollback()
        return None
''', "ended by lock_timeout"),
    ],
    "9.1": [
        Mistake("any of the tags", '''
def search_by_all_tags(tags):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE tags && %s ORDER BY price", (list(tags),))
        return [Product.from_row(row) for row in cur.fetchall()]
''', "with all of them"),
        Mistake("filter in Python", '''
def search_by_all_tags(tags):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products ORDER BY price")
        return [Product.from_row(r) for r in cur.fetchall() if set(tags) <= set(r["tags"])]
''', "idx_products_tags can serve"),
        Mistake("unordered", '''
def search_by_all_tags(tags):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE tags @> %s ORDER BY price DESC", (list(tags),))
        return [Product.from_row(row) for row in cur.fetchall()]
''', "cheapest first"),
        Mistake("hand-built array literal", '''
def search_by_all_tags(tags):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE tags @> %s::text[] ORDER BY price", ("{" + ",".join(tags) + "}",))
        return [Product.from_row(row) for row in cur.fetchall()]
''', "['kids, 3+']"),
    ],
    "9.2": [
        Mistake("updated_at forgotten", '''
def restock_category(category, units):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE products SET stock = stock + %s WHERE category = %s RETURNING *", (units, category))
        return [Product.from_row(row) for row in cur.fetchall()]
''', "updated_at moved on"),
        Mistake("one UPDATE per product", '''
def restock_category(category, units):
    out = []
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM products WHERE category = %s", (category,))
        for row in cur.fetchall():
            cur.execute("UPDATE products SET stock = stock + %s, updated_at = NOW() WHERE id = %s RETURNING *",
                        (units, row["id"]))
            out.append(Product.from_row(cur.fetchone()))
    return out
''', "one UPDATE statement"),
        Mistake("f-string", '''
def restock_category(category, units):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE products SET stock = stock + {units}, updated_at = NOW() WHERE category = '{category}' "
                    "RETURNING *")
        return [Product.from_row(row) for row in cur.fetchall()]
''', "returns its 3 products"),
        Mistake("stock set, not added", '''
def restock_category(category, units):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE products SET stock = %s, updated_at = NOW() WHERE category = %s RETURNING *",
                    (units, category))
        return [Product.from_row(row) for row in cur.fetchall()]
''', "went up by 5"),
    ],
}

FAIR: dict[str, list[str]] = {
    "1.1": ['''
def product_by_name(conn, name):
    row = conn.execute("SELECT name, price, category FROM products WHERE name = %(n)s ORDER BY id LIMIT 1",
                       {"n": name}).fetchone()
    return None if row is None else dict(zip(("name", "price", "category"), row))
'''],
    "1.2": ['''
import json
def add_product(conn, name, metadata):
    cur = conn.execute("INSERT INTO products (name, price, category, metadata) "
                       "VALUES (%s, 9.99, 'software', %s::jsonb) RETURNING id", (name, json.dumps(metadata)))
    return cur.fetchone()[0]
'''],
    "1.3": ['''
from psycopg import sql
def set_statement_timeout(conn, value):
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(value)))
'''],
    "2.1": ['''
def connect_as(url, app_name):
    return psycopg2.connect(psycopg2.extensions.make_dsn(url, application_name=app_name, connect_timeout=5))
'''],
    "2.2": ['''
def diagnose(url):
    try:
        conn = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.OperationalError as err:
        return "nothing listens" if "Connection refused" in str(err) else "refused by the server"
    conn.close()
    return "connected"
'''],
    "3.1": ['''
from contextlib import contextmanager
@contextmanager
def borrowed(pool):
    conn = pool.getconn()
    try:
        yield conn
    finally:
        pool.putconn(conn)

def safe_price(pool, name):
    with borrowed(pool) as conn, conn.cursor() as cur:
        cur.execute("SELECT price::float FROM products WHERE name = %s ORDER BY id LIMIT 1", (name,))
        row = cur.fetchone()
    return row[0] if row else None
'''],
    "3.2": ['''
def pool_size_per_process(limits, hosts, workers_per_host, spare=5):
    slots = limits["max_connections"] - limits["superuser_reserved_connections"] - limits.get("reserved_connections", 0)
    return max(0, int((slots - spare) // (hosts * workers_per_host)))
'''],
    "4.1": ['''
def search_products(cur, category, max_price):
    cur.execute("SELECT name, price FROM products WHERE category = %(c)s AND price BETWEEN 0 AND %(p)s ORDER BY 2, 1",
                {"c": category, "p": max_price})
    return [tuple(r) for r in cur]
'''],
    "4.2": ['''
def count_starting_with(cur, prefix, category):
    cur.execute("SELECT count(*) FROM products WHERE category = %(c)s AND name LIKE %(p)s",
                {"c": category, "p": f"{prefix}%"})
    (n,) = cur.fetchone()
    return n
'''],
    "4.3": ['''
def stock_summary(cur, max_total):
    cur.execute("""
        SELECT category, count(*) AS n, sum(stock) AS total,
               (array_agg(name ORDER BY stock, name))[1]
        FROM products GROUP BY category HAVING sum(stock) < %(limit)s ORDER BY total""", {"limit": max_total})
    return cur.fetchall()
'''],
    "5.1": ['''
def count_with_metadata(cur, fragment):
    cur.execute("SELECT count(*) FROM products WHERE metadata @> %s::jsonb", (json.dumps(fragment),))
    return cur.fetchone()[0]
'''],
    "5.2": ['''TAGGED_SQL = "SELECT name FROM products WHERE %s::text[] <@ tags"
'''],
    "5.3": ['''
def to_instant(cur, wall_clock, zone):
    cur.execute("SELECT timezone(%(zone)s, %(wall)s::timestamp)", {"zone": zone, "wall": wall_clock})
    return cur.fetchone()[0]
'''],
    "6.1": ['''
def pg_array_literal(items):
    out = []
    for item in items:
        chars = "".join("\\\\" + ch if ch in '"\\\\' else ch for ch in item)
        out.append(f'"{chars}"')
    return "{%s}" % ",".join(out)
'''],
    "6.2": ['''
def load_supplier_csv(conn, csv_text):
    with conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY {SCRATCH} (name, price, category) FROM STDIN (FORMAT csv, HEADER)",
                        io.StringIO(csv_text))
        return cur.rowcount
'''],
    "6.3": ['''
def export_category_csv(conn, category):
    out = io.StringIO()
    with conn.cursor() as cur:
        query = cur.mogrify("SELECT name, price FROM products WHERE category = %s", (category,)).decode()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", out)
    conn.rollback()
    return out.getvalue()
'''],
    "7.1": ['''
def add_user(cur, name, email):
    cur.execute("INSERT INTO scratch_users (name, email) VALUES (%(n)s, %(e)s) RETURNING id, created_at",
                {"n": name, "e": email})
    new_id, created_at = cur.fetchone()
    return new_id, created_at
'''],
    "7.2": ['''
def save_preference(cur, user_id, key, value):
    cur.execute("""INSERT INTO scratch_user_preferences AS p (user_id, key, value) VALUES (%s, %s, %s)
                   ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value, updated_at = NOW()
                   WHERE p.value <> EXCLUDED.value
                   RETURNING (xmax = 0) AS inserted""", (user_id, key, value))
    row = cur.fetchone()
    return "unchanged" if row is None else ("inserted" if row[0] else "updated")
'''],
    "7.3": ['''
def preference_id(cur, user_id, key, value):
    cur.execute("""WITH found AS (SELECT id FROM scratch_user_preferences WHERE user_id = %(u)s AND key = %(k)s),
                        made AS (INSERT INTO scratch_user_preferences (user_id, key, value)
                                 SELECT %(u)s, %(k)s, %(v)s WHERE NOT EXISTS (SELECT 1 FROM found)
                                 ON CONFLICT DO NOTHING RETURNING id)
                   SELECT id FROM found UNION ALL SELECT id FROM made""", {"u": user_id, "k": key, "v": value})
    return cur.fetchone()[0]
'''],
    "8.1": ['''
def production_connect(url):
    return psycopg2.connect(url, connect_timeout=5, application_name="pglab-08-exercise",
                            options="-c statement_timeout=2000 -c lock_timeout=500 "
                                    "-c idle_in_transaction_session_timeout=10000")
'''],
    "8.2": ['''
def stock_if_free(conn, product_id):
    with conn.cursor() as cur:
        try:
            cur.execute("SELECT set_config('lock_timeout', '200ms', true)")
            cur.execute("SELECT stock FROM products WHERE id = %s FOR UPDATE", (product_id,))
        except psycopg2.errors.LockNotAvailable:
            conn.rollback()
            return None
        return cur.fetchone()[0]
'''],
    "9.1": ['''
def search_by_all_tags(tags):
    with catalogue.get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE %s::text[] <@ tags ORDER BY price", (tags,))
        rows = cur.fetchall()
    return [Product.from_row(r) for r in rows]
'''],
    "9.2": ['''
def restock_category(category, units):
    with catalogue.get_db() as conn:
        with conn.cursor() as cur:
            cur.execute("UPDATE products AS p SET stock = p.stock + %(u)s, updated_at = clock_timestamp() "
                        "WHERE p.category = %(c)s RETURNING p.*", {"u": units, "c": category})
            rows = cur.fetchall()
    return list(map(Product.from_row, rows))
'''],
}
