"""Feedback a learner reads: per check, what passed and what to fix. Never the checks' code.

The page shows each check's one-line description and message, notes about the run (a cell that
timed out, a kernel that died), and the learner's own answer cells' output. Hidden checks appear
only by their description and message; their source is never read, let alone rendered. An
answer left for the instructor to grade by hand is not a failure: it says so, with its points.
A notebook handed in after its due date says how late, and its score is after the late penalty.
"""

from __future__ import annotations

import html
from pathlib import Path

from pglab.grading.atomic_files import write_if_changed
from pglab.grading.late_penalties import LatePenalty
from pglab.grading.outcome import CellKind, NotebookOutcome

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 860px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } .score { font-size: 1.2em; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #ddd; padding: 6px; }
.pass { color: #137333; } .fail { color: #b3261e; } pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
.note { background: #fff4e5; padding: 6px 10px; border-left: 3px solid #f29900; } .by-hand { color: #555; }
"""


def render(outcome: NotebookOutcome, late: LatePenalty | None = None) -> str:
    e = html.escape
    rows = []
    for result in outcome.results:
        kind = "hidden check" if result.hidden else "visible check"
        if result.by_hand:
            rows.append(
                f"<tr><td class='by-hand'>✎</td><td>{e(result.description)}<br><small>graded by hand</small></td>"
                f"<td>up to {result.max_points:g}</td><td class='by-hand'>{e(result.message)}</td></tr>")
            continue
        css = "pass" if result.passed else "fail"
        mark = "✔" if result.passed else "✘"
        detail = "" if result.passed else e(result.message)
        rows.append(
            f"<tr><td class='{css}'>{mark}</td><td>{e(result.description)}<br><small>{kind}</small></td>"
            f"<td>{result.points:g} / {result.max_points:g}</td><td>{detail}</td></tr>")
    pending = sum(r.max_points for r in outcome.results if r.by_hand)
    notes = "".join(f"<p class='note'>{e(n)}</p>" for n in outcome.notes)
    if late is not None:
        notes = f"<p class='note late'>Late: {e(late.line())}</p>" + notes
    score = outcome.score - (late.points if late is not None else 0.0)
    before = (f" <span class='late'>({outcome.score:g} before the late penalty of {late.points:g})</span>"
              if late is not None and late.points else "")
    cells = "".join(
        f"<h3>{e(c.label)}: {e(c.status.value)}</h3>"
        + (f"<pre>{e(c.output[:4000])}</pre>" if c.output.strip() else "")
        + (f"<p class='fail'>{e(c.error)}</p>" if c.error else "")
        for c in outcome.cells if c.kind is CellKind.SUBMITTED)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{e(outcome.assignment)}/{e(outcome.notebook)}: feedback</title><style>{STYLE}</style></head>"
        f"<body><h1>{e(outcome.assignment)} / {e(outcome.notebook)}</h1>"
        f"<p class='score'>Score: <b>{score:g} / {outcome.max_points:g}</b>{before}"
        + (f" <span class='by-hand'>(up to {pending:g} of these points are graded by your instructor)</span>"
           if pending else "") + f"</p>{notes}"
        "<table><tr><th></th><th>check</th><th>points</th><th>what to fix</th></tr>"
        f"{''.join(rows)}</table>"
        + (f"<h2>Your cells, as the grader ran them</h2>{cells}" if cells else "")
        + "</body></html>")


def page_path(outcome: NotebookOutcome, feedback_root: Path) -> Path:
    return feedback_root / outcome.student / outcome.assignment / f"{outcome.notebook}.html"


def write(outcome: NotebookOutcome, feedback_root: Path, late: LatePenalty | None = None) -> Path:
    """The page, written only if it differs from the one already there (a re-run rewrites few)."""
    path = page_path(outcome, feedback_root)
    write_if_changed(path, render(outcome, late).encode("utf-8"))
    return path
