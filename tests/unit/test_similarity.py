"""The "Similar answers" ranking: copying shows at the top, what many learners find on their own does not.

Each class is written as real submissions (the released notebook with an answer in its answer cell)
and ranked from those files, as ``pglab grade`` does: the starter code comes from the released
notebook, the answer cells from the submission.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from pglab.grading.course_layout import assignments
from pglab.grading.reports import similarity
from pglab.grading.reports.class_report import class_results, render_report
from pglab.grading.reports.rows import GradeRow
from pglab.grading.reports.similarity import (
    answer_cells,
    class_similarity,
    normalise,
    rank_similar,
    similar_pairs,
    starter_cells,
)
from tests.corpus.case import Case
from tests.support.report_page import ReportPage

BEGINNER = next(c for c in assignments()["core"] if c.notebook == "beginner")

ORIGINAL = '''def get_products_in_price_range(min_price: float, max_price: float) -> list[Product]:
    """Products priced from min_price to max_price (both included), cheapest first."""
    wanted = (min_price, max_price)
    with get_db() as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.name, p.price, p.category, p.tags, p.metadata, p.stock, "
                "p.created_at, p.updated_at FROM products AS p "
                "WHERE p.price >= %s AND p.price <= %s ORDER BY p.price, p.id",
                wanted,
            )
            found = cursor.fetchall()
    result = []
    for record in found:
        result.append(Product.from_row(record))
    return result
'''
# The same answer, variables renamed, comments added, the query re-flowed: a copy.
RENAMED = '''def get_products_in_price_range(min_price: float, max_price: float) -> list[Product]:
    """Products priced from min_price to max_price (both included), cheapest first."""
    # my own work
    bounds = (min_price, max_price)
    with get_db() as conn:
        with conn.cursor() as cur:
            cur.execute("""SELECT p.id, p.name, p.price, p.category, p.tags, p.metadata, p.stock,
                           p.created_at, p.updated_at
                           FROM products AS p
                           WHERE p.price >= %s AND p.price <= %s
                           ORDER BY p.price, p.id""",
                        bounds,
            )
            rows = cur.fetchall()
    out = []
    for r in rows:  # build the products
        out.append(Product.from_row(r))
    return out
'''
# The short correct answer most of the class writes, each in their own way around it.
SHORT = '''def get_products_in_price_range(min_price: float, max_price: float) -> list[Product]:
    """Products priced from min_price to max_price (both included), cheapest first."""
    with get_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM products WHERE price BETWEEN %s AND %s ORDER BY price", (min_price, max_price))
        return [Product.from_row(row) for row in cur.fetchall()]
'''
HONEST_EXTRAS = ["", "\n# checked by hand: 10 to 12 gives 3 rows\n", "\nprint('done')\n",
                 "\nassert get_products_in_price_range(0, 0) == []\n", "\nLIMIT_NOTE = 'no limit needed'\n",
                 "\nfor p in get_products_in_price_range(1, 2):\n    print(p.name, p.price)\n"]


def _class(tmp_path: Path, answers: dict[str, str | None]) -> list:
    submitted = tmp_path / "submitted"
    paths = [(student, BEGINNER, Case(student, "core", "beginner", 0, answer=answer).write(submitted))
             for student, answer in answers.items()]
    return class_similarity(paths)


def test_renaming_variables_and_reflowing_the_query_change_nothing_compared() -> None:
    assert normalise([ORIGINAL])[1].text == normalise([RENAMED])[1].text


def test_two_learners_who_copy_are_at_the_top_and_the_common_short_answer_is_not_flagged(tmp_path: Path) -> None:
    answers: dict[str, str | None] = {f"honest{n}": SHORT + extra for n, extra in enumerate(HONEST_EXTRAS)}
    answers |= {"ana": ORIGINAL, "bo": RENAMED, "cy": SHORT.replace("ORDER BY price", "ORDER BY price, id"),
                "dee": SHORT.replace("BETWEEN %s AND %s", ">= %s AND price <= %s")}
    (challenge,) = _class(tmp_path, answers)
    assert challenge.notebook == "core/beginner" and challenge.compared == 10
    top = challenge.pairs[0]
    assert top.students == ("ana", "bo")
    assert top.score > 0.9 and min(top.shares) > 0.9
    # Six learners wrote the same short query: more than 10% of the class, so it is no sign of copying.
    honest = [p for p in challenge.pairs if all(s.startswith(("honest", "cy", "dee")) for s in p.students)]
    assert all(p.score < top.score / 2 for p in honest), [(p.students, p.score) for p in honest]
    # The highlighted spans are the copied code, in each learner's own text.
    first, second = top.answers
    assert any("ORDER BY p.price, p.id" in first[s:e] for s, e in top.shared[0])
    assert any("ORDER BY p.price, p.id" in second[s:e] for s, e in top.shared[1])


def test_the_starter_code_is_not_a_shared_passage(tmp_path: Path) -> None:
    # Three learners hand in the released stub untouched (the starter only), one writes an answer.
    (challenge,) = _class(tmp_path, {"ana": None, "bo": None, "cy": None, "dee": ORIGINAL})
    assert challenge.compared == 4
    assert challenge.pairs == []
    # In a pair that shares more, the starter is not highlighted: a shared passage may only begin in
    # its last few characters (a fingerprint spans K normalised characters, given and new ones).
    (challenge,) = _class(tmp_path / "two", {"ana": ORIGINAL, "bo": RENAMED, "cy": None})
    (pair,) = challenge.pairs
    given = "def get_products_in_price_range(min_price:"
    for text, spans in zip(pair.answers, pair.shared, strict=True):
        start = text.index(given)
        assert spans and all(e <= start or s >= start + len(given) for s, e in spans), spans


def test_sql_inside_python_strings_is_compared(tmp_path: Path) -> None:
    query = ('"""SELECT c.name, COUNT(*) AS n, MIN(p.price) AS lowest FROM products p '
             'JOIN categories c ON c.id = p.category_id WHERE p.price BETWEEN %s AND %s '
             'GROUP BY c.name HAVING COUNT(*) > 2 ORDER BY lowest DESC"""')
    psycopg = f"def a(x, y):\n    with get_db() as conn:\n        return conn.execute({query}, (x, y)).fetchall()\n"
    pandas = f"import pandas as pd\nframe = pd.read_sql({query.lower()}, engine, params=[lo, hi])\nframe.head()\n"
    other = psycopg.replace(query, '"SELECT id, name FROM products WHERE stock = 0 AND price > %s OR price < %s"')
    challenge = similar_pairs("core/beginner", {"ana": [psycopg], "bo": [pandas], "cy": [other]}, [])
    # ana and bo share only the query, ana and cy only the Python around it (a string each, to
    # copydetect's own filter): the query is most of the answer.
    ranked = [p.students for p in challenge.pairs]
    assert ranked == [("ana", "bo"), ("ana", "cy")], [(p.students, p.score) for p in challenge.pairs]
    text, spans = challenge.pairs[0].answers[1], challenge.pairs[0].shared[1]
    assert any("having count(*) > 2" in text[s:e] for s, e in spans)


def test_answer_cells_leave_out_locked_cells_and_the_self_check(tmp_path: Path) -> None:
    path = Case("ana", "core", "beginner", 0, answer=ORIGINAL).write(tmp_path)
    cells = answer_cells(BEGINNER, path)
    assert cells[0] == ORIGINAL
    assert not any("import psycopg2" in c or "check_my_work(" in c for c in cells)
    (tmp_path / "broken.ipynb").write_text("{not json", encoding="utf-8")
    assert answer_cells(BEGINNER, tmp_path / "broken.ipynb") == []


def test_the_report_shows_the_pairs_side_by_side_or_leaves_the_section_out(tmp_path: Path) -> None:
    similar = _class(tmp_path, {"ana": ORIGINAL, "bo": RENAMED, "cy": SHORT})
    results = class_results([GradeRow("core", s, "", "", 1.0, 10.0) for s in ("ana", "bo", "cy")], [])
    page = render_report(results, similar)
    report = ReportPage()
    report.feed(page)
    assert "<h2 id='similar-answers'>Similar answers</h2>" in page
    assert list(report.pairs)[0] == "core/beginner::ana::bo" and report.pairs["core/beginner::ana::bo"] > 0.9
    assert report.marks >= 2 and not report.external
    assert "<mark>" in page and "cur.execute(&quot;&quot;&quot;SELECT" in page  # each learner's own text, escaped
    assert "Similar answers" not in render_report(results, None)


def test_a_copied_passage_written_twice_is_marked_both_times() -> None:
    query = 'rows = cur.execute("SELECT name FROM categories WHERE parent_id IS NULL ORDER BY name").fetchall()'
    ana = f"def roots(cur):\n    {query}\n    return rows\n\n\ndef again(cur):\n    {query}\n    return len(rows)\n"
    bo = ana.replace("cur", "c").replace("rows", "found")
    # Some starter code: copydetect's own boilerplate removal would drop the first occurrence.
    starter = "def given(connection, limit):\n    return connection.execute('SELECT 1').fetchall()[:limit]\n"
    challenge = similar_pairs("core/beginner", {"ana": [ana], "bo": [bo]}, [starter])
    (pair,) = challenge.pairs
    for text, spans in zip(pair.answers, pair.shared, strict=True):
        at = [m.start() for m in re.finditer("parent_id IS NULL", text)]
        assert len(at) == 2 and all(any(s <= a < e for s, e in spans) for a in at), spans


def test_an_nbgrader_source_of_another_course_gives_what_nbgrader_releases_as_starter(tmp_path: Path) -> None:
    answer = nbformat.v4.new_code_cell(
        "def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(n)]\n    ### END SOLUTION\n",
        metadata={"nbgrader": {"grade_id": "squares", "solution": True, "grade": False, "locked": False,
                               "schema_version": 3}})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import math"), answer])
    (tmp_path / "ps1").mkdir()
    nbformat.write(notebook, tmp_path / "ps1" / "problem1.ipynb")
    (challenge,) = assignments(tmp_path)["ps1"]
    given = "\n".join(starter_cells(challenge))
    assert "import math" in given and "def squares(n):" in given and "raise NotImplementedError()" in given
    assert "range(n)" not in given


def test_a_rerun_reads_and_ranks_only_what_changed_and_ranks_the_same(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"ana": ORIGINAL, "bo": RENAMED, **{f"l{i}": SHORT + extra for i, extra in enumerate(HONEST_EXTRAS)}}
    submitted = tmp_path / "submitted"
    paths = [(student, BEGINNER, Case(student, "core", "beginner", 0, answer=answer).write(submitted))
             for student, answer in answers.items()]
    fresh = class_similarity(paths)
    kept = tmp_path / "kept"
    assert class_similarity(paths, kept=kept) == fresh
    read: list[Path] = []
    counted = similarity.answer_cells
    monkeypatch.setattr(similarity, "answer_cells",
                        lambda challenge, path: read.append(path) or counted(challenge, path))
    ranked: list[str] = []
    ranks = similarity.similar_pairs
    monkeypatch.setattr(similarity, "similar_pairs",
                        lambda notebook, *rest: ranked.append(notebook) or ranks(notebook, *rest))
    assert class_similarity(paths, kept=kept) == fresh and read == [] and ranked == [], "nothing changed: nothing read"
    Case("bo", "core", "beginner", 0, answer=SHORT + "\n# bo's own\n").write(submitted)
    again = class_similarity(paths, kept=kept)
    assert read == [paths[1][2]] and ranked == ["core/beginner"]
    assert again == class_similarity(paths) and again != fresh


def test_ranking_ahead_writes_nothing_until_kept(tmp_path: Path) -> None:
    """A run ranks while its first kernel starts, and may then stop without writing anything."""
    answers = {"ana": ORIGINAL, "bo": RENAMED, "cy": SHORT}
    submitted = tmp_path / "submitted"
    paths = [(student, BEGINNER, Case(student, "core", "beginner", 0, answer=answer).write(submitted))
             for student, answer in answers.items()]
    kept = tmp_path / "kept"
    ranking = rank_similar(paths, kept=kept)
    assert ranking.challenges == class_similarity(paths) and not kept.exists()
    ranking.keep()
    assert [p.relative_to(kept).as_posix() for p in kept.rglob("*.json")] == ["core/beginner.json"]
    assert rank_similar(paths, kept=kept).challenges == ranking.challenges


def test_what_another_process_kept_ranks_the_same(tmp_path: Path) -> None:
    """copydetect's fingerprints depend on the process's hash salt: what is kept must not."""
    answers = {"ana": ORIGINAL, "bo": RENAMED, **{f"l{i}": SHORT + extra for i, extra in enumerate(HONEST_EXTRAS)}}
    submitted = tmp_path / "submitted"
    paths = [(student, BEGINNER, Case(student, "core", "beginner", 0, answer=answer).write(submitted))
             for student, answer in answers.items()]
    kept = tmp_path / "kept"
    keep = ("import sys; from pathlib import Path; from tests.unit.test_similarity import BEGINNER; "
            "from pglab.grading.reports.similarity import class_similarity; "
            "class_similarity([(p.parent.parent.name, BEGINNER, p) for p in map(Path, sys.argv[2:])], "
            "kept=Path(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", keep, str(kept), *(str(p) for _, _, p in paths)], check=True,
                   env={**os.environ, "PYTHONHASHSEED": "1"}, cwd=Path(__file__).resolve().parents[2])
    Case("cy", "core", "beginner", 0, answer=RENAMED + "\n# cy's\n").write(submitted)
    paths.append(("cy", BEGINNER, submitted / "cy" / "core" / "beginner.ipynb"))
    assert class_similarity(paths, kept=kept) == class_similarity(paths)


def test_copydetect_is_loaded_without_pyplot_and_matplotlib_is_left_untouched() -> None:
    """copydetect gets stand-ins for pyplot that refuse to plot; afterwards the real matplotlib
    imports as before (in a fresh interpreter: this one may have imported copydetect already)."""
    script = ("import sys\n"
              "from pglab.grading.reports.copydetect_without_plots import CopydetectPlotting, load_copydetect\n"
              "assert 'copydetect' not in sys.modules and 'matplotlib' not in sys.modules\n"
              "copydetect = load_copydetect()\n"
              "assert 'matplotlib' not in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
              "assert callable(copydetect.compare_files) and callable(copydetect.utils.get_token_coverage)\n"
              "try:\n"
              "    copydetect.detector.plt.hist([1.0])\n"
              "    raise SystemExit('the stand-in plotted')\n"
              "except CopydetectPlotting as err:\n"
              "    assert 'without pyplot' in str(err)\n"
              "import matplotlib.figure\n"
              "assert matplotlib.figure.Figure.__module__ == 'matplotlib.figure'\n"
              "assert load_copydetect() is copydetect\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_copydetect_loaded_after_pyplot_gets_the_real_one() -> None:
    script = ("import sys\n"
              "import matplotlib\n"
              "matplotlib.use('Agg')\n"
              "import matplotlib.pyplot as plt\n"
              "from pglab.grading.reports.copydetect_without_plots import load_copydetect\n"
              "assert load_copydetect().detector.plt is plt\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
