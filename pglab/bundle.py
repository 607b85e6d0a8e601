"""``pglab bundle``: the copy of the course a learner gets, without anything instructor-only.

It is made from the files git tracks (so nothing local leaks in) minus ``solutions/`` (reference
answers), ``grader/`` (hidden checks, course config, gradebook), ``tests/`` (the graded sample
submissions), ``scripts/`` (maintainer tools) and CI files; then it is scanned, and refused, if any
solution or hidden-test marker slipped through. Its README is the learner guide: the full README and
the instructor guide describe commands (``make test``, ``pglab grade``) that need the parts a learner does not get.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pglab.errors import PglabError
from pglab.settings import PROJECT_ROOT

EXCLUDED_TOP = {"solutions", "grader", "tests", "scripts", ".ci", ".git", ".github"}
# The grading benchmarks grade generated submissions from the test corpus, the similarity benchmark
# makes a class's answers from solutions/, and the mutation run mutates the reference answers of
# solutions/ and grader/: none has anything to work on in a bundle. README.md is replaced.
EXCLUDED_FILES = {"benchmarks/grading.py", "benchmarks/classroom_grading.py", "benchmarks/similarity.py",
                  "benchmarks/mutation.py", "docs/instructor-guide.md", "README.md"}
LEARNER_README = Path("docs") / "learner-guide.md"
# Spelled in pieces so that this file does not trip its own scan.
FORBIDDEN_MARKERS = ("BEGIN " + "HIDDEN TESTS", "### BEGIN " + "SOLUTION")


def tracked_files(root: Path = PROJECT_ROOT) -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise PglabError(f"{root} is not a git checkout: make the bundle from a clone of the course") from None
    return [Path(name) for name in listed.decode().split("\0") if name]


def learner_files(root: Path = PROJECT_ROOT) -> list[Path]:
    return [p for p in tracked_files(root)
            if p.parts[0] not in EXCLUDED_TOP and p.as_posix() not in EXCLUDED_FILES and (root / p).is_file()]


def make_bundle(target: Path, root: Path = PROJECT_ROOT) -> Path:
    if target.exists() and any(target.iterdir()):
        raise PglabError(f"{target} is not empty: choose a new folder for the bundle")
    files = learner_files(root)
    for relative in files:
        text = (root / relative).read_bytes()
        for marker in FORBIDDEN_MARKERS:
            if marker.encode() in text and relative.suffix in (".ipynb", ".py"):
                raise PglabError(f"{relative} contains '{marker}': refusing to bundle instructor material")
    for relative in files:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    shutil.copy2(root / LEARNER_README, target / "README.md")
    return target
