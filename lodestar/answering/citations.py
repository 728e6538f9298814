"""Citations: the passage record behind each `[n]`, and a generated answer's citations checked
against the passages it was given."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lodestar.core.text import CITATION, group_numbers, location
from lodestar.retrieval.passages import Passage

# Small models sometimes cite as "(1)" at the end of a line.
_PAREN_CITATION = re.compile(r"\((\d{1,2}(?:\s*,\s*\d{1,2})*)\)(?=[.;,]?[ \t]*$)", re.MULTILINE)


@dataclass
class Citation:
    """A passage as supplied to the model under number `n`."""

    n: int
    source: str
    title: str
    heading: str
    text: str
    score: float
    page: int | None = None

    @property
    def location(self) -> str:
        """'title › heading' for display."""
        return location(self.title, self.heading)


def citation_for(n: int, passage: Passage) -> Citation:
    """The citation record of passage `n`."""
    return Citation(
        n=n,
        source=passage.source,
        title=passage.title,
        heading=passage.heading,
        text=passage.text,
        score=passage.score,
        page=passage.page,
    )


@dataclass
class CitationCheck:
    """Result of checking a generated answer's citations against the supplied passages."""

    text: str
    cited: list[int]
    removed: list[int]


def check_citations(text: str, supplied: int) -> CitationCheck:
    """Keep citations to passages 1..supplied, remove any other, and list both."""
    cited: list[int] = []
    removed: list[int] = []

    def fix(match: re.Match[str]) -> str:
        numbers = group_numbers(match.group(1))
        valid = [n for n in numbers if 1 <= n <= supplied]
        removed.extend(n for n in numbers if not 1 <= n <= supplied)
        cited.extend(n for n in valid if n not in cited)
        return "".join(f"[{n}]" for n in valid)

    # Read a "(1)" at the end of a line as "[1]".
    text = _PAREN_CITATION.sub(lambda m: f"[{m.group(1)}]", text)
    fixed = CITATION.sub(fix, text)
    fixed = re.sub(r"[ \t]+([.,;:])", r"\1", fixed)
    return CitationCheck(text=fixed.strip(), cited=cited, removed=sorted(set(removed)))
