"""Visible checks for the advanced challenge (`MonitoredPool`)."""

import pytest

HEALTH_KEYS = {
    "status",
    "db_reachable",
    "pool_min",
    "pool_max",
    "checkout_count",
    "total_wait_ms",
    "avg_wait_ms",
    "error_count",
}


@pytest.mark.points(2)
def test_lends_a_working_connection_and_reports_health(sub):
    """connection() lends a working connection; health_check() reports the pool"""
    got = sub.run("""
pool_ = MonitoredPool(1, 3, dsn=DATABASE_URL)
try:
    with pool_.connection() as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 40 + 2 AS answer")
            row = cur.fetchone()
    health = pool_.health_check()
finally:
    pool_.close()
result = {"row": list(row.values()) if hasattr(row, "values") else list(row), "health": health}
""")
    assert got["row"] == [42], f"a query through connection() should return 42, got {got['row']}"
    health = got["health"]
    assert isinstance(health, dict), "health_check() should return a dict"
    assert set(health) >= HEALTH_KEYS, f"health_check() is missing {sorted(HEALTH_KEYS - set(health))}"
    assert health["status"] == "healthy" and health["db_reachable"] is True, (
        f"with the database up, status should be 'healthy' and db_reachable True; got {health}"
    )
    assert health["pool_min"] == 1 and health["pool_max"] == 3, "pool_min/pool_max should echo 1 and 3"
    assert health["checkout_count"] >= 1, "checkout_count should count the connection() you made"
