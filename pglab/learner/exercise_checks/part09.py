"""Checks of Part 9's exercises: a search by several tags, a restock with one UPDATE.

The learner's functions borrow connections from ``catalogue.get_db()``; for the length of the check
that name lends the same pooled connections with a recording cursor, so the check sees the
statements sent (and runs ``EXPLAIN`` on the learner's own search), then puts ``get_db`` back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pglab.learner import catalogue
from pglab.learner.catalogue import Product
from pglab.learner.exercise_checks import closing_quietly, connect, course_url, exercise_check, fixture_products
from pglab.learner.exercise_checks.part05 import plan
from pglab.learner.exercises import Exercise, Wrong, same, shown
from pglab.learner.statement_recording import Sent, start_recording, stop_recording

QUERIES = "Queries: by category, tag and metadata"
GIN = "Do the searches use the GIN indexes?"
UPDATE = "Update stock, with RETURNING"
TAG = "ex9 O'Reilly \"quoted\", tag"


@contextmanager
def recording_get_db(sent: list[Sent]) -> Iterator[None]:
    """While inside, ``catalogue.get_db()`` lends connections whose cursors record into ``sent``."""
    lend = catalogue.get_db

    @contextmanager
    def get_db() -> Iterator[Any]:
        with lend() as conn:
            recorded = start_recording(conn)
            try:
                yield conn
            finally:
                stop_recording(conn)
                sent.extend(recorded)
    catalogue.get_db = get_db
    try:
        yield
    finally:
        catalogue.get_db = lend


def _products(got: object) -> list[Product]:
    if not isinstance(got, list) or not all(isinstance(p, Product) for p in got):
        raise Wrong(f"got {shown(got)}, expected a list of Product")
    return got


@exercise_check("9.1", "Search by several tags")
def check_9_1(check: Exercise, search_by_all_tags: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    rows = [{"name": "Exercise 9.1 dear", "price": "30", "category": "exercise-9", "tags": ["python", TAG]},
            {"name": "Exercise 9.1 cheap", "price": "3", "category": "exercise-9", "tags": [TAG, "python", "async"]},
            {"name": "Exercise 9.1 other", "price": "1", "category": "exercise-9", "tags": [TAG]}]
    with fixture_products(url, rows):
        reader = connect(url)
        try:
            with reader.cursor() as cur:
                cur.execute("SELECT id, tags, price FROM products")
                everything = cur.fetchall()
            reader.rollback()
        finally:
            closing_quietly(reader)
        sent: list[Sent] = []
        with recording_get_db(sent):
            for wanted_tags in (["python", "async"], ["kids, 3+"], [TAG, "python"], ["python", "no-such-tag"]):
                wanted = sorted((float(price), str(i)) for i, tags, price in everything
                                if set(wanted_tags) <= set(tags))
                check.expect(f"{wanted_tags}: the {len(wanted)} products with all of them, cheapest first",
                             lambda w=wanted_tags, rows=wanted: _by_price(_products(search_by_all_tags(w)), rows),
                             "WHERE tags @> %s with the list as the parameter, ORDER BY price; "
                             "Product.from_row(row) for each row", see=QUERIES)
        check.expect("idx_products_tags can serve your statement (EXPLAIN of it)",
                     lambda: _uses_tags_index(url, sent), "one SELECT ... WHERE tags @> %s: a filter in Python "
                     "or = ANY per tag cannot use the GIN index", see=GIN)


def _by_price(found: list[Product], wanted: list[tuple[float, str]]) -> bool:
    same(sorted(str(p.id) for p in found), sorted(i for _, i in wanted), "ids")
    return same([p.price for p in found], sorted(p.price for p in found), "prices in the order returned")


def _uses_tags_index(url: str, sent: list[Sent]) -> bool:
    reads = [s for s in sent if s.verb in ("SELECT", "WITH")]
    if not reads:
        raise Wrong("no SELECT went through catalogue.get_db()")
    shown_plan = plan(url, reads[-1].text, reads[-1].params)
    if "idx_products_tags" not in shown_plan:
        raise Wrong(f"EXPLAIN of your {shown(reads[-1].text)} says: {shown(shown_plan.splitlines()[0])}")
    return True


@exercise_check("9.2", "Restock a category")
def check_9_2(check: Exercise, restock_category: Callable[..., Any], url: str | None = None) -> None:
    url = course_url(url)
    category = "exercise 9.2 O'Neil's"
    rows = [{"name": f"Exercise 9.2 #{n}", "price": "1", "category": category, "stock": n} for n in (0, 3, 7)]
    rows.append({"name": "Exercise 9.2 bystander", "price": "1", "category": "exercise 9.2", "stock": 4})
    with fixture_products(url, rows) as ids:
        before: dict[Any, Any] = {i: catalogue.get_product(i) for i in ids}
        sent: list[Sent] = []
        restocked: list[Product] = []
        with recording_get_db(sent):
            ok = check.expect(f"restock_category({category!r}, 5) returns its {len(ids) - 1} products",
                              lambda: restocked.extend(_products(restock_category(category, 5))) or
                              same(sorted(str(p.id) for p in restocked), sorted(str(i) for i in ids[:-1]), "ids"),
                              "UPDATE products SET stock = stock + %s, updated_at = NOW() WHERE category = %s "
                              "RETURNING *", see=UPDATE)
        if ok:
            check.expect("each one's stock went up by 5, as returned and as stored (committed)",
                         lambda: all(same((p.stock, _stored(p).stock), (before[p.id].stock + 5,) * 2,
                                          f"{p.name}: (returned, stored) stock") for p in restocked),
                         "stock = stock + %s; get_db() commits when the block ends", see=UPDATE)
            check.expect("updated_at moved on", lambda: all(p.updated_at > before[p.id].updated_at
                                                            for p in restocked),
                         "set updated_at = NOW() in the same UPDATE", see=UPDATE)
        check.expect("one UPDATE statement, with units and category as parameters",
                     lambda: same([s.verb for s in sent], ["UPDATE"], "statements sent") and
                     (sent[0].carries(5) and sent[0].carries(category) or _wrong_params(sent[0])),
                     "one UPDATE ... RETURNING *: no SELECT first, no UPDATE per product", see=UPDATE)
        check.expect("other categories are untouched",
                     lambda: same(_stored_id(ids[-1]).stock, 4, "the bystander's stock"),  # type: ignore[union-attr]
                     "WHERE category = %s", see=UPDATE)


def _stored(product: Product) -> Product:
    stored = catalogue.get_product(product.id)  # type: ignore[arg-type]
    if stored is None:
        raise Wrong(f"{product.name} is not in the table any more")
    return stored


def _stored_id(product_id: Any) -> Product | None:
    return catalogue.get_product(product_id)


def _wrong_params(sent: Sent) -> bool:
    raise Wrong(f"sent {shown(sent.text)} with {shown(sent.params)}")
