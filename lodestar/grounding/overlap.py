"""How much of a statement is its passage's own words: the share of the statement's content
words (stemmed) that the passage contains.

Two uses in the verifier: a statement that copies another passage far more than the one it cites
had its citation put on the wrong passage (small models number their bullets instead of citing
them), and a statement that copies its passage's words, figures and names needs no model check.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lodestar.core.text import CITATION

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Words that carry no claim of their own. Negations and quantifiers are not among them: "not",
# "only", "most" change what a statement says.
# fmt: off
_FILLER = frozenset((
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from",
    "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that",
    "these", "those", "they", "them", "their", "he", "she", "his", "her", "we", "our", "you",
    "your", "i", "my", "me", "which", "who", "whom", "whose", "what", "when", "where", "how",
    "can", "could", "should", "would", "will", "may", "might", "must", "shall", "do", "does",
    "did", "has", "have", "had", "so", "such", "than", "then", "there", "here", "also", "into",
    "onto", "about", "over", "under", "up", "out", "very", "just", "both", "each", "either",
    "per", "via", "while", "because", "if",
))
# fmt: on


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    for suffix in ("ies", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> list[str]:
    """The text's words that carry its claim, lowercased and stemmed (citations left out)."""
    words = _WORD.findall(CITATION.sub(" ", text).lower())
    return [_stem(w) for w in words if w not in _FILLER]


def copied_share(statement: str, passage: str) -> float:
    """The share of the statement's content words that the passage holds (1.0 when it has none)."""
    words = content_words(statement)
    if not words:
        return 1.0
    held = set(content_words(passage))
    return sum(w in held for w in words) / len(words)


def copied_run(statement: str, passage: str) -> float:
    """The share of the statement's content words that form one unbroken run of the passage's
    content words, in the passage's order (a sentence copied from the passage scores 1.0; its
    words rearranged, or put with a figure from another line, score less)."""
    words = content_words(statement)
    if not words:
        return 1.0
    held = content_words(passage)
    best = 0
    previous = [0] * (len(held) + 1)
    for w in words:
        current = [0] * (len(held) + 1)
        for j, h in enumerate(held, start=1):
            if w == h:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best / len(words)
