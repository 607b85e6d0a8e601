"""The grading corpus: sample submissions and the grade each must get (:class:`~tests.corpus.case.Case`).

``CASES`` is every case of every file, as the corpus test grades them in one batch; other tests
pick from it (a correct and a wrong notebook per challenge).
"""

from __future__ import annotations

from tests.corpus import cases_core, cases_extra, cases_hostile, cases_returns
from tests.corpus.case import Case

CASES: list[Case] = [*cases_core.CASES, *cases_extra.CASES, *cases_hostile.CASES, *cases_returns.CASES]
