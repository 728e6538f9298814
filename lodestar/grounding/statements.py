"""An answer cut into the statements the verifier checks, each with the passages it cites."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lodestar.core.refusal import NOT_A_CLAIM
from lodestar.core.text import CITATION, CLAIM_START, cited_numbers, split_sentences

# A list marker at the start of a line ("- ", "* ", "• ", "1. ", "2) ").
BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
MIN_CLAIM_WORDS = 4
# Markdown emphasis and code marks, and enumeration labels ("**Question 2**:", "Step 3."): layout,
# not claims, so the guard must not read "Compare" in "**Compare …**" as a name or "2" as a figure.
_EMPHASIS = re.compile(r"(\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w))")
_LABEL = re.compile(
    r"^(?:question|step|tip|point|option|idea|area|priority)\s*\d+\s*[:.)-]\s*", re.IGNORECASE
)


@dataclass
class Statement:
    """One sentence of an answer and the passages it cites (1-based)."""

    text: str
    cites: list[int] = field(default_factory=list)
    line: int = 0  # the answer line it came from, to put a checked answer back together
    written: str = ""  # the sentence as written, citations where the model put them


def split_statements(answer: str, min_words: int = MIN_CLAIM_WORDS) -> list[Statement]:
    """The answer's checkable sentences, citations lifted out; intros, refusals and fragments
    (fewer than `min_words` words) dropped. The same answer always gives the same statements."""
    statements: list[Statement] = []
    for number, raw in enumerate(answer.splitlines()):
        line = BULLET.sub("", raw).strip()
        if not line or line.endswith(":"):
            continue
        in_line: list[Statement] = []
        line = _LABEL.sub("", _EMPHASIS.sub("", line)).strip()
        for sentence in split_sentences(line, next_start=CLAIM_START):
            cites = cited_numbers(sentence)
            text = re.sub(r"\s+([.,;:])", r"\1", CITATION.sub("", sentence)).strip()
            if not re.search(r"[A-Za-z0-9]", text):
                # "… teams. [2]": the citation belongs to the sentence before
                if in_line and cites:
                    in_line[-1].cites.extend(c for c in cites if c not in in_line[-1].cites)
                continue
            if len(text.split()) < min_words or NOT_A_CLAIM.search(text):
                continue
            written = re.sub(r"\s+([.,;:])", r"\1", sentence).strip()
            in_line.append(
                Statement(text=text, cites=list(dict.fromkeys(cites)), line=number, written=written)
            )
        # Our answers are bullets that end with their citation: it covers the bullet's sentences.
        closing = in_line[-1].cites if in_line else []
        for statement in in_line:
            statement.cites = statement.cites or list(closing)
        statements.extend(in_line)
    return statements
