"""Which learners' answers are most alike, per challenge: the "Similar answers" section of ``report.html``.

Copying is the first thing an instructor asks about after grades. This ranks, for each challenge,
the pairs of learners whose answer cells share the most code, with copydetect's winnowing
fingerprints (MOSS's method: hashes of every run of ``K`` normalised characters; copydetect's
``CodeFingerprint`` and ``compare_files``, which also locates the shared passages), never a home-made
diff. It only points at pairs for a person to read: it never changes a grade, and ``pglab grade
--no-similarity`` leaves it out.

What is compared is normalised first, here rather than by copydetect's own filter, because an
answer here is Python with SQL inside its strings:

- Python is tokenised as copydetect does (Pygments): variable, attribute and function names become
  ``V`` and ``F``, comments and layout go, so renaming variables or re-indenting hides nothing.
- A string that holds SQL is tokenised as SQL (keywords in one case, layout gone), not squashed to
  one ``S`` as copydetect does with every string: the query is most of an answer's substance.
  Other strings are ``S``. A ``%%sql`` cell is SQL throughout.

Two kinds of passage never count (copydetect's boilerplate): the starter code the learners were
given (the released notebook's code cells), and passages more than ``COMMON_SHARE`` of the class
wrote (but at least three learners): the one obvious correct query many learners find on their own
is not a sign of copying. Each pair's score is the mean of the two learners' shares of their own
answer (after those exclusions) that the other's answer also has.

Only pairs that share a counted passage are candidates; in a large class that is most pairs, so each is
first estimated from its distinct fingerprints and only the ``MEASURED_PER_SHOWN`` times ``PAIRS_SHOWN``
most alike are measured (``benchmarks/similarity.py``: about 4 ms per answer, linear in the class).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import io
import itertools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pygments import token
from pygments.lexers import PostgresLexer, PythonLexer

from pglab.grading import notebook_cells
from pglab.grading.atomic_files import write_atomically
from pglab.grading.course_layout import SOURCE, ChallengeNotebook
from pglab.grading.notebook_cells import SELF_CHECK_MARKER, UnreadableNotebook, nbgrader_meta, read_submission
from pglab.grading.reports.copydetect_without_plots import load_copydetect

if TYPE_CHECKING:
    from copydetect import CodeFingerprint

KEPT_ANSWERS = Path(".pglab") / "similarity"  # in OUT: where pglab grade keeps answers read (KeptAnswers)
K = 25  # normalised characters per fingerprint: about one short line of code
WINDOW = 1  # winnow window 1: every k-gram's hash is kept (answers are short; no sampling needed)
COMMON_SHARE = 0.10  # a passage more than this share of the class wrote is not a sign of copying
COMMON_FLOOR = 2  # ... but a passage two learners share is always counted
PAIRS_SHOWN = 5  # per challenge, in report.html
MEASURED_PER_SHOWN = 4  # pairs measured exactly (copydetect's compare_files) per pair shown
QUOTES = ('"""', "'''", '"', "'")  # longest first: what a string literal opens with
# A string holding a statement (anywhere in it: a learner's string may start with a comment or a fragment)
SQL_STATEMENT = re.compile(r"\b(select\b.*\bfrom|insert\s+into|update\b.*\bset|delete\s+from|with\b.*\bas\s*\(|"
                           r"(create|alter|drop)\s+(table|index|view|function)|copy\b.*\b(from|to)|truncate)\b",
                           re.IGNORECASE | re.DOTALL)
PYTHON_NAMES = {token.Name, token.Name.Variable, token.Name.Attribute}  # as copydetect's filter_code
_PYTHON = PythonLexer()
_SQL = PostgresLexer()


@dataclass(frozen=True)
class Normalised:
    """An answer's text as compared, with where each of its characters came from in the original."""

    text: str
    starts: np.ndarray  # per character of ``text``: start of the original token it stands for
    ends: np.ndarray  # ... and its end

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters a slice ``[start, end)`` of the normalised text stands for."""
        return int(self.starts[start]), int(self.ends[end - 1])


@dataclass(frozen=True)
class SimilarPair:
    """Two learners' answers to one challenge and what they share."""

    notebook: str  # "assignment/notebook"
    students: tuple[str, str]
    score: float  # mean of the two shares
    shared_size: int  # normalised characters of the first answer found in the second (ties: more first)
    shares: tuple[float, float]  # of each learner's own answer, the part the other also wrote
    answers: tuple[str, str]  # each learner's answer cells, as written
    shared: tuple[list[tuple[int, int]], list[tuple[int, int]]]  # spans of each answer found in the other


@dataclass(frozen=True)
class ChallengeSimilarity:
    """The most alike pairs of one challenge, best first, and how many answers were compared."""

    notebook: str
    compared: int
    pairs: list[SimilarPair]


# -- normalising --------------------------------------------------------------------------------------

class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def emit(self, text: str, start: int, end: int) -> None:
        """``text`` stands for the original characters ``[start, end)``."""
        self.parts.append(text)
        self.starts += [start] * len(text)
        self.ends += [end] * len(text)

    def keep(self, text: str, start: int) -> None:
        """``text`` as written: each character stands for itself."""
        self.parts.append(text)
        self.starts += range(start, start + len(text))
        self.ends += range(start + 1, start + len(text) + 1)

    def build(self) -> Normalised:
        return Normalised("".join(self.parts), np.array(self.starts, dtype=np.int64),
                          np.array(self.ends, dtype=np.int64))


def normalise(cells: list[str], cache: dict[str, Normalised] | None = None) -> tuple[str, Normalised]:
    """The answer's cells joined (as shown in the report), and that text normalised for comparing.

    ``cache``: cells already normalised in this run (most learners leave the given cells as they were)."""
    cache = {} if cache is None else cache
    texts, starts, ends = [], [], []
    offset = 0
    for cell in cells:
        one = cache.get(cell)
        if one is None:
            one = cache[cell] = _normalised_cell(cell)
        texts.append(one.text)
        starts.append(one.starts + offset)
        ends.append(one.ends + offset)
        offset += len(cell) + 2
    empty = np.array([], dtype=np.int64)
    return "\n\n".join(cells), Normalised("".join(texts), np.concatenate(starts) if starts else empty,
                                            np.concatenate(ends) if ends else empty)


def _normalised_cell(cell: str) -> Normalised:
    builder = _Builder()
    if cell.lstrip().startswith("%%sql"):
        body = cell.index("%%sql") + len("%%sql")
        _sql(cell[body:], body, builder)
    else:
        _python(cell, 0, builder)
    return builder.build()


def _python(code: str, base: int, out: _Builder) -> None:
    tokens = list(_PYTHON.get_tokens_unprocessed(code))
    literals: list[tuple[int, int, int]] = []  # adjacent string literals (one string): start, content, end
    index = 0
    while index < len(tokens):
        start, kind, value = tokens[index]
        if kind in token.String and kind is not token.String.Affix:
            quote = next((q for q in QUOTES if value.startswith(q)), None)
            if quote is not None and len(value) >= 2 * len(quote) and value.endswith(quote):  # one token
                literals.append((start, start + len(quote), start + len(value) - len(quote)))
                index += 1
                continue
            if quote is not None and quote == value:  # opening quote; the literal's pieces follow, up to the same quote
                close = next((j for j in range(index + 1, len(tokens))
                              if tokens[j][1] in token.String and tokens[j][2] == value), len(tokens) - 1)
                literals.append((start, start + len(quote), tokens[close][0]))
                index = close + 1
                continue
        if kind in token.Text or kind in token.Comment or kind is token.String.Affix:
            index += 1  # layout, comments and affixes (f, r, b) go; they do not end a string
            continue
        _string(code, literals, base, out)
        literals = []
        if kind in PYTHON_NAMES:
            out.emit("V", base + start, base + start + len(value))
        elif kind in token.Name.Function:
            out.emit("F", base + start, base + start + len(value))
        elif kind in token.Name.Class:
            out.emit("O", base + start, base + start + len(value))
        elif kind in token.String:  # a piece of a string the lexer did not open with a quote
            out.emit("S", base + start, base + start + len(value))
        else:
            out.keep(value, base + start)
        index += 1
    _string(code, literals, base, out)


def _string(code: str, literals: list[tuple[int, int, int]], base: int, out: _Builder) -> None:
    """One string, written as ``literals`` side by side (Python joins them): its SQL tokenised, if it
    holds a statement, anything else one ``S``."""
    if not literals:
        return
    whole, end = literals[0][0], literals[-1][2]
    out.emit('"', base + whole, base + literals[0][1])
    if SQL_STATEMENT.search(" ".join(code[inside:stop] for _, inside, stop in literals)):
        for _, inside, stop in literals:
            _sql(code[inside:stop] + " ", base + inside, out)
    elif any(inside < stop for _, inside, stop in literals):
        out.emit("S", base + literals[0][1], base + end)
    out.emit('"', base + end, base + end + 1)


def _sql(code: str, base: int, out: _Builder) -> None:
    for start, kind, value in _SQL.get_tokens_unprocessed(code):
        if kind in token.Text or kind in token.Comment:
            continue
        if kind in token.Keyword:
            out.emit(value.upper(), base + start, base + start + len(value))
        elif kind in token.Name:
            out.emit(value.lower(), base + start, base + start + len(value))
        else:
            out.keep(value, base + start)


# -- fingerprints and pairs ------------------------------------------------------------------------------

def _hashes(normalised: Normalised) -> set[int]:
    # copydetect is loaded where it is used, not with this module, and without pyplot
    # (:mod:`.copydetect_without_plots`): a run that ranks nothing again never imports it.
    copydetect = load_copydetect()
    return set(copydetect.utils.get_document_fingerprints(normalised.text, K, WINDOW)[0])


def _fingerprint(normalised: Normalised, excluded: set[int]) -> CodeFingerprint:
    """copydetect's fingerprint of the normalised answer, without the ``excluded`` passages.

    They are removed here rather than by copydetect's ``boilerplate`` argument: with window 1 it
    matches hashes with ``numpy.intersect1d(assume_unique=True)``, and so also drops all but the last
    occurrence of any passage an answer repeats, boilerplate or not (tried: ``abcdeXabcdeY`` with an
    unrelated boilerplate keeps only the second ``abcde``), which would leave copied lines unmarked.
    """
    copydetect = load_copydetect()  # when used: see _hashes
    fingerprint: CodeFingerprint = copydetect.CodeFingerprint("answer.py", K, WINDOW, filter=False,
                                                              fp=io.StringIO(normalised.text))
    dropped = fingerprint.hashes & excluded
    if dropped:
        fingerprint.hashes -= dropped
        for value in dropped:
            del fingerprint.hash_idx[value]
        fingerprint.token_coverage = copydetect.utils.get_token_coverage(fingerprint.hash_idx, K, len(normalised.text))
    return fingerprint


def _spans(normalised: Normalised, slices: np.ndarray) -> list[tuple[int, int]]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return []
    return [normalised.original_span(int(s), int(e)) for s, e in zip(slices[0], slices[1], strict=True)]


def _estimate(first: set[int], second: set[int]) -> tuple[float, int]:
    """A pair's score from its distinct passages (and how many it shares), before it is measured."""
    shared = len(first & second)
    return ((shared / len(first) + shared / len(second)) / 2 if shared else 0.0), shared


def similar_pairs(notebook: str, answers: dict[str, list[str]], starter: list[str],
                  shown: int = PAIRS_SHOWN) -> ChallengeSimilarity:
    """The ``shown`` most alike pairs of learners' answers to one challenge, best first.

    ``answers``: each learner's answer cells; ``starter``: the code cells they were given.
    """
    compare_files = load_copydetect().compare_files  # when used: see _hashes
    texts: dict[str, str] = {}
    normalised: dict[str, Normalised] = {}
    cache: dict[str, Normalised] = {}
    for student, cells in sorted(answers.items()):
        texts[student], normalised[student] = normalise(cells, cache)
    starter_hashes = _hashes(normalise(starter, cache)[1])
    hashes = {student: _hashes(n) - starter_hashes for student, n in normalised.items()}
    writers = Counter(value for found in hashes.values() for value in found)
    limit = max(COMMON_FLOOR, COMMON_SHARE * len(hashes))
    common = {value for value, count in writers.items() if count > limit}
    excluded = starter_hashes | common
    # Only pairs sharing a passage that counts are compared (most of a large class's pairs share none).
    holders: dict[int, list[str]] = defaultdict(list)
    for student, found in hashes.items():
        for value in found - common:
            holders[value].append(student)
    candidates = {pair for members in holders.values() for pair in itertools.combinations(sorted(members), 2)}
    # In a large class most pairs share some passage: each is estimated from its fingerprints first
    # (the shares of distinct passages), and only the most alike are measured, located and shown.
    counted = {student: found - common for student, found in hashes.items()}
    estimate = {(a, b): _estimate(counted[a], counted[b]) for a, b in candidates}
    ranked = sorted(candidates, key=lambda pair: (-estimate[pair][0], -estimate[pair][1], pair))
    measured = ranked[:max(MEASURED_PER_SHOWN * shown, 20)]
    fingerprints = {student: _fingerprint(normalised[student], excluded)
                    for student in sorted({s for pair in measured for s in pair})}
    pairs: list[SimilarPair] = []
    for first, second in measured:
        overlap, shares, slices = compare_files(fingerprints[first], fingerprints[second])
        if overlap == 0:
            continue
        share_pair = (min(float(shares[0]), 1.0), min(float(shares[1]), 1.0))
        pairs.append(SimilarPair(notebook, (first, second), sum(share_pair) / 2, int(overlap), share_pair,
                                 (texts[first], texts[second]),
                                 (_spans(normalised[first], slices[0]), _spans(normalised[second], slices[1]))))
    pairs.sort(key=lambda p: (-round(p.score, 2), -p.shared_size, p.students))
    return ChallengeSimilarity(notebook, len(answers), pairs[:shown])


# -- reading the notebooks ----------------------------------------------------------------------------------

def _code_cells(notebook: dict) -> Iterator[tuple[dict, str]]:
    for cell in notebook.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield cell, "".join(str(line) for line in source) if isinstance(source, list) else str(source)


def starter_cells(challenge: ChallengeNotebook) -> list[str]:
    """The code a learner was given: the released notebook's code cells; for an nbgrader source of
    another course (``--source``), those of the notebook nbgrader releases from it (solutions cleared
    to the course's code stubs)."""
    if challenge.source_root == SOURCE and challenge.release.is_file():  # the course's own challenge
        released = json.loads(challenge.release.read_text(encoding="utf-8"))
    else:  # deferred: nbgrader's preprocessors cost a run of the course's own challenges 0.6 s
        from pglab.grading.nbgrader_preprocessing import release_source

        released = release_source(challenge.source, challenge.nbgrader)
    return [text for _, text in _code_cells(released)]


def answer_cells(challenge: ChallengeNotebook, submitted: Path) -> list[str]:
    """A learner's answer cells: the code cells of their notebook that are not the source's locked
    cells (set-up, checks) nor the self-check call. An unreadable notebook has none."""
    try:
        notebook = read_submission(submitted)
    except UnreadableNotebook:
        return []
    locked = _locked_ids(challenge.source)
    return [text for cell, text in _code_cells(notebook)
            if nbgrader_meta(cell).get("grade_id") not in locked and SELF_CHECK_MARKER not in text and text.strip()]


@functools.lru_cache(maxsize=64)
def _locked_ids(source_path: Path) -> frozenset[str]:
    """The ids of a source notebook's locked cells (set-up, checks), read once per run."""
    source = json.loads(source_path.read_text(encoding="utf-8"))
    return frozenset(str(nbgrader_meta(cell)["grade_id"]) for cell, _ in _code_cells(source)
                     if nbgrader_meta(cell).get("grade_id")
                     and (nbgrader_meta(cell).get("locked") or nbgrader_meta(cell).get("grade")))


def class_similarity(submissions: Iterable[tuple[str, ChallengeNotebook, Path]],
                     shown: int = PAIRS_SHOWN, kept: Path | None = None) -> list[ChallengeSimilarity]:
    """Each challenge's most alike pairs, from ``(student, challenge, submitted notebook)``.

    ``kept``: a folder where each notebook's answer cells and each challenge's ranking are kept from
    one run to the next (:class:`KeptAnswers`), so a re-run reads only the notebooks that changed and
    ranks again only the challenges whose answers changed."""
    ranking = rank_similar(submissions, shown, kept)
    ranking.keep()
    return ranking.challenges


@dataclass(frozen=True)
class ClassRanking:
    """Each challenge's most alike pairs, and what to keep of them for the next run (:meth:`keep`)."""

    challenges: list[ChallengeSimilarity]
    _kept: list[tuple[KeptAnswers, str]]  # per challenge, in the same order: its answers read, the inputs' digest

    def keep(self) -> None:
        """Write what the next run reuses. Apart from ranking: a run may rank early (while its first
        kernel starts) and then stop without writing anything (a check fails the reference)."""
        for (answers, inputs), ranked in zip(self._kept, self.challenges, strict=True):
            answers.save(inputs, ranked)


def rank_similar(submissions: Iterable[tuple[str, ChallengeNotebook, Path]], shown: int = PAIRS_SHOWN,
                 kept: Path | None = None) -> ClassRanking:
    """:func:`class_similarity` without writing anything yet."""
    by_challenge: dict[ChallengeNotebook, dict[str, Path]] = defaultdict(dict)
    for student, challenge, path in submissions:
        by_challenge[challenge][student] = path
    found, to_keep = [], []
    for challenge, paths in sorted(by_challenge.items(), key=lambda item: (item[0].assignment, item[0].notebook)):
        answers = KeptAnswers(kept, challenge)
        cells = {student: answers.answer(path) for student, path in paths.items()}
        starter = starter_cells(challenge)
        inputs = hashlib.sha256(json.dumps([sorted(cells.items()), starter, shown]).encode()).hexdigest()
        ranked = answers.ranking(inputs)
        if ranked is None:  # some answer changed: ranked again (copydetect is imported only then)
            ranked = similar_pairs(answers.notebook, cells, starter, shown)
        found.append(ranked)
        to_keep.append((answers, inputs))
    return ClassRanking(found, to_keep)


class KeptAnswers:
    """One challenge's submitted notebooks' answer cells, by the digest of the file, and the last
    ranking with the digest of the answers it was made from.

    A re-run that re-graded one learner read all 900 notebooks of a class of 300 and ranked every
    challenge again. A ranking made from the same answers is the same ranking: a challenge whose
    answers did not change is not ranked again (nor copydetect imported for it). What is kept is
    valid only for the same challenge source (its locked cells), the same code reading and ranking
    answers, and the same copydetect and Pygments: all part of the key; anything else starts afresh.
    The fingerprints themselves are not kept: copydetect hashes with Python's ``hash()``, salted
    per process, so they are comparable within one run only. ``folder`` None: nothing is kept.
    """

    def __init__(self, folder: Path | None, challenge: ChallengeNotebook) -> None:
        self.challenge = challenge
        self.notebook = f"{challenge.assignment}/{challenge.notebook}"
        self.path = folder / challenge.assignment / f"{challenge.notebook}.json" if folder is not None else None
        self.key = _answers_key(challenge)
        self.entries: dict[str, list[str]] = {}
        self.used: dict[str, list[str]] = {}
        self.ranked: tuple[str, ChallengeSimilarity] | None = None  # the last ranking and what it was made from
        if self.path is not None:
            try:
                record = json.loads(self.path.read_text(encoding="utf-8"))
                if record["key"] == self.key:
                    self.entries = {digest: [str(cell) for cell in cells]
                                    for digest, cells in record["answers"].items()}
                    self.ranked = (str(record["ranked"]["inputs"]), _ranking_from_json(record["ranked"]))
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                self.entries, self.ranked = {}, None

    def ranking(self, inputs: str) -> ChallengeSimilarity | None:
        """The ranking kept, if it was made from the same answers (``inputs``: their digest)."""
        return self.ranked[1] if self.ranked is not None and self.ranked[0] == inputs else None

    def answer(self, submitted: Path) -> list[str]:
        """A learner's answer cells (:func:`answer_cells`)."""
        try:
            digest = hashlib.sha256(submitted.read_bytes()).hexdigest()
        except OSError:
            digest = ""
        entry = self.entries.get(digest) if digest else None
        if entry is None:
            entry = answer_cells(self.challenge, submitted)
        if digest:
            self.used[digest] = entry
        return entry

    def save(self, inputs: str, ranked: ChallengeSimilarity) -> None:
        """Keep what this run used (a notebook no longer submitted is dropped) and its ranking, if changed."""
        if self.path is None or (self.used.keys() == self.entries.keys() and self.ranking(inputs) is not None):
            return
        answers = dict(sorted(self.used.items()))
        record = {"key": self.key, "answers": answers, "ranked": {"inputs": inputs, **_ranking_json(ranked)}}
        write_atomically(self.path, json.dumps(record).encode("utf-8"))


def _ranking_json(ranked: ChallengeSimilarity) -> dict[str, object]:
    return {"notebook": ranked.notebook, "compared": ranked.compared,
            "pairs": [[list(p.students), p.score, p.shared_size, list(p.shares), list(p.answers),
                       [[list(span) for span in spans] for spans in p.shared]] for p in ranked.pairs]}


def _ranking_from_json(data: dict) -> ChallengeSimilarity:
    """What :func:`_ranking_json` wrote (JSON keeps Python's floats exactly)."""
    pairs = [SimilarPair(str(data["notebook"]), (str(students[0]), str(students[1])), float(score), int(size),
                         (float(shares[0]), float(shares[1])), (str(answers[0]), str(answers[1])),
                         ([(int(a), int(b)) for a, b in shared[0]], [(int(a), int(b)) for a, b in shared[1]]))
             for students, score, size, shares, answers, shared in data["pairs"]]
    return ChallengeSimilarity(str(data["notebook"]), int(data["compared"]), pairs)


def _answers_key(challenge: ChallengeNotebook) -> str:
    digest = hashlib.sha256(json.dumps([K, WINDOW, _version("copydetect"), _version("pygments")]).encode())
    for code in (Path(__file__), Path(notebook_cells.__file__), challenge.source):
        try:
            digest.update(code.read_bytes())
        except OSError:
            digest.update(b"\0unreadable")
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""
