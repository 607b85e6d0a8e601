"""Hidden checks for the statement-timeout challenge (`run_with_timeout`).

The scenarios run in the learner's kernel (timing is measured there, next to the call) and are
judged here. The submission's role has statement_timeout = 8s by default: a query that only stops
after 8 s was cancelled by that default, not by the learner's timeout. The pool check runs last: an
answer that keeps connections would starve the checks after it.
"""

from __future__ import annotations

from typing import Any

import pytest

from pglab.checks.submission import LearnerCodeError


def _ordinary_query_works(sub: Any) -> None:
    try:
        got = sub.call("run_with_timeout", "SELECT 40 + 2 AS answer", [], 1000)
    except LearnerCodeError as err:
        pytest.fail(f"make run_with_timeout work for an ordinary query first: it raised {err.type_name}")
    assert got == [{"answer": 42}], (
        f"make run_with_timeout work for an ordinary query first: SELECT 40 + 2 AS answer gave {got!r}"
    )


SLOW = """
import time as _time

_quick = run_with_timeout("SELECT 1 AS done FROM pg_sleep(0.3)", (), 3000)
_started = _time.perf_counter()
_slow, _error = "not run", None
try:
    _slow = run_with_timeout("SELECT pg_sleep(30)", (), 200)
except Exception as exc:
    _error = f"{type(exc).__name__}: {exc}"
result = {"quick": _quick, "slow": _slow, "error": _error, "seconds": _time.perf_counter() - _started}
"""


@pytest.mark.points(2)
def test_a_slow_query_is_cancelled_on_time(sub):
    """SELECT pg_sleep(30) with timeout_ms=200 returns None within a few seconds; 300 ms with 3 s runs"""
    got = sub.run(SLOW, timeout=25)
    assert got["quick"] == [{"done": 1}], (
        f"a 0.3 s query with timeout_ms=3000 should return [{{'done': 1}}], got {got['quick']!r}: "
        "set the timeout from timeout_ms, in milliseconds"
    )
    assert got["error"] is None, (
        f"SELECT pg_sleep(30) with timeout_ms=200 raised {got['error']}: catch "
        "psycopg2.errors.QueryCanceled and return None"
    )
    assert got["slow"] is None, (
        f"SELECT pg_sleep(30) with timeout_ms=200 returned {got['slow']!r}: return None when the statement "
        "was cancelled"
    )
    assert got["seconds"] < 5, (
        f"SELECT pg_sleep(30) with timeout_ms=200 took {got['seconds']:.1f} s to come back: set the timeout "
        "in the same transaction, before the query (SET LOCAL statement_timeout)"
    )


SESSION = """
def _show():
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        return list(cur.fetchone().values())[0]


_before = _show()
_rows = run_with_timeout("SELECT 1 AS one", (), 150)
_after = _show()
_later = "ok"
try:
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 AS done FROM pg_sleep(0.4)")
except Exception as exc:
    _later = f"{type(exc).__name__}: {exc}"
result = {"before": _before, "after": _after, "rows": _rows, "later": _later}
"""


@pytest.mark.points(2)
def test_the_session_keeps_its_own_timeout(sub):
    """afterwards the pooled connection's statement_timeout is unchanged and a 0.4 s query still runs"""
    _ordinary_query_works(sub)
    got = sub.run(SESSION, timeout=20)
    assert got["rows"] == [{"one": 1}], f"SELECT 1 AS one with timeout_ms=150 returned {got['rows']!r}"
    assert got["after"] == got["before"], (
        f"after run_with_timeout(..., 150) the pooled connection's statement_timeout is {got['after']!r} "
        f"(it was {got['before']!r}): use SET LOCAL, which ends with the transaction; a plain SET stays "
        "on the connection for its next borrower"
    )
    assert got["later"] == "ok", (
        f"a later 0.4 s query through get_db() failed ({got['later']}): the short timeout outlived "
        "run_with_timeout; use SET LOCAL"
    )


@pytest.mark.points(2)
def test_other_errors_still_raise(sub):
    """a syntax error or a missing table raises; only a cancelled statement gives None"""
    _ordinary_query_works(sub)
    for bad, what in (("SELEC 1", "a syntax error"), ("SELECT * FROM zz_grader_no_such_table", "a missing table")):
        try:
            got = sub.call("run_with_timeout", bad, [], 1000)
        except LearnerCodeError:
            continue
        pytest.fail(
            f"{what} ({bad!r}) returned {got!r} instead of raising: only a cancelled statement "
            "(psycopg2.errors.QueryCanceled) means None; let every other error reach the caller"
        )


POOL = """
import time as _time

_outcomes = []
for _ in range(10):
    _started = _time.perf_counter()
    try:
        run_with_timeout("SELECT pg_sleep(30)", (), 50)
        _outcomes.append("ok")
    except Exception as exc:
        _outcomes.append(f"{type(exc).__name__}: {exc}")
    if _time.perf_counter() - _started > 2:
        _outcomes.append("slow")
        break
_later = None
try:
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM products")
        _later = list(cur.fetchone().values())[0]
except Exception as exc:
    _later = f"{type(exc).__name__}: {exc}"
result = {"outcomes": _outcomes, "later": _later}
"""


@pytest.mark.points(2)
def test_the_pool_still_serves_after_many_timeouts(sub):
    """after 10 cancelled queries the pool still lends working connections"""
    _ordinary_query_works(sub)
    got = sub.run(POOL, timeout=30)
    assert "slow" not in got["outcomes"], (
        "make the timeout work first: SELECT pg_sleep(30) with timeout_ms=50 was not cancelled within 2 s"
    )
    failed = [(i, outcome) for i, outcome in enumerate(got["outcomes"]) if outcome != "ok"]
    if failed:
        index, outcome = failed[0]
        pytest.fail(
            f"after {index} cancelled queries, run_with_timeout raised {outcome}: each cancelled query "
            "kept its connection; give it back to the pool (get_db() does, or pool.putconn in finally)"
        )
    count = sub.sql("SELECT count(*) AS n FROM products")[0]["n"]
    assert got["later"] == count, (
        f"after 10 cancelled queries, an ordinary query through get_db() gave {got['later']!r}: "
        "return the connection to the pool rolled back"
    )
