"""Corpus for the core assignment: the lesson's own solutions, partial answers, broken ones."""

from __future__ import annotations

from tests.corpus.case import Case

# The lesson's reference solutions, pasted as a learner would (the lesson text lost its
# indentation; this is it restored, code unchanged). They must score full marks.
SEED_BEGINNER = '''def get_products_in_price_range(
    min_price: float,
    max_price: float,
) -> list[Product]:
    """
    Return products in the given price range, cheapest first.
    BETWEEN is inclusive on both ends: price >= min AND price <= max.
    """
    with get_db() as conn:
        with conn.cursor() as cur:
            cur.execute(
                """
                SELECT id, name, price, category, tags, metadata,
                       stock, created_at, updated_at
                FROM products
                WHERE price BETWEEN %s AND %s
                ORDER BY price ASC
                """,
                (min_price, max_price),
            )
            return [Product.from_row(row) for row in cur.fetchall()]


# Usage
budget = get_products_in_price_range(10.00, 50.00)
for p in budget:
    print(f"${p.price:.2f} {p.name}")
'''

SEED_INTERMEDIATE = '''def get_low_stock_report(threshold: int = 100) -> list[dict]:
    """
    Return categories where total stock is below threshold.
    Uses a CTE with HAVING for group-level filtering and a correlated
    subquery to identify the lowest-stock product in each category.
    """
    with get_db() as conn:
        with conn.cursor() as cur:
            cur.execute(
                """
                WITH category_stats AS (
                    SELECT
                        p.category,
                        SUM(p.stock) AS total_stock,
                        COUNT(*) AS product_count,
                        MIN(p.stock) AS min_stock,
                        (
                            SELECT p2.name
                            FROM products p2
                            WHERE p2.category = p.category
                            ORDER BY p2.stock ASC
                            LIMIT 1
                        ) AS lowest_stock_product
                    FROM products p
                    GROUP BY p.category
                    HAVING SUM(p.stock) < %s
                )
                SELECT
                    category,
                    total_stock,
                    product_count,
                    min_stock,
                    lowest_stock_product
                FROM category_stats
                ORDER BY total_stock ASC
                """,
                (threshold,),
            )
            return [dict(row) for row in cur.fetchall()]
'''

SEED_ADVANCED = '''import time
import threading
import contextlib
from dataclasses import dataclass, field

import psycopg2
import psycopg2.pool
import psycopg2.extras
import os


@dataclass
class _Metrics:
    """Thread-safe counters for pool observability."""
    checkout_count: int = 0
    total_wait_ms: float = 0.0
    error_count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_checkout(self, wait_ms: float) -> None:
        with self._lock:
            self.checkout_count += 1
            self.total_wait_ms += wait_ms

    def record_error(self) -> None:
        with self._lock:
            self.error_count += 1

    def snapshot(self) -> dict:
        with self._lock:
            avg = (
                self.total_wait_ms / self.checkout_count
                if self.checkout_count > 0 else 0.0
            )
            return {
                "checkout_count": self.checkout_count,
                "total_wait_ms": round(self.total_wait_ms, 2),
                "avg_wait_ms": round(avg, 2),
                "error_count": self.error_count,
            }


class MonitoredPool:
    """
    ThreadedConnectionPool with metrics collection and
    automatic retry on pool exhaustion.
    """

    _RETRY_DELAYS_MS = [50, 100, 200]  # exponential-ish backoff

    def __init__(self, min_conn: int, max_conn: int, **kwargs):
        self._pool = psycopg2.pool.ThreadedConnectionPool(
            min_conn, max_conn, **kwargs
        )
        self._metrics = _Metrics()
        self._min_conn = min_conn
        self._max_conn = max_conn

    def _getconn_with_retry(self):
        """Attempt getconn() with backoff on PoolError exhaustion."""
        last_exc = None
        for delay_ms in [0] + self._RETRY_DELAYS_MS:
            if delay_ms:
                time.sleep(delay_ms / 1000)
            try:
                return self._pool.getconn()
            except psycopg2.pool.PoolError as exc:
                last_exc = exc
        raise last_exc

    @contextlib.contextmanager
    def connection(self):
        """
        Borrow a connection with metrics tracking.
        Commits on success, rolls back on exception, always returns to pool.
        """
        t0 = time.perf_counter()
        conn = self._getconn_with_retry()
        wait_ms = (time.perf_counter() - t0) * 1000
        self._metrics.record_checkout(wait_ms)

        try:
            yield conn
            conn.commit()
        except Exception:
            self._metrics.record_error()
            try:
                conn.rollback()
            except psycopg2.Error:
                pass  # connection may be dead; putconn will handle cleanup
            raise
        finally:
            self._pool.putconn(conn)

    def health_check(self) -> dict:
        """
        Return pool metrics plus a live database connectivity probe.
        Safe to expose from a /healthz or /ready HTTP endpoint.
        """
        metrics = self._metrics.snapshot()
        db_ok = False
        try:
            with self.connection() as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                    db_ok = True
        except Exception:
            pass

        return {
            "status": "healthy" if db_ok else "degraded",
            "db_reachable": db_ok,
            "pool_min": self._min_conn,
            "pool_max": self._max_conn,
            **metrics,
        }

    def close(self) -> None:
        """Close all connections in the pool."""
        self._pool.closeall()
'''

EXCLUSIVE_BOUNDS = SEED_BEGINNER.replace("WHERE price BETWEEN %s AND %s", "WHERE price > %s AND price < %s")
F_STRING = SEED_BEGINNER.replace(
    '''                WHERE price BETWEEN %s AND %s
                ORDER BY price ASC
                """,
                (min_price, max_price),''',
    '''                WHERE price BETWEEN {min_price} AND {max_price}
                ORDER BY price ASC
                """.format(min_price=min_price, max_price=max_price),''')
NO_ORDER = SEED_BEGINNER.replace("ORDER BY price ASC", "")
NONE_WHEN_EMPTY = SEED_BEGINNER.replace(
    "return [Product.from_row(row) for row in cur.fetchall()]",
    "rows = cur.fetchall()\n            return [Product.from_row(row) for row in rows] if rows else None")
TUPLES_NOT_PRODUCTS = SEED_BEGINNER.replace("[Product.from_row(row) for row", "[tuple(row.values()) for row")

AT_OR_BELOW = SEED_INTERMEDIATE.replace("HAVING SUM(p.stock) < %s", "HAVING SUM(p.stock) <= %s")
NO_DEFAULT_THRESHOLD = SEED_INTERMEDIATE.replace("threshold: int = 100", "threshold: int = 500")
HIGHEST_NOT_LOWEST = SEED_INTERMEDIATE.replace("ORDER BY p2.stock ASC", "ORDER BY p2.stock DESC")
UNORDERED_REPORT = SEED_INTERMEDIATE.replace("ORDER BY total_stock ASC", "ORDER BY category DESC")
FORMATTED_THRESHOLD = SEED_INTERMEDIATE.replace(
    "HAVING SUM(p.stock) < %s", "HAVING SUM(p.stock) < {threshold}").replace(
    '''                """,
                (threshold,),''', '''                """.format(threshold=threshold),''')

NO_RETRY = SEED_ADVANCED.replace("_RETRY_DELAYS_MS = [50, 100, 200]", "_RETRY_DELAYS_MS = []")
NO_ROLLBACK = SEED_ADVANCED.replace("""            try:
                conn.rollback()
            except psycopg2.Error:
                pass  # connection may be dead; putconn will handle cleanup
            raise""", """            conn.commit()
            raise""")
LEAKY = SEED_ADVANCED.replace("""        finally:
            self._pool.putconn(conn)""", """        else:
            self._pool.putconn(conn)""")
RAISING_HEALTH = SEED_ADVANCED.replace("""        except Exception:
            pass

        return {""", """        except psycopg2.InterfaceError:
            pass

        return {""")
LAST_WAIT_ONLY = SEED_ADVANCED.replace("self.total_wait_ms += wait_ms", "self.total_wait_ms = wait_ms")
COUNT_FROM_ONE = SEED_ADVANCED.replace("checkout_count: int = 0", "checkout_count: int = 1")
WAIT_NOT_A_DIFFERENCE = SEED_ADVANCED.replace("wait_ms = (time.perf_counter() - t0) * 1000",
                                              "wait_ms = time.perf_counter() * 1000")
FLOOR_AVERAGE = SEED_ADVANCED.replace("self.total_wait_ms / self.checkout_count",
                                      "self.total_wait_ms // self.checkout_count")
UNGUARDED_ROLLBACK = SEED_ADVANCED.replace("""            try:
                conn.rollback()
            except psycopg2.Error:
                pass  # connection may be dead; putconn will handle cleanup
            raise""", """            conn.rollback()
            raise""")
NO_CHECKOUT_SENTINEL = SEED_ADVANCED.replace("if self.checkout_count > 0 else 0.0",
                                             "if self.checkout_count > 0 else -1.0")
NO_CLOSE = SEED_ADVANCED.replace('''        """Close all connections in the pool."""
        self._pool.closeall()''', '''        """Close all connections in the pool."""''')

CASES = [
    Case("core-seed", "core", "beginner", 10, answer=SEED_BEGINNER),
    Case("core-seed", "core", "intermediate", 10, answer=SEED_INTERMEDIATE),
    Case("core-seed", "core", "advanced", 12, answer=SEED_ADVANCED),
    # beginner: one flaw each
    Case("core-exclusive", "core", "beginner", 4, answer=EXCLUSIVE_BOUNDS,
         failing=("test_returns_the_products_of_a_common_range", "test_includes_a_product_priced_exactly_min_price",
                  "test_includes_a_product_priced_exactly_max_price"),
         reasons=("BETWEEN is inclusive",)),
    Case("core-fstring", "core", "beginner", 8, answer=F_STRING,
         failing=("test_values_are_parameters_not_sql_text",), reasons=("pasted into the SQL text",)),
    Case("core-unordered", "core", "beginner", 7, answer=NO_ORDER,
         failing=("test_cheapest_first_and_nothing_else", "test_returns_the_products_of_a_common_range"),
         reasons=("cheapest first", "ORDER BY price")),
    Case("core-none", "core", "beginner", 9, answer=NONE_WHEN_EMPTY,
         failing=("test_an_empty_range_gives_an_empty_list",), reasons=("return an empty list",)),
    Case("core-tuples", "core", "beginner", 3, answer=TUPLES_NOT_PRODUCTS,
         failing=("test_returns_the_products_of_a_common_range", "test_includes_a_product_priced_exactly_min_price",
                  "test_includes_a_product_priced_exactly_max_price", "test_cheapest_first_and_nothing_else"),
         reasons=("Product.from_row",)),
    Case("core-stub", "core", "beginner", 0, reasons=("NotImplementedError",)),
    # intermediate
    Case("core-at-or-below", "core", "intermediate", 8, answer=AT_OR_BELOW,
         failing=("test_strictly_below_the_threshold",), reasons=("equals the threshold",)),
    Case("core-default-500", "core", "intermediate", 9, answer=NO_DEFAULT_THRESHOLD,
         failing=("test_threshold_defaults_to_100",), reasons=("threshold=100 by default",)),
    Case("core-highest", "core", "intermediate", 9, answer=HIGHEST_NOT_LOWEST,
         failing=("test_names_the_lowest_stock_product",), reasons=("pick item 2",)),
    Case("core-by-name", "core", "intermediate", 9, answer=UNORDERED_REPORT,
         failing=("test_lowest_total_first",), reasons=("ascending",)),
    Case("core-formatted", "core", "intermediate", 9, answer=FORMATTED_THRESHOLD,
         failing=("test_threshold_is_a_parameter",), reasons=("pasted into the SQL text",)),
    Case("core-stub", "core", "intermediate", 0),
    # advanced
    Case("core-no-retry", "core", "advanced", 9, answer=NO_RETRY,
         failing=("test_retries_with_backoff_when_exhausted", "test_gives_up_after_three_retries"),
         reasons=("retry getconn()",)),
    Case("core-no-rollback", "core", "advanced", 10, answer=NO_ROLLBACK,
         failing=("test_rolls_back_counts_and_reraises_on_error",), reasons=("roll back on exception",)),
    Case("core-leaky", "core", "advanced", 11, answer=LEAKY,
         failing=("test_always_returns_the_connection",), reasons=("finally",)),
    Case("core-raising-health", "core", "advanced", 11, answer=RAISING_HEALTH,
         failing=("test_health_check_reports_a_dead_database",), reasons=("OperationalError",)),
    Case("core-last-wait-only", "core", "advanced", 10, answer=LAST_WAIT_ONLY,
         failing=("test_retries_with_backoff_when_exhausted",), reasons=("add each checkout's wait",)),
    Case("core-count-from-one", "core", "advanced", 11, answer=COUNT_FROM_ONE,
         failing=("test_health_check_reports_a_dead_database",), reasons=("start the counters at 0",)),
    Case("core-wait-not-a-difference", "core", "advanced", 10, answer=WAIT_NOT_A_DIFFERENCE,
         failing=("test_retries_with_backoff_when_exhausted",), reasons=("more than the",)),
    Case("core-floor-average", "core", "advanced", 10, answer=FLOOR_AVERAGE,
         failing=("test_retries_with_backoff_when_exhausted",), reasons=("true division, not //",)),
    Case("core-unguarded-rollback", "core", "advanced", 10, answer=UNGUARDED_ROLLBACK,
         failing=("test_rolls_back_counts_and_reraises_on_error",), reasons=("re-raise the block's own exception",)),
    Case("core-no-checkout-sentinel", "core", "advanced", 11, answer=NO_CHECKOUT_SENTINEL,
         failing=("test_health_check_reports_a_dead_database",), reasons=("there is no average",)),
    Case("core-no-close", "core", "advanced", 11, answer=NO_CLOSE,
         failing=("test_close_closes_every_connection",), reasons=("closeall",)),
    Case("core-stub", "core", "advanced", 0),
]
