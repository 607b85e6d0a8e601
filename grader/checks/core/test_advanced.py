"""Hidden checks for the advanced challenge (`MonitoredPool`).

Each check runs a small scenario in the learner's kernel against their class (threads, a pool of
one, a database that is not there) and judges what the scenario observed, here.
"""

import pytest

DEAD_DSN = "postgresql://nobody:nothing@127.0.0.1:9/none?connect_timeout=1"


def _table(sub, name):
    sub.sql(f"DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (note text)")


@pytest.mark.points(1)
def test_commits_when_the_block_succeeds(sub):
    """commits when the with-block succeeds"""
    _table(sub, "zz_grader_commit")
    sub.run("""
p = MonitoredPool(1, 2, dsn=DATABASE_URL)
try:
    with p.connection() as conn:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO zz_grader_commit VALUES ('kept')")
finally:
    p.close()
""")
    rows = sub.sql("SELECT note FROM zz_grader_commit")
    assert rows == [{"note": "kept"}], "a row inserted in a successful block was not committed"


@pytest.mark.points(2)
def test_rolls_back_counts_and_reraises_on_error(sub):
    """rolls back, counts the error and re-raises when the block raises"""
    _table(sub, "zz_grader_rollback")
    got = sub.run("""
p = MonitoredPool(1, 2, dsn=DATABASE_URL)
raised = None
try:
    try:
        with p.connection() as conn:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO zz_grader_rollback VALUES ('lost')")
            raise ValueError("boom")
    except Exception as exc:
        raised = type(exc).__name__
    errors = p.health_check()["error_count"]
finally:
    p.close()
p = MonitoredPool(1, 1, dsn=DATABASE_URL)
died = None
try:
    try:
        with p.connection() as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    except Exception as exc:
        died = "OperationalError" if isinstance(exc, psycopg2.OperationalError) else type(exc).__name__
finally:
    p.close()
result = {"raised": raised, "errors": errors, "died": died}
""")
    assert got["raised"] == "ValueError", (
        f"the exception from the block must propagate; got {got['raised'] or 'nothing'}"
    )
    assert sub.sql("SELECT count(*) AS n FROM zz_grader_rollback")[0]["n"] == 0, (
        "the insert of a block that raised was committed: roll back on exception"
    )
    assert got["errors"] == 1, f"error_count should be 1 after one failed block, got {got['errors']}"
    assert got["died"] == "OperationalError", (
        f"a block whose connection died (the server ended it) raised {got['died']} from connection(), "
        "not the block's OperationalError: rolling back a dead connection raises too; catch that "
        "(except psycopg2.Error) and re-raise the block's own exception"
    )


@pytest.mark.points(1)
def test_always_returns_the_connection(sub):
    """returns the connection to the pool after every block, failed or not"""
    got = sub.run("""
p = MonitoredPool(1, 2, dsn=DATABASE_URL)
failures = []
try:
    for i in range(12):
        try:
            with p.connection() as conn:
                if i % 3 == 0:
                    raise RuntimeError("planned")
        except RuntimeError:
            pass
        except Exception as exc:
            failures.append(type(exc).__name__)
finally:
    p.close()
result = failures
""")
    assert got == [], (
        f"after a dozen blocks on a pool of 2, checkouts failed with {got}: return the connection in a finally block"
    )


@pytest.mark.points(2)
def test_retries_with_backoff_when_exhausted(sub):
    """waits and retries (50/100/200 ms) when the pool is momentarily exhausted; its waits add up"""
    got = sub.run("""
_started = time.perf_counter()
p = MonitoredPool(1, 1, dsn=DATABASE_URL)
held = threading.Event()
def hold():
    with p.connection():
        held.set()
        time.sleep(0.12)
t = threading.Thread(target=hold)
t.start()
held.wait(5)
outcome = "ok"
try:
    with p.connection() as conn:
        pass
except Exception as exc:
    outcome = type(exc).__name__
t.join()
snapshots = []
for _ in range(5):  # quick checkouts after the slow one: their waits add to the total
    with p.connection():
        pass
    snapshots.append(p.health_check())
health = snapshots[-1]
p.close()
result = {"outcome": outcome, "wait": health["total_wait_ms"], "elapsed": (time.perf_counter() - _started) * 1000,
          "averages": [[s["avg_wait_ms"], s["total_wait_ms"], s["checkout_count"]] for s in snapshots]}
""")
    assert got["outcome"] == "ok", (
        f"a checkout while the only connection is busy for 120 ms failed with {got['outcome']}: "
        "retry getconn() after 50, 100 and 200 ms"
    )
    assert got["wait"] >= 40, (
        f"total_wait_ms should include the ~50-150 ms spent retrying, got {got['wait']}: "
        "add each checkout's wait to the total, do not replace it"
    )
    assert got["wait"] <= got["elapsed"] + 1, (
        f"total_wait_ms is {got['wait']}, more than the {got['elapsed']:.0f} ms the whole scenario took: "
        "a wait is (time.perf_counter() - started) * 1000, in milliseconds"
    )
    # Five snapshots with five different counts: an average cut to a whole number (// or int()) is
    # within 0.05 of total / count in all five only if the total happens to sit on a common multiple.
    for average, total, count in got["averages"]:
        assert count > 0 and abs(average - total / count) < 0.05, (
            f"avg_wait_ms is {average!r} with total_wait_ms {total!r} over checkout_count {count!r}: "
            "avg_wait_ms is total_wait_ms / checkout_count (true division, not //)"
        )


@pytest.mark.points(1)
def test_gives_up_after_three_retries(sub):
    """raises PoolError after three retries (about 350 ms), not sooner and not never"""
    # Counted, not timed: the getconn() attempts made while the pool stays exhausted, and the pauses
    # the class asked time.sleep() for between them.
    got = sub.run(
        """
p = MonitoredPool(1, 1, dsn=DATABASE_URL)
held, release = threading.Event(), threading.Event()
def hold():
    with p.connection():
        held.set()
        release.wait(5)
t = threading.Thread(target=hold)
t.start()
held.wait(5)
attempts, pauses = [], []
real_getconn, real_sleep = psycopg2.pool.ThreadedConnectionPool.getconn, time.sleep
def counted_getconn(self, *args, **kwargs):
    if threading.current_thread() is threading.main_thread():
        attempts.append(1)
    return real_getconn(self, *args, **kwargs)
def counted_sleep(seconds):
    if threading.current_thread() is threading.main_thread():
        pauses.append(seconds)
    real_sleep(seconds)
psycopg2.pool.ThreadedConnectionPool.getconn, time.sleep = counted_getconn, counted_sleep
outcome = "ok"
try:
    with p.connection():
        pass
except Exception as exc:
    outcome = type(exc).__name__
finally:
    psycopg2.pool.ThreadedConnectionPool.getconn, time.sleep = real_getconn, real_sleep
release.set()
t.join()
p.close()
result = {"outcome": outcome, "attempts": len(attempts), "paused": round(sum(pauses), 3)}
""",
        timeout=15,
    )
    assert got["outcome"] == "PoolError", (
        f"when the pool stays exhausted, connection() should raise PoolError; got {got['outcome']}"
    )
    assert got["attempts"] == 4, (
        f"it called getconn() {got['attempts']} time(s) before giving up: once, then three retries"
    )
    assert 0.3 <= got["paused"] <= 0.4, (
        f"it paused {got['paused']} s in time.sleep() between attempts: 50, 100 and 200 ms"
    )


@pytest.mark.points(1)
def test_metrics_are_exact_under_threads(sub):
    """checkout_count is exact with 8 threads doing 25 checkouts each"""
    got = sub.run(
        """
p = MonitoredPool(2, 8, dsn=DATABASE_URL)
def work():
    for _ in range(25):
        with p.connection():
            pass
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
health = p.health_check()
p.close()
result = health
""",
        timeout=30,
    )
    assert got["checkout_count"] in (200, 201), (
        f"8 threads x 25 checkouts should count 200, got {got['checkout_count']}: guard the counters with a lock"
    )
    assert got["error_count"] == 0, f"no block failed, but error_count is {got['error_count']}"


@pytest.mark.points(1)
def test_health_check_reports_a_dead_database(sub):
    """health_check() says degraded, without raising, when the database is unreachable"""
    got = sub.run(
        f"""
p = MonitoredPool(0, 2, dsn={DEAD_DSN!r})
try:
    result = p.health_check()
finally:
    p.close()
""",
        timeout=20,
    )
    assert isinstance(got, dict), "health_check() should return a dict even when the database is down"
    assert got.get("status") == "degraded" and got.get("db_reachable") is False, (
        f"with the database unreachable: status 'degraded', db_reachable False; got {got}"
    )
    assert got.get("checkout_count") == 0 and got.get("total_wait_ms") == 0, (
        f"a pool that never lent a connection reports checkout_count {got.get('checkout_count')!r} and "
        f"total_wait_ms {got.get('total_wait_ms')!r}: start the counters at 0 and count a checkout "
        "only once getconn() gave a connection"
    )
    assert got.get("avg_wait_ms") in (0, None), (
        f"a pool that never lent a connection reports avg_wait_ms {got.get('avg_wait_ms')!r}: with no "
        "checkout there is no average, report 0"
    )


@pytest.mark.points(1)
def test_close_closes_every_connection(sub):
    """close() closes the pool's connections"""
    got = sub.run("""
import psycopg2.extensions
_zz_made = []
class _ZzCounted(psycopg2.extensions.connection):  # each connection the pool opens, to ask it after close()
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _zz_made.append(self)
p = MonitoredPool(3, 5, dsn=DATABASE_URL, application_name="zz_grader_close", connection_factory=_ZzCounted)
with p.connection():
    pass
p.close()
import sys
sys.modules["__main__"].__dict__["_zz_grader_keep"] = p  # a pool still referenced: only close() may close it
result = {"made": len(_zz_made), "open": sum(1 for c in _zz_made if not c.closed)}
""")
    if got["made"]:  # asked on the learner's side: no race with the server noticing the sockets closed
        assert got["open"] == 0, f"{got['open']} connection(s) are still open after close(): call closeall()"
        return
    import time

    for _ in range(20):  # the pool did not pass connection_factory on: ask the server
        left = sub.sql("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'zz_grader_close'")
        if left[0]["n"] == 0:
            return
        time.sleep(0.1)
    pytest.fail(f"{left[0]['n']} connection(s) are still open after close(): call closeall()")
