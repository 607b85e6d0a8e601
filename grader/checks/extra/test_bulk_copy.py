"""Hidden checks for the bulk-loading challenge (`load_products`).

Each check loads rows of its own category (``zz-grader-bulk``), reads back what the database holds
with trusted SQL, compares it with what was sent, and deletes the rows afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from pglab.checks.submission import LearnerCodeError

CATEGORY = "zz-grader-bulk"


def _first_line(message: str, limit: int) -> str:
    """The first line of a learner-side error, short enough for a one-line reason."""
    lines = message.strip().splitlines()
    return lines[0][:limit] if lines else ""


def _row(name: str, **extra: Any) -> dict:
    return {"name": name, "price": 5.0, "category": CATEGORY, **extra}


def _stored(sub: Any, columns: str = "name, tags, metadata, stock") -> list[dict]:
    return sub.sql(f"SELECT {columns} FROM products WHERE category = %s ORDER BY name", (CATEGORY,))


def _cleanup(sub: Any) -> None:
    sub.sql("DELETE FROM products WHERE category = %s", (CATEGORY,))


@pytest.fixture
def own_rows(sub):
    """The rows a check arranges in the submission's database: none left over from an interrupted
    check before it runs, none after it, whatever happened (a failure here fails the check)."""
    _cleanup(sub)
    yield
    _cleanup(sub)


def _load(sub: Any, rows: list[dict], what: str, fix: str) -> Any:
    try:
        return sub.call("load_products", rows)
    except LearnerCodeError as err:
        pytest.fail(f"loading {what} raised {err.type_name} ({_first_line(err.message, 120)}): {fix}")


TAG_FIX = (
    'write every element of the array literal in double quotes, with \\ and " escaped by a backslash, '
    'e.g. {"kids, 3+","say \\"hi\\""}'
)
TRICKY_TAGS = [
    ["kids, 3+", "outdoor"],
    ['say "hi"', "{braces}", "}{"],
    ["back\\slash", "C:\\temp\\"],
    ["naïve café ☕", "日本語"],
    ["NULL", " padded ", ""],
    ["new\nline", "tab\there", "semi;colon", "it's"],
]


@pytest.mark.points(2)
def test_tags_come_back_exactly_as_sent(sub, own_rows):
    """tags with commas, quotes, braces, backslashes, NULL, spaces and unicode come back as sent"""
    rows = [_row(f"grader tags {i}", tags=tags, metadata={}, stock=1) for i, tags in enumerate(TRICKY_TAGS)]
    _load(sub, rows, "tags such as 'kids, 3+', 'say \"hi\"' and 'back\\slash'", TAG_FIX)
    stored = {r["name"]: r["tags"] for r in _stored(sub)}
    for row in rows:
        assert row["name"] in stored, f"the row with tags {row['tags']!r} was not loaded"
        assert stored[row["name"]] == row["tags"], (
            f"the tags {row['tags']!r} were stored as {stored[row['name']]!r}: {TAG_FIX}"
        )


@pytest.mark.points(1)
def test_an_empty_tag_list_stays_empty(sub, own_rows):
    """an empty tag list, or none given, is stored as no tags, with {} metadata and stock 0 by default"""
    rows = [_row("grader empty a", tags=[], metadata={"k": "v"}, stock=2), _row("grader empty b")]
    _load(
        sub,
        rows,
        "a row with tags=[] and a row without tags, metadata or stock",
        "an empty list is the array literal {}; a missing key means its default (row.get('tags', []))",
    )
    stored = {r["name"]: r for r in _stored(sub)}
    assert len(stored) == 2, f"{len(stored)} of the 2 rows were loaded"
    assert stored["grader empty a"]["tags"] == [], (
        f"tags=[] was stored as {stored['grader empty a']['tags']!r}: an empty list is the literal {{}}, "
        'not {""} (that is a list holding one empty string)'
    )
    defaults = {k: stored["grader empty b"][k] for k in ("tags", "metadata", "stock")}
    assert defaults == {"tags": [], "metadata": {}, "stock": 0}, (
        f"a row without tags, metadata and stock was stored with {defaults}: use the defaults [], {{}} and 0"
    )


METADATA = [
    {"specs": {"dims": [10, 2.5, None], "fragile": True, "layers": {"a": {"b": "deep"}}}},
    {"quote": 'it\'s "quoted"', "comma,key": "a,b", "path": "C:\\temp", "unicode": "naïve ☕"},
    {"empty_list": [], "empty_object": {}, "zero": 0, "no": False, "negative": -1.25},
]


@pytest.mark.points(2)
def test_metadata_round_trips(sub, own_rows):
    """metadata dicts (nested, true/false/null, quotes, unicode) come back equal to what was sent"""
    rows = [_row(f"grader meta {i}", tags=["meta"], metadata=m) for i, m in enumerate(METADATA)]
    fix = "write metadata as JSON text with json.dumps(metadata), not str(metadata)"
    _load(sub, rows, "metadata with nested objects, true/false/null and quotes", fix)
    stored = {r["name"]: r["metadata"] for r in _stored(sub)}
    for row in rows:
        assert stored.get(row["name"]) == row["metadata"], (
            f"the metadata {row['metadata']!r} was stored as {stored.get(row['name'])!r}: {fix}"
        )


@pytest.mark.points(2)
def test_one_bad_row_loads_nothing_and_raises(sub, own_rows):
    """a batch with one refused row (a negative price) loads nothing and raises"""
    loaded = _load(sub, [_row("grader ordinary")], "one ordinary row", "make an ordinary load work first")
    assert loaded == 1, f"loading one ordinary row returned {loaded!r}: make an ordinary load work first"
    _cleanup(sub)
    batch = [
        _row("grader batch a"),
        _row("grader batch b"),
        _row("grader batch bad", price=-5.0),
        _row("grader batch c"),
    ]
    got: Any = None
    try:
        got = sub.call("load_products", batch)
        raised = False
    except LearnerCodeError:
        raised = True
    left = len(_stored(sub))
    assert left == 0, (
        f"{left} rows of a batch whose third row has a negative price stayed in the table: "
        "load the whole batch with one COPY in one transaction"
    )
    assert raised, (
        f"a batch with a negative price returned {got!r} instead of raising: let the database's "
        "error (CheckViolation) reach the caller"
    )


COUNTER = """
CREATE TABLE zz_grader_statements (row_count integer);
CREATE FUNCTION zz_grader_count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO zz_grader_statements SELECT count(*) FROM zz_new_rows WHERE category = 'zz-grader-bulk';
    RETURN NULL;
END $$;
CREATE TRIGGER zz_grader_count AFTER INSERT ON products REFERENCING NEW TABLE AS zz_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION zz_grader_count_statement();
"""
UNCOUNT = """
DROP TRIGGER IF EXISTS zz_grader_count ON products;
DROP FUNCTION IF EXISTS zz_grader_count_statement();
DROP TABLE IF EXISTS zz_grader_statements;
"""


@pytest.mark.points(1)
def test_the_batch_arrives_in_one_statement(sub):
    """300 rows arrive in one statement (one COPY), not one INSERT per row"""
    rows = [
        _row(f"grader bulk {i:03d}", price=1 + i / 100, tags=["bulk"], metadata={"i": i}, stock=i) for i in range(300)
    ]
    sub.sql(UNCOUNT + COUNTER)
    _cleanup(sub)  # left over from an interrupted check
    try:
        got = _load(sub, rows, "300 ordinary rows", "make an ordinary load work first")
        assert got == 300, f"loading 300 rows returned {got!r}: return the number of rows loaded"
        statements = [r["row_count"] for r in sub.sql("SELECT row_count FROM zz_grader_statements WHERE row_count > 0")]
        assert len(statements) == 1, (
            f"the 300 rows arrived in {len(statements)} statements: send the whole batch in one "
            "COPY products (...) FROM STDIN (cur.copy_expert), one statement and one round trip"
        )
        assert len(_stored(sub, "name")) == 300, "not all 300 rows are in the table"
    finally:
        sub.sql(UNCOUNT)
        _cleanup(sub)
