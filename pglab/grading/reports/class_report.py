"""What the instructor reads after ``pglab grade``: ``report.html`` and ``grades-wide.csv`` in OUT.

Both are made from the same typed rows as the two CSVs the batch writes (the gradebook's scores,
which ``grades.csv`` exports, and the rows of ``checks.csv``: :mod:`pglab.grading.reports.rows`),
so they say exactly what those say; each file is written whole (temporary file, then rename).

- ``report.html`` stands alone (plots are inline SVG, no script, no external file): the class's
  score distribution, each notebook's scores, and for every check the share of learners who
  handed the notebook in and failed it, with the most frequent reason, so the edge case the class
  missed shows at a glance; then, unless ``pglab grade --no-similarity``, the pairs of learners whose
  answers to a challenge are most alike (:mod:`pglab.grading.reports.similarity`), side by side with
  what they share highlighted. That section is read by a person; it changes no grade.
- ``grades-wide.csv`` is one row per learner and one column per notebook plus ``Total``, with the
  identity columns Canvas's gradebook import looks for (``Student,ID,SIS Login ID,Section``; the
  learner's id goes in ``SIS Login ID``). Moodle's CSV grade import maps the same columns by hand.
  A notebook the grader failed on (``(not graded)`` in checks.csv) is an empty cell, and that
  learner's total is empty too: an LMS import then leaves those grades alone. The notebook columns
  are points before any late penalty; when a notebook was handed in late, ``Late penalty`` (before
  ``Total``) is each learner's points off, and ``Total`` is after it (as ``grades.csv``'s ``score``).
- ``report.html`` lists the submissions handed in after their due date under "Late submissions".
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.metadata
import io
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pglab.grading.deadlines import late_by
from pglab.grading.late_penalties import LatePenalty
from pglab.grading.reports.rows import CheckRow, GradeRow, RowKind, listed_problems
from pglab.grading.reports.similarity import ChallengeSimilarity, SimilarPair
from pglab.grading.result_store import write_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PLOTS = Path(".pglab") / "plots"  # in OUT: where pglab grade keeps the plots drawn for the next run
WIDE_IDENTITY = ("Student", "ID", "SIS Login ID", "Section")
TOTAL = "Total"
LATE_PENALTY = "Late penalty"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 2em; }
.meta { color: #555; } figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
td, th { border-bottom: 1px solid #ddd; padding: 5px 6px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.bad { color: #b3261e; font-weight: 600; } .ok { color: #137333; }
details.pair { margin: 0.6em 0; } details.pair summary { cursor: pointer; }
.side { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 8px; margin-top: 0.4em; }
.side pre { margin: 0; padding: 6px; background: #f6f8fa; font-size: 0.8em; overflow-x: auto; white-space: pre; }
.side mark { background: #ffd666; }
"""


@dataclass
class CheckTally:
    """How the class did on one check of one notebook."""

    notebook: str  # "assignment/notebook"
    check: str
    max_points: float
    submitted: int = 0  # learners who handed the notebook in
    failed: int = 0  # of those, how many got less than max_points
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def share_failed(self) -> float:
        return self.failed / self.submitted if self.submitted else 0.0


@dataclass
class ClassResults:
    students: list[str]
    names: dict[str, str]  # student id -> "Last, First" where the gradebook has names
    notebooks: list[str]  # "assignment/notebook", alphabetical
    notebook_max: dict[str, float]
    notebook_points: dict[tuple[str, str], float]  # (student, notebook) -> points
    submitted: set[tuple[str, str]]
    not_graded: set[tuple[str, str]]  # (student, notebook) the grader failed on: no grade, not a zero
    total: dict[str, float]
    total_max: float
    assignment_scores: dict[str, dict[str, float]]  # graded assignment -> student -> score (grades.csv)
    assignment_max: dict[str, float]
    checks: list[CheckTally]
    problems: list[CheckRow]  # notes on notebooks handed in, files not graded, grader faults
    late: list[LatePenalty] = field(default_factory=list)  # notebooks handed in after their due date

    def late_points(self, student: str) -> float:
        return sum(p.points for p in self.late if p.student == student)


def write_class_report(out: Path, grades: list[GradeRow], rows: list[CheckRow],
                       similarity: list[ChallengeSimilarity] | None = None,
                       late: list[LatePenalty] | None = None, plots_kept: Path | None = None) -> None:
    """Write ``report.html`` and ``grades-wide.csv`` into ``out``, each whole or not at all.

    ``similarity``: the "Similar answers" section's pairs; None leaves the section out.
    ``late``: the late penalties taken off, for the "Late submissions" table. ``plots_kept``: the
    folder where the plots are kept from one run to the next (:class:`DrawnPlots`; None: none)."""
    results = class_results(grades, rows, late)
    write_atomically(out / "grades-wide.csv", wide_csv(results))
    plots = DrawnPlots(plots_kept)
    write_atomically(out / "report.html", render_report(results, similarity, plots).encode("utf-8"))
    plots.drop_unused()


def class_results(grades: list[GradeRow], rows: list[CheckRow], late: list[LatePenalty] | None = None
                  ) -> ClassResults:
    """The class's results from the gradebook's scores and the rows of ``checks.csv``."""
    students: list[str] = sorted({g.student for g in grades} | {row.student for row in rows})
    names = {g.student: ", ".join(p for p in (g.last_name, g.first_name) if p) for g in grades}
    total: dict[str, float] = defaultdict(float)
    max_by_assignment: dict[str, float] = {}
    by_assignment: dict[str, dict[str, float]] = defaultdict(dict)
    for grade in grades:
        total[grade.student] += grade.score
        max_by_assignment[grade.assignment] = grade.max_score
        by_assignment[grade.assignment][grade.student] = grade.score

    notebooks: list[str] = []
    notebook_max: dict[str, float] = defaultdict(float)
    notebook_points: dict[tuple[str, str], float] = defaultdict(float)
    submitted: set[tuple[str, str]] = set()
    not_graded: set[tuple[str, str]] = set()
    tallies: dict[tuple[str, str], CheckTally] = {}
    first_student: dict[str, str] = {}
    problems = listed_problems(rows)  # the per-notebook table counts the notebooks not handed in
    for row in rows:
        notebook = row.notebook_key
        if row.kind is RowKind.NOT_GRADED:
            not_graded.add((row.student, notebook))
        if row.kind is not RowKind.CHECK:  # notes, problems, faults: no points
            continue
        if notebook not in notebook_max:
            notebooks.append(notebook)
            first_student[notebook] = row.student
        points, maximum = row.points or 0.0, row.max_points or 0.0
        if first_student[notebook] == row.student:
            notebook_max[notebook] += maximum
        notebook_points[(row.student, notebook)] += points
        if row.by_hand:  # the instructor's to grade: not a check the class failed
            continue
        tally = tallies.setdefault((notebook, row.check), CheckTally(notebook, row.check, maximum))
        if not row.handed_in:
            continue
        submitted.add((row.student, notebook))
        tally.submitted += 1
        if points < maximum:
            tally.failed += 1
            tally.reasons[row.message] += 1
    order = {name: index for index, name in enumerate(sorted(notebooks))}
    notebooks.sort(key=lambda n: order[n])
    return ClassResults(
        students=students, names=names, notebooks=notebooks, notebook_max=dict(notebook_max),
        notebook_points=dict(notebook_points), submitted=submitted, not_graded=not_graded,
        total={s: total.get(s, 0.0) for s in students}, total_max=sum(max_by_assignment.values()),
        assignment_scores={a: by_assignment[a] for a in sorted({n.split("/")[0] for n in notebooks})
                           if a in by_assignment},
        assignment_max=max_by_assignment,
        checks=sorted(tallies.values(), key=lambda t: order[t.notebook]), problems=problems,
        late=sorted(late or [], key=lambda p: (p.assignment, p.student, p.notebook)))


def column_title(notebook: str) -> str:
    """``core/beginner`` as an LMS column (and assignment) title: ``core: beginner``."""
    return notebook.replace("/", ": ", 1)


def wide_csv(results: ClassResults) -> bytes:
    """``grades-wide.csv``: a row per learner, a column per notebook and the total."""
    handle = io.StringIO()
    writer = csv.writer(handle)
    late = [LATE_PENALTY] if results.late else []  # an LMS would import the column as one more assignment
    writer.writerow([*WIDE_IDENTITY, *(column_title(n) for n in results.notebooks), *late, TOTAL])
    for student in results.students:
        # A notebook the grader failed on has no grade yet: an empty cell (and no total), never 0.
        scores = ["" if (student, n) in results.not_graded else
                  _points(results.notebook_points.get((student, n), 0.0)) for n in results.notebooks]
        pending = any(s == student for s, _ in results.not_graded)
        writer.writerow([results.names.get(student) or student, "", student, "", *scores,
                         *([_points(results.late_points(student))] if late else []),
                         "" if pending else _points(results.total[student])])
    return handle.getvalue().encode("utf-8")


def _points(value: float) -> str:
    return f"{value:g}"


# -- the HTML page ----------------------------------------------------------------------------------

def render_report(results: ClassResults, similarity: list[ChallengeSimilarity] | None = None,
                  plots: DrawnPlots | None = None) -> str:
    """``plots``: where the plots drawn by earlier runs are kept (None: every plot is drawn)."""
    e = html.escape
    plots = plots or DrawnPlots(None)
    n = len(results.students)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        "<title>Class report - pglab grade</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>Class report</h1>",
        f'<p class="meta">{n} learner(s), {len(results.notebooks)} notebook(s); made by <code>pglab grade</code> '
        f"on {when} from grades.csv and checks.csv.</p>",
    ]
    if not results.students:
        parts.append("<p>No learner was graded.</p></body></html>")
        return "\n".join(parts)

    totals = [results.total[s] for s in results.students]
    parts.append("<h2>Score distribution</h2>")
    if results.assignment_scores:
        summary = "; ".join(
            f"{a}: median {_points(_median(list(scores.values())))} of {_points(results.assignment_max[a])}"
            for a, scores in results.assignment_scores.items())
        parts.append(_figure(_histograms(results, plots), f"Points per learner in each graded assignment ({summary}). "
                             f"Totals over the course (of {_points(results.total_max)}) are in grades-wide.csv: "
                             f"median {_points(_median(totals))}, mean {sum(totals) / n:.1f}."))
    if results.notebooks:
        parts += ["<h2>Per notebook</h2>", _figure(_notebook_strips(results, plots),
                  "Each dot is a learner who handed the notebook in; the bar is the median."),
                  _notebook_table(results)]
    if results.checks:
        parts += [
            "<h2>Checks the class failed</h2>",
            _figure(_failure_bars(results, plots),
                    "Share of the learners who handed the notebook in and did not get this check's points."),
            _check_table(results),
        ]
    if results.late:
        parts += ["<h2>Late submissions</h2>", _late_table(results)]
    if results.problems:
        rows = "".join(
            f"<tr><td>{e(p.student)}</td><td>{e(p.assignment)}/{e(p.notebook)}</td>"
            f"<td>{e(p.check)}</td><td>{e(p.message)}</td></tr>" for p in results.problems)
        parts += ["<h2>Problems noted</h2>",
                  "<p>Notes about whole notebooks (a cell that raised or ran too long) and files that could "
                  "not be graded, as in checks.csv.</p>",
                  f"<table><tr><th>learner</th><th>notebook</th><th>row</th><th>message</th></tr>{rows}</table>"]
    if similarity is not None:
        parts += _similarity_section(similarity)
    parts.append("</body></html>")
    return "\n".join(parts)


def _notebook_table(results: ClassResults) -> str:
    rows = []
    for notebook in results.notebooks:
        handed_in = [results.notebook_points.get((s, notebook), 0.0) for s in results.students
                     if (s, notebook) in results.submitted]
        maximum = results.notebook_max[notebook]
        full = sum(1 for p in handed_in if p >= maximum)
        median = _points(_median(handed_in)) if handed_in else "-"
        rows.append(f"<tr><td>{html.escape(notebook)}</td><td class='num'>{len(handed_in)} of {len(results.students)}"
                    f"</td><td class='num'>{median} / {_points(maximum)}</td><td class='num'>{full}</td></tr>")
    return ("<table><tr><th>notebook</th><th class='num'>handed in</th><th class='num'>median points</th>"
            f"<th class='num'>full marks</th></tr>{''.join(rows)}</table>")


def _check_table(results: ClassResults) -> str:
    rows = []
    for tally in sorted(results.checks, key=lambda t: (-t.share_failed, t.notebook, t.check)):
        reason, count = tally.reasons.most_common(1)[0] if tally.reasons else ("", 0)
        css = "bad" if tally.share_failed >= 0.5 else ("ok" if tally.failed == 0 else "")
        reason_text = f"{html.escape(reason)} <span class='meta'>({count})</span>" if reason else ""
        rows.append(
            f"<tr data-check='{html.escape(tally.notebook)}::{html.escape(tally.check)}' "
            f"data-failed='{tally.failed}' data-submitted='{tally.submitted}'>"
            f"<td>{html.escape(tally.notebook)}</td><td><code>{html.escape(tally.check)}</code></td>"
            f"<td class='num {css}'>{tally.share_failed:.0%}</td><td class='num'>{tally.failed} of {tally.submitted}"
            f"</td><td>{reason_text}</td></tr>")
    return ("<table><tr><th>notebook</th><th>check</th><th class='num'>failed</th><th class='num'>learners</th>"
            f"<th>most frequent reason</th></tr>{''.join(rows)}</table>")


def _similarity_section(challenges: list[ChallengeSimilarity]) -> list[str]:
    parts = ["<h2 id='similar-answers'>Similar answers</h2>",
             "<p>For each challenge, the pairs of learners whose answer cells are most alike (copydetect's "
             "winnowing fingerprints, variable names and layout ignored, SQL in strings compared), with the "
             "passages they share highlighted. Starter code is not counted, nor passages more than 10% of the "
             "class wrote. The score is the mean of the two learners' shares of their own answer found in the "
             "other's. A high score is a reason to read both answers, not a finding; it changes no grade. "
             "<code>pglab grade --no-similarity</code> leaves this section out.</p>"]
    for challenge in challenges:
        parts.append(f"<h3>{html.escape(challenge.notebook)}</h3>")
        if challenge.compared < 2:
            parts.append(f"<p class='meta'>{challenge.compared} answer(s) handed in: nothing to compare.</p>")
            continue
        if not challenge.pairs:
            parts.append(f"<p class='meta'>{challenge.compared} answers compared: no two share a passage "
                         "beyond the starter code and what many learners wrote.</p>")
            continue
        parts.append(f"<p class='meta'>{challenge.compared} answer(s) compared; the {len(challenge.pairs)} most "
                     "alike pair(s):</p>")
        parts += [_pair(pair, opened=index == 0) for index, pair in enumerate(challenge.pairs)]
    return parts


def _pair(pair: SimilarPair, opened: bool) -> str:
    e = html.escape
    first, second = pair.students
    sides = "".join(
        f"<div><strong>{e(student)}</strong> <span class='meta'>({share:.0%} of their answer)</span>"
        f"<pre>{_marked(text, spans)}</pre></div>"
        for student, share, text, spans in zip(pair.students, pair.shares, pair.answers, pair.shared, strict=True))
    return (f"<details class='pair' data-pair='{e(pair.notebook)}::{e(first)}::{e(second)}' "
            f"data-score='{pair.score:.3f}'{' open' if opened else ''}><summary><strong>{pair.score:.0%}</strong> "
            f"{e(first)} and {e(second)}</summary><div class='side'>{sides}</div></details>")


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped, its ``spans`` (shared with the other answer) in ``<mark>``."""
    parts, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)
        if end <= start:
            continue
        parts += [html.escape(text[at:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        at = end
    parts.append(html.escape(text[at:]))
    return "".join(parts)


def _late_table(results: ClassResults) -> str:
    """Each notebook handed in after its learner's due date: when, how late, and the points it lost."""
    e = html.escape
    rows = []
    for penalty in results.late:
        late = penalty.lateness
        due = late.due_for_learner
        extension = late_by(late.extension.total_seconds()) if late.extension else ""
        rows.append(
            f"<tr data-late='{e(penalty.student)}::{e(penalty.assignment)}/{e(penalty.notebook)}' "
            f"data-penalty='{penalty.points:g}'><td>{e(penalty.student)}</td>"
            f"<td>{e(penalty.assignment)}/{e(penalty.notebook)}</td>"
            f"<td>{late.timestamp:%Y-%m-%d %H:%M} UTC</td><td>{due:%Y-%m-%d %H:%M} UTC</td><td>{extension}</td>"
            f"<td class='num'>{late_by(late.seconds_late)}</td>"
            f"<td class='num bad'>{_points(penalty.points)}</td><td class='num'>{_points(penalty.score)}</td></tr>")
    policies = ", ".join(sorted({p.policy for p in results.late}))
    return (f"<p>Notebooks handed in after the learner's due date (the assignment's, plus any extension); "
            f"late policy: {e(policies)}. Penalties are taken off grades.csv's score and grades-wide.csv's "
            f"total.</p><table><tr><th>learner</th><th>notebook</th><th>submitted</th><th>due</th><th>extension</th>"
            "<th class='num'>late by</th><th class='num'>penalty</th><th class='num'>points before</th></tr>"
            f"{''.join(rows)}</table>")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# -- plots (matplotlib, no pyplot: no GUI backend and no global state, so safe in any process) -------

def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG sits inside HTML


def _new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # imported when a report is drawn: it takes a while

    figure = Figure(figsize=(width, height), dpi=96)
    figure.set_layout_engine("constrained")
    return figure, figure.add_subplot()


class DrawnPlots:
    """The report's plots as earlier runs drew them, by a digest of what each shows.

    Drawing the three plots (and importing matplotlib to draw them) is two seconds of a re-run that
    re-grades one learner; when that learner's points did not change, neither did the plots. The SVG
    is taken from the folder when the data a plot shows is the same (matplotlib's SVG differs from
    one drawing to the next only in its random element ids). ``folder`` None: nothing is kept.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[Path] = set()

    def svg(self, kind: str, shown: object, draw: Callable[[], str]) -> str:
        """The plot of ``kind`` showing ``shown`` (JSON-able: all that ``draw`` draws from)."""
        if self.folder is None:
            return draw()
        key = hashlib.sha256(json.dumps([kind, shown, _matplotlib_version()]).encode()).hexdigest()
        path = self.folder / f"{kind}-{key}.svg"
        self.used.add(path)
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            pass
        drawn = draw()
        write_atomically(path, drawn.encode("utf-8"))
        return drawn

    def drop_unused(self) -> None:
        """Plots of earlier runs this report did not show: they would only pile up."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in self.folder.glob("*.svg"):
            if path not in self.used:
                path.unlink(missing_ok=True)


def _matplotlib_version() -> str:
    """Part of a plot's key (another matplotlib may draw it otherwise), read without importing it."""
    try:
        return importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _histograms(results: ClassResults, plots: DrawnPlots) -> str:
    """One histogram per graded assignment, side by side, each over its own 0..max points."""
    graded = [(assignment, results.assignment_max.get(assignment) or max(scores.values(), default=1.0) or 1.0,
               sorted(scores.values())) for assignment, scores in results.assignment_scores.items()]
    return plots.svg("histograms", graded, lambda: _draw_histograms(graded))


def _draw_histograms(graded: list[tuple[str, float, list[float]]]) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(max(8, 3 * len(graded)), 3.2), dpi=96)
    figure.set_layout_engine("constrained")
    axes = figure.subplots(1, len(graded), squeeze=False)[0]
    for ax, (assignment, maximum, scores) in zip(axes, graded, strict=True):
        ax.hist(scores, bins=min(20, max(int(maximum), 1)), range=(0, maximum), color="#3b6ea5",
                edgecolor="white")
        ax.set_xlim(0, maximum)
        ax.set_title(assignment, fontsize=10)
        ax.set_xlabel(f"points (of {_points(maximum)})")
        ax.set_ylabel("learners")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _notebook_strips(results: ClassResults, plots: DrawnPlots) -> str:
    labels = [f"{n} (of {_points(results.notebook_max[n])})" for n in reversed(results.notebooks)]
    strips = []
    for notebook in reversed(results.notebooks):
        maximum = results.notebook_max[notebook] or 1.0
        strips.append([100 * results.notebook_points.get((s, notebook), 0.0) / maximum for s in results.students
                       if (s, notebook) in results.submitted])
    return plots.svg("notebooks", [labels, strips], lambda: _draw_notebook_strips(labels, strips))


def _draw_notebook_strips(labels: list[str], strips: list[list[float]]) -> str:
    figure, ax = _new_figure(8, 0.5 + 0.55 * len(labels))
    for row, shares in enumerate(strips):
        if not shares:
            continue
        jitter = [row + 0.4 * ((index * 0.618) % 1 - 0.5) for index in range(len(shares))]
        median = _median(shares)
        ax.plot([median, median], [row - 0.32, row + 0.32], color="#b3261e", linewidth=1.5, zorder=2)
        ax.scatter(shares, jitter, s=26, alpha=0.65, color="#3b6ea5", linewidths=0, zorder=3)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlim(-3, 103)
    ax.set_xlabel("% of the notebook's points")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _failure_bars(results: ClassResults, plots: DrawnPlots) -> str:
    bars = [(f"{t.notebook} · {t.check}", 100 * t.share_failed, t.failed, t.submitted)
            for t in reversed(results.checks)]
    return plots.svg("checks", bars, lambda: _draw_failure_bars(bars))


def _draw_failure_bars(bars: list[tuple[str, float, int, int]]) -> str:
    figure, ax = _new_figure(8, 0.6 + 0.24 * len(bars))
    shares = [share for _, share, _, _ in bars]
    colours = ["#b3261e" if s >= 50 else "#e8a33d" if s > 0 else "#9bbf85" for s in shares]
    ax.barh(range(len(bars)), shares, color=colours, height=0.7)
    for index, (_, share, failed, submitted) in enumerate(bars):
        ax.text(min(share + 1, 88), index, f"{failed}/{submitted}", va="center", fontsize=7, color="#333")
    ax.set_yticks(range(len(bars)), [label for label, _, _, _ in bars], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of learners who failed the check")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
