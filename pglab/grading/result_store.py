"""The grader's memory in ``OUT/.pglab/``: each notebook's outcome, and what it was graded from.

A re-run of ``pglab grade`` grades only what is new: a notebook without a stored outcome, one left
ungraded by a fault, or one whose fingerprint changed (the submitted file's bytes, the challenge's
source notebook and check modules, the course data, the limits; for a notebook graded by its own
nbgrader test cells, also the files beside the source notebook and beside the submitted one, since
both are copied next to it). Everything else is read back from
here, so the class-wide outputs of a partial run are built from the same records as a full run's.
Records are written atomically (temporary file, then rename): a run killed at any moment leaves
either the old record or the new one, never half of one.

The folder also holds the run lock, so two ``pglab grade`` runs never write one ``--out`` at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import astuple
from pathlib import Path

from pglab.errors import FaultKind, GraderFault, PglabError
from pglab.grading.atomic_files import write_atomically
from pglab.grading.course_layout import ChallengeNotebook
from pglab.grading.outcome import NotebookOutcome, OutcomeState
from pglab.grading.strategies import GradingStrategy, strategy_for
from pglab.grading.timeouts import Limits

# Bump when a change to the grader itself changes what a notebook would score.
GRADER_REVISION = "2"


class Fingerprints:
    """What a notebook's grade depends on, hashed: one digest per challenge, cached for the run."""

    def __init__(self, data_fingerprint: str, limits: Limits) -> None:
        self.base = f"{GRADER_REVISION}|{data_fingerprint}|{astuple(limits)}"
        self._challenges: dict[ChallengeNotebook, str] = {}
        self._strategies: dict[ChallengeNotebook, GradingStrategy] = {}  # a class of 300: 3, asked 900 times

    def challenge(self, challenge: ChallengeNotebook) -> str:
        if challenge not in self._challenges:
            digest = hashlib.sha256(self.base.encode())
            for path in (challenge.source, *challenge.check_files()):
                digest.update(path.name.encode() + b"\0")
                digest.update(path.read_bytes() if path.is_file() else b"<none>")
            for name, path in self._strategy(challenge).source_inputs():
                digest.update(name.encode() + b"\0" + path.read_bytes())
            self._challenges[challenge] = digest.hexdigest()
        return self._challenges[challenge]

    def job(self, challenge: ChallengeNotebook, submitted: Path | None) -> str:
        digest = hashlib.sha256(self.challenge(challenge).encode())
        digest.update(submitted.read_bytes() if submitted is not None else b"<not submitted>")
        for name, path in self._strategy(challenge).submission_inputs(submitted) if submitted is not None else []:
            digest.update(name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def _strategy(self, challenge: ChallengeNotebook) -> GradingStrategy:
        if challenge not in self._strategies:
            self._strategies[challenge] = strategy_for(challenge)
        return self._strategies[challenge]


class ResultStore:
    def __init__(self, out: Path) -> None:
        self.root = out / ".pglab" / "results"
        # id(outcome) -> (outcome, digest of its record's bytes): what each outcome this store read
        # or wrote was made from (the outcome is held, so its id is not reused while it is here)
        self._records: dict[int, tuple[NotebookOutcome, str]] = {}

    def _path(self, student: str, assignment: str, notebook: str) -> Path:
        return self.root / student / assignment / f"{notebook}.json"

    def load(self, student: str, assignment: str, notebook: str) -> tuple[str, NotebookOutcome] | None:
        """The stored (fingerprint, outcome), or None when there is none or it cannot be read."""
        try:
            data = self._path(student, assignment, notebook).read_bytes()
            record = json.loads(data)
            outcome = NotebookOutcome.from_json(record["outcome"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if outcome.state is OutcomeState.NOT_GRADED:
            return None
        self._remember(outcome, data)
        return str(record["fingerprint"]), outcome

    def save(self, fingerprint: str, outcome: NotebookOutcome) -> None:
        record = {"fingerprint": fingerprint, "outcome": outcome.to_json()}
        data = json.dumps(record, indent=1).encode()
        write_atomically(self._path(outcome.student, outcome.assignment, outcome.notebook), data)
        self._remember(outcome, data)

    def _remember(self, outcome: NotebookOutcome, record: bytes) -> None:
        self._records[id(outcome)] = (outcome, hashlib.sha256(record).hexdigest())

    def digest(self, outcome: NotebookOutcome) -> str:
        """What ``outcome`` is, as a digest: that of the record it was read from or written to, or, for
        one never stored (not graded), of its JSON. Hashing each outcome's JSON again cost a re-run of
        a class of 300 0.15 s (0.3 s beside the imports of a run's end) to learn what the store knew."""
        known = self._records.get(id(outcome))
        if known is not None and known[0] is outcome:
            return known[1]
        return "json:" + hashlib.sha256(json.dumps(outcome.to_json(), sort_keys=True, default=str).encode()).hexdigest()


class OutputLock:
    """One ``pglab grade`` per ``--out`` at a time: an exclusive lock on ``OUT/.pglab/lock``.

    The lock is the kernel's (flock): it is released however the holder ends, kill -9 included.
    """

    def __init__(self, out: Path) -> None:
        self.path = out / ".pglab" / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise GraderFault(FaultKind.OUTPUT, f"{err.strerror or err}: {err.filename or self.path}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise PglabError(f"another pglab grade (pid {holder}) is writing to {self.path.parent.parent}: "
                             "wait for it to finish, or pass another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
