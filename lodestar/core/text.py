"""Text rules every layer shares: how a citation is written, where a sentence ends, how a
passage is named. One copy of each; the variants callers need are parameters."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal


def citation_pattern(*, groups: bool = True) -> re.Pattern[str]:
    """A citation as answers write it, its numbers in group 1: "[1]", and with `groups` (the
    default) also "[1, 2]"; without, only single numbers (how the web app highlights them)."""
    more = r"(?:\s*,\s*\d+)*" if groups else ""
    return re.compile(rf"\[(\d+{more})\]")


CITATION = citation_pattern()


def group_numbers(group: str) -> list[int]:
    """The numbers of one citation's group 1 ("1, 2" gives 1, 2)."""
    return [int(n) for n in group.split(",")]


def cited_numbers(text: str, supplied: int | None = None) -> list[int]:
    """The passage numbers `text` cites, in order.

    Without `supplied`, every number with repeats ("[1] … [2, 3] … [1]": 1, 2, 3, 1); with it,
    only 1..supplied, each once, in the order first cited.
    """
    numbers = [n for group in CITATION.findall(text) for n in group_numbers(group)]
    if supplied is None:
        return numbers
    return list(dict.fromkeys(n for n in numbers if 1 <= n <= supplied))


# What may open the next sentence, for `split_sentences(next_start=...)`.
CAPITAL = "[A-Z]"
# A claim may also open with a citation, a bracket, a quote, a figure or an amount.
CLAIM_START = r"[\[(\"'A-Z0-9$]"


@cache
def _sentence_break(next_start: str | None, newlines: bool) -> re.Pattern[str]:
    pattern = r"(?<=[.!?])\s+"
    if next_start is not None:
        pattern += f"(?={next_start})"
    if newlines:
        pattern += r"|\n+"
    return re.compile(pattern)


def split_sentences(
    text: str, *, next_start: str | None = None, newlines: bool = False
) -> list[str]:
    """`text` cut after ".", "!" or "?" and the spaces that follow (the spaces dropped).

    Args:
        next_start: a regex character class the next sentence must start with (`CAPITAL`,
            `CLAIM_START`); None: anything may.
        newlines: also cut at every run of line breaks, punctuation or not.
    """
    return _sentence_break(next_start, newlines).split(text)


def count_sentences(text: str) -> int:
    """How many sentence ends `text` has: a ".", "!" or "?" followed by a space or the end
    ("No full stop" has none; "e.g. this" has one)."""
    text = text.rstrip()
    return len(split_sentences(text)) - 1 + int(text.endswith((".", "!", "?")))


# Between a title and its heading, and between the headings of a heading path.
LOCATION_SEPARATOR = " › "


def location(
    title: str, heading: str, *, keep_empty: Literal["title", "both"] | None = None
) -> str:
    """Where a passage is, as readers see it: "title › heading".

    An empty part is dropped by default ("title" alone); `keep_empty="title"` keeps an empty
    title (only an empty heading is dropped), `keep_empty="both"` always joins the two.
    """
    if keep_empty == "both" or (keep_empty == "title" and heading):
        return f"{title}{LOCATION_SEPARATOR}{heading}"
    return LOCATION_SEPARATOR.join(part for part in (title, heading) if part)
