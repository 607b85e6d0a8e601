"""Corpus for the extra assignment: the reference answers, the release stubs, and one flaw per hidden check.

The reference answers are read from the source notebooks (solution markers removed), so the corpus
follows the solutions when they change; each flawed answer is the reference with one edit, and the
edit must apply (a flaw that silently stopped applying would test nothing).
"""

from __future__ import annotations

import json

from pglab.grading.course_layout import SOURCE
from tests.corpus.case import Case

NOTEBOOKS = ("upsert_returning", "bulk_copy", "jsonb_search", "safe_timeout")


def reference(notebook: str) -> str:
    """The source notebook's answer cell as a learner would submit it."""
    cells = json.loads((SOURCE / "extra" / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    answer = next(c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "answer")
    source = "".join(answer["source"]) if isinstance(answer["source"], list) else answer["source"]
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line) + "\n"


def flaw(base: str, old: str, new: str) -> str:
    if old not in base:
        raise ValueError(f"the flaw no longer applies: {old!r} is not in the reference answer")
    return base.replace(old, new)


UPSERT = reference("upsert_returning")
BULK = reference("bulk_copy")
SEARCH = reference("jsonb_search")
TIMEOUT = reference("safe_timeout")

# -- upsert_returning -------------------------------------------------------------------------------
ALWAYS_INSERTED = flaw(UPSERT, "(xmax = 0) AS inserted", "TRUE AS inserted")
RESETS_CREATED_AT = flaw(UPSERT, "updated_at = now()", "created_at = now(),\n                    updated_at = now()")
HIDES_FOREIGN_KEY = flaw(UPSERT, "def set_price_watch(", "def _set_price_watch(") + '''

import psycopg2.errors


def set_price_watch(product_id: str, target_price: float, note: str = "") -> dict:
    """Hides the foreign-key error: an unknown product looks like success."""
    try:
        return _set_price_watch(product_id, target_price, note)
    except psycopg2.errors.ForeignKeyViolation:
        return {}
'''
NOTE_IN_SQL_TEXT = flaw(flaw(flaw(UPSERT, "VALUES (%s, %s, %s)", "VALUES (%s, %s, '{note}')"),
                             '        cur.execute(\n            """', '        cur.execute(\n            f"""'),
                        "(product_id, target_price, note),", "(product_id, target_price),")
SELECT_THEN_WRITE = '''def set_price_watch(product_id: str, target_price: float, note: str = "") -> dict:
    """Look first, then insert or update (two statements: a race with a concurrent caller)."""
    returning = "RETURNING product_id, target_price, note, created_at, updated_at"
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM price_watch WHERE product_id = %s", (product_id,))
        if cur.fetchone() is None:
            cur.execute("INSERT INTO price_watch (product_id, target_price, note) VALUES (%s, %s, %s) "
                        + returning, (product_id, target_price, note))
            inserted = True
        else:
            cur.execute("UPDATE price_watch SET target_price = %s, note = %s, updated_at = now() "
                        "WHERE product_id = %s " + returning, (target_price, note, product_id))
            inserted = False
        return {**cur.fetchone(), "inserted": inserted}
'''

# -- bulk_copy --------------------------------------------------------------------------------------
SEED_TAG_LITERAL = flaw(BULK, 'array_literal(row.get("tags", [])),', '"{" + ",".join(row.get("tags", [])) + "}",')
EMPTY_LIST_AS_ONE_EMPTY_TAG = flaw(
    BULK,
    '''        quoted = ('"' + item.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') + '"' for item in items)
        return "{" + ",".join(quoted) + "}"''',
    '''        escaped = (item.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"') for item in items)
        return '{"' + '","'.join(escaped) + '"}\'''')
PYTHON_REPR_METADATA = flaw(BULK, 'json.dumps(row.get("metadata", {})),',
                            'str(row.get("metadata", {})).replace("\'", \'"\'),')
SWALLOWS_ERRORS = flaw(BULK, '''    with get_db() as conn, conn.cursor() as cur:
        cur.copy_expert(
            "COPY products (name, price, category, tags, metadata, stock) FROM STDIN WITH (FORMAT csv)",
            buffer,
        )
        return cur.rowcount''', '''    try:
        with get_db() as conn, conn.cursor() as cur:
            cur.copy_expert(
                "COPY products (name, price, category, tags, metadata, stock) FROM STDIN WITH (FORMAT csv)",
                buffer,
            )
            return cur.rowcount
    except psycopg2.Error as err:
        print("load failed:", err)
        return 0''')
EXECUTEMANY = '''def load_products(rows: list[dict]) -> int:
    """Correct values, one transaction, but one INSERT statement per row."""
    with get_db() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (name, price, category, tags, metadata, stock) VALUES (%s, %s, %s, %s, %s, %s)",
            [(r["name"], r["price"], r["category"], list(r.get("tags", [])),
              psycopg2.extras.Json(r.get("metadata", {})), r.get("stock", 0)) for r in rows],
        )
        return len(rows)
'''

# -- jsonb_search -----------------------------------------------------------------------------------
ALL_TAGS = flaw(SEARCH, 'conditions.append("tags && %s")', 'conditions.append("tags @> %s")')
TOP_LEVEL_TEXT_EQUALITY = flaw(SEARCH, '''    conditions = ["metadata @> %s"]
    params: list = [Json(metadata)]''', '''    conditions = ["TRUE"]
    params: list = []
    for key, value in metadata.items():
        conditions.append("metadata ->> %s = %s")
        params.extend([key, str(value)])''')
EXCLUSIVE_CAP = flaw(SEARCH, 'conditions.append("price <= %s")', 'conditions.append("price < %s")')
ALWAYS_TAG_FILTER = flaw(SEARCH, '''    if any_tags:
        conditions.append("tags && %s")
        params.append(list(any_tags))''', '''    conditions.append("tags && %s")
    params.append(list(any_tags))''')
METADATA_IN_SQL_TEXT = flaw(SEARCH, '''    conditions = ["metadata @> %s"]
    params: list = [Json(metadata)]''', '''    conditions = [f"metadata @> '{json.dumps(metadata)}'"]
    params: list = []''')

# -- safe_timeout -----------------------------------------------------------------------------------
EMPTY_LIST_ON_CANCEL = flaw(TIMEOUT, "return None  # get_db() rolled back", "return []  # get_db() rolled back")
SESSION_TIMEOUT = flaw(TIMEOUT, "set_config('statement_timeout', %s, true)",
                       "set_config('statement_timeout', %s, false)")
NO_TIMEOUT_SET = flaw(TIMEOUT, """cur.execute("SELECT set_config('statement_timeout', %s, true)",""",
                      """cur.execute("SELECT %s::text AS no_timeout_set",""")
SWALLOWS_EVERY_ERROR = flaw(TIMEOUT, "except psycopg2.errors.QueryCanceled:", "except psycopg2.Error:")
KEEPS_CANCELLED_CONNECTIONS = '''def run_with_timeout(query: str, params: tuple, timeout_ms: int) -> list[dict] | None:
    """SET LOCAL, but a cancelled (or failed) query never gives its connection back."""
    conn = pool.getconn()
    with conn.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = %s", (timeout_ms,))
        try:
            cur.execute(query, params)
        except psycopg2.errors.QueryCanceled:
            return None
        rows = [dict(row) for row in cur.fetchall()]
    conn.commit()
    pool.putconn(conn)
    return rows
'''


def _case(student: str, notebook: str, points: float, answer: str | None, failing: tuple[str, ...] = (),
          reasons: tuple[str, ...] = ()) -> Case:
    return Case(student, "extra", notebook, points, answer=answer, failing=failing, reasons=reasons)


CASES: list[Case] = [
    *(_case("extra-ref", nb, 10, reference(nb)) for nb in NOTEBOOKS),
    # the release as handed out: every check fails, none gives points to a stub
    _case("extra-stub", "upsert_returning", 0, None, reasons=("NotImplementedError",), failing=(
        "test_first_call_creates_the_watch", "test_second_call_updates_the_same_watch",
        "test_update_keeps_created_at_and_moves_updated_at", "test_unknown_product_raises",
        "test_a_note_with_quotes_is_stored_as_sent", "test_holds_up_when_another_session_inserts_first")),
    _case("extra-stub", "bulk_copy", 0, None, reasons=("NotImplementedError",), failing=(
        "test_loads_plain_rows_and_returns_the_count", "test_tags_come_back_exactly_as_sent",
        "test_an_empty_tag_list_stays_empty", "test_metadata_round_trips",
        "test_one_bad_row_loads_nothing_and_raises", "test_the_batch_arrives_in_one_statement")),
    _case("extra-stub", "jsonb_search", 0, None, reasons=("NotImplementedError",), failing=(
        "test_finds_products_by_tag_and_metadata", "test_any_one_of_the_tags_is_enough",
        "test_metadata_containment_reaches_nested_keys", "test_the_price_cap_is_inclusive_and_optional",
        "test_an_empty_tag_list_does_not_filter", "test_values_with_quotes_are_parameters")),
    _case("extra-stub", "safe_timeout", 0, None, reasons=("NotImplementedError",), failing=(
        "test_a_fast_query_returns_its_rows_as_dicts", "test_a_slow_query_is_cancelled_on_time",
        "test_the_session_keeps_its_own_timeout", "test_other_errors_still_raise",
        "test_the_pool_still_serves_after_many_timeouts")),
    # upsert_returning: one flaw per hidden check
    _case("extra-always-inserted", "upsert_returning", 8, ALWAYS_INSERTED,
          failing=("test_second_call_updates_the_same_watch",), reasons=("inserted should be False",)),
    _case("extra-resets-created", "upsert_returning", 9, RESETS_CREATED_AT,
          failing=("test_update_keeps_created_at_and_moves_updated_at",),
          reasons=("leave created_at out of DO UPDATE SET",)),
    _case("extra-hides-fk", "upsert_returning", 8, HIDES_FOREIGN_KEY,
          failing=("test_unknown_product_raises",), reasons=("do not catch the error",)),
    _case("extra-note-in-sql", "upsert_returning", 9, NOTE_IN_SQL_TEXT,
          failing=("test_a_note_with_quotes_is_stored_as_sent",), reasons=("pass it as a parameter",)),
    _case("extra-select-then-write", "upsert_returning", 8, SELECT_THEN_WRITE,
          failing=("test_holds_up_when_another_session_inserts_first",),
          reasons=("UniqueViolation", "INSERT ... ON CONFLICT (product_id) DO UPDATE")),
    # bulk_copy
    _case("extra-seed-tags", "bulk_copy", 8, SEED_TAG_LITERAL,
          failing=("test_tags_come_back_exactly_as_sent",), reasons=("in double quotes",)),
    _case("extra-empty-tag", "bulk_copy", 9, EMPTY_LIST_AS_ONE_EMPTY_TAG,
          failing=("test_an_empty_tag_list_stays_empty",), reasons=("an empty list is the literal {}",)),
    _case("extra-repr-metadata", "bulk_copy", 8, PYTHON_REPR_METADATA,
          failing=("test_metadata_round_trips",), reasons=("json.dumps(metadata)",)),
    _case("extra-swallows-load", "bulk_copy", 8, SWALLOWS_ERRORS,
          failing=("test_one_bad_row_loads_nothing_and_raises",), reasons=("instead of raising",)),
    _case("extra-executemany", "bulk_copy", 9, EXECUTEMANY,
          failing=("test_the_batch_arrives_in_one_statement",), reasons=("arrived in 300 statements",)),
    # jsonb_search
    _case("extra-all-tags", "jsonb_search", 8, ALL_TAGS,
          failing=("test_any_one_of_the_tags_is_enough",), reasons=("overlap, tags && %s",)),
    _case("extra-text-equality", "jsonb_search", 8, TOP_LEVEL_TEXT_EQUALITY,
          failing=("test_metadata_containment_reaches_nested_keys",), reasons=("use containment",)),
    _case("extra-exclusive-cap", "jsonb_search", 9, EXCLUSIVE_CAP,
          failing=("test_the_price_cap_is_inclusive_and_optional",), reasons=("the cap is inclusive",)),
    _case("extra-always-tags", "jsonb_search", 9, ALWAYS_TAG_FILTER,
          failing=("test_an_empty_tag_list_does_not_filter",), reasons=("only when any_tags is not empty",)),
    _case("extra-meta-in-sql", "jsonb_search", 8, METADATA_IN_SQL_TEXT,
          failing=("test_values_with_quotes_are_parameters",), reasons=("pasted into the SQL text",)),
    # safe_timeout
    _case("extra-empty-on-cancel", "safe_timeout", 6, EMPTY_LIST_ON_CANCEL,
          failing=("test_a_slow_query_is_cancelled_on_time", "test_a_fast_query_returns_its_rows_as_dicts"),
          reasons=("return None when the statement",)),
    _case("extra-session-timeout", "safe_timeout", 8, SESSION_TIMEOUT,
          failing=("test_the_session_keeps_its_own_timeout",), reasons=("use SET LOCAL",)),
    _case("extra-no-timeout", "safe_timeout", 4, NO_TIMEOUT_SET,
          failing=("test_a_slow_query_is_cancelled_on_time", "test_the_pool_still_serves_after_many_timeouts",
                   "test_a_fast_query_returns_its_rows_as_dicts"),
          reasons=("took 8.", "make the timeout work first", "set statement_timeout from timeout_ms")),
    _case("extra-swallows-errors", "safe_timeout", 8, SWALLOWS_EVERY_ERROR,
          failing=("test_other_errors_still_raise",), reasons=("let every other error reach the caller",)),
    _case("extra-keeps-connections", "safe_timeout", 8, KEEPS_CANCELLED_CONNECTIONS,
          failing=("test_the_pool_still_serves_after_many_timeouts",), reasons=("give it back to the pool",)),
]
