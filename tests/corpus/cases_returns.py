"""Functions that give back the wrong kind of value: the most common beginner mistakes of all.

A function that computes its rows and forgets ``return``, or returns a dict, a generator, a tuple
or a string where the signature promises a list: each is the learner's doing, so each notebook is
graded (0 on the checks the value fails) and every failed check's message names the function and
what it returned — also where the check's own code, not an assert, tripped over the value.
"""

from __future__ import annotations

from tests.corpus.case import Case
from tests.corpus.cases_core import SEED_BEGINNER, SEED_INTERMEDIATE
from tests.corpus.cases_extra import UPSERT, flaw

ROWS = "            return [Product.from_row(row) for row in cur.fetchall()]"
FORGETS_RETURN = flaw(SEED_BEGINNER, ROWS, "            found = [Product.from_row(row) for row in cur.fetchall()]")
RETURNS_A_DICT = flaw(SEED_BEGINNER, ROWS,
                      "            return {row['id']: Product.from_row(row) for row in cur.fetchall()}")
RETURNS_A_GENERATOR = flaw(SEED_BEGINNER, ROWS,
                           "            return (Product.from_row(row) for row in cur.fetchall())")
RETURNS_A_STRING = flaw(SEED_BEGINNER, ROWS,
                        "            return '\\n'.join(str(Product.from_row(row)) for row in cur.fetchall())")
REPORT_FORGETS_RETURN = flaw(SEED_INTERMEDIATE, "            return [dict(row) for row in cur.fetchall()]",
                             "            report = [dict(row) for row in cur.fetchall()]")
WATCH_AND_FLAG = flaw(UPSERT, "        return dict(cur.fetchone())",
                      "        row = dict(cur.fetchone())\n        return row, row['inserted']")

NONE = "get_products_in_price_range returned None (a function without `return` returns None)"
CASES = [
    Case("returns-none", "core", "beginner", 0, answer=FORGETS_RETURN, reasons=(NONE, "expected list[Product]")),
    Case("returns-dict", "core", "beginner", 0, answer=RETURNS_A_DICT,
         reasons=("get_products_in_price_range returned a dict of",)),
    Case("returns-generator", "core", "beginner", 0, answer=RETURNS_A_GENERATOR,
         reasons=("get_products_in_price_range returned a generator; the check expected list[Product]",)),
    Case("returns-string", "core", "beginner", 0, answer=RETURNS_A_STRING,
         reasons=("get_products_in_price_range returned a str (",)),
    Case("returns-none", "core", "intermediate", 0, answer=REPORT_FORGETS_RETURN,
         reasons=("get_low_stock_report returned None (a function without `return` returns None)",)),
    Case("returns-tuple", "extra", "upsert_returning", 0, answer=WATCH_AND_FLAG,
         reasons=("set_price_watch returned a tuple of 2 items; the check expected dict",)),
]

# Hostile: a value far too large to send back must cost the learner the checks, not the grader its run
HUGE = flaw(SEED_BEGINNER, ROWS, "            return list(range(3_000_000))")
CASES.append(Case("returns-huge", "core", "beginner", 0, answer=HUGE, reasons=("too large to check",)))
