"""How long report.html's "Similar answers" section takes: N learners x the course's 7 challenges.

Each learner's answer to a challenge is the reference answer (from solutions/) line by line, each
line either kept, taken from a small pool of variants of it (renamed names, other literals: shared by
a few learners each, as honest answers are), or the learner's own. Every tenth learner copies the
previous one's answers with names changed. That makes many pairs share a passage below the
10%-of-the-class cut, the expensive case. The notebooks are written to a temporary folder and ranked
from there, as ``pglab grade`` does (:func:`pglab.grading.reports.similarity.class_similarity`).

Prints, per class size, the median wall time of ``--repeats`` runs and what the top pair of each
challenge was (the copiers should be at the top).

    python benchmarks/similarity.py [--learners 30 60 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from pglab.grading.course_layout import ChallengeNotebook, assignments
from pglab.grading.notebook_cells import nbgrader_meta
from pglab.grading.reports.similarity import class_similarity

VARIANTS = 12  # variants of each line: each shared by about 1/12 of the class (under the 10% cut)
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def reference_answer(challenge: ChallengeNotebook) -> tuple[str, list[str]]:
    """The grade id of the challenge's first answer cell and the reference answer's lines."""
    notebook = json.loads(challenge.source.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            return meta["grade_id"], [line for line in lines if not MARKER.match(line)]
    raise SystemExit(f"{challenge.source} has no answer cell")


def variant(line: str, number: int, in_string: bool) -> str:
    """The line with its names changed in one of ``VARIANTS`` ways (layout kept)."""
    renamed = re.sub(r"\b([a-z_][a-z0-9_]*)\b", lambda m: f"{m.group(1)}{number}"
                     if m.group(1) not in {"def", "return", "with", "as", "for", "in", "if", "else", "import",
                                           "from", "try", "except", "raise", "not", "and", "or", "None"}
                     else m.group(1), line)
    return renamed if in_string else f"{renamed}  # v{number}"


def answer(lines: list[str], rng: random.Random, learner: int) -> str:
    written = []
    in_string = False  # inside a triple-quoted string (a query): changes stay SQL
    for index, line in enumerate(lines):
        opens = line.count('"""') % 2 == 1
        roll = rng.random()
        if roll < 0.4 or not line.strip() or opens:
            written.append(line)
        elif roll < 0.8:
            written.append(variant(line, rng.randrange(VARIANTS), in_string))
        else:
            indent = line[:len(line) - len(line.lstrip())]
            own = f"own_{learner}_{index}"
            written.append(f"{indent}AND {own} = {rng.randrange(10**6)}" if in_string
                           else f"{indent}{own} = {rng.randrange(10**6)} * {rng.randrange(10**6)}")
        in_string ^= opens
    return "\n".join(written) + "\n"


def write_class(folder: Path, learners: int, seed: int = 1) -> list[tuple[str, ChallengeNotebook, Path]]:
    rng = random.Random(seed)
    challenges = [c for notebooks in assignments().values() for c in notebooks]
    submissions = []
    previous: dict[ChallengeNotebook, str] = {}
    for learner in range(learners):
        student = f"learner{learner:03d}"
        for challenge in challenges:
            grade_id, lines = reference_answer(challenge)
            if learner % 10 == 9 and challenge in previous:  # copies the previous learner, names changed
                text = re.sub(r"\bown_(\d+)_", r"mine_\1_", previous[challenge])
            else:
                text = answer(lines, rng, learner)
            previous[challenge] = text
            notebook = json.loads(challenge.release.read_text(encoding="utf-8"))
            for cell in notebook["cells"]:
                if nbgrader_meta(cell).get("grade_id") == grade_id:
                    cell["source"] = text
            path = folder / student / challenge.assignment / f"{challenge.notebook}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(notebook), encoding="utf-8")
            submissions.append((student, challenge, path))
    return submissions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[30, 60, 300])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for learners in args.learners:
        with tempfile.TemporaryDirectory(prefix="pglab-similarity-") as tmp:
            submissions = write_class(Path(tmp), learners)
            seconds = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                ranked = class_similarity(submissions)
                seconds.append(time.perf_counter() - started)
        challenges = len(ranked)
        print(f"{learners} learners x {challenges} challenges: median {statistics.median(seconds):.2f} s "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f}, {args.repeats} runs), "
              f"{statistics.median(seconds) / (learners * challenges) * 1000:.1f} ms per answer")
        for challenge in ranked:
            top = challenge.pairs[0] if challenge.pairs else None
            print(f"  {challenge.notebook}: " + (f"top pair {top.students[0]} and {top.students[1]} "
                                                 f"({top.score:.0%})" if top else "no pair"))


if __name__ == "__main__":
    main()
