"""``report.html`` as a test reads it: each check's row (its data-* attributes), its figures, and
anything that would load from outside the file."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportPage(HTMLParser):
    """The check rows and similar pairs (their data-* attributes) and anything that would load from outside the file."""

    def __init__(self) -> None:
        super().__init__()
        self.checks: dict[str, tuple[int, int]] = {}
        self.external: list[str] = []
        self.svgs = 0
        self.pairs: dict[str, float] = {}  # "notebook::learner::learner" -> score, in the order shown
        self.marks = 0  # highlighted passages in the "Similar answers" section

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "mark":
            self.marks += 1
        if "data-pair" in found:
            self.pairs[found["data-pair"] or ""] = float(found["data-score"] or 0)
        if "data-check" in found:
            self.checks[found["data-check"] or ""] = (int(found["data-failed"] or 0),
                                                     int(found["data-submitted"] or 0))
        for key in ("src", "href"):
            value = found.get(key) or ""
            if value and not value.startswith(("#", "data:")):
                self.external.append(f"{tag} {key}={value}")
        if tag in ("script", "link", "iframe"):
            self.external.append(tag)
