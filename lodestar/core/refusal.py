"""The "not covered" rule in one place: what the model is told to reply when the passages do not
answer, what the user is shown, and how a refusal is recognised in generated text."""

from __future__ import annotations

import re
from collections.abc import Sequence

_NOT_COVERED = "The knowledge base does not cover this"
# What the user is shown when the knowledge base does not answer the question.
NOT_COVERED_TEXT = f"{_NOT_COVERED} question."
# What the answer prompt tells the model to reply then (`$not_covered` in prompts/answer.md).
NOT_COVERED_REPLY = f"{_NOT_COVERED}."
_TOPICS_LEAD = " The closest topics"
_TOPICS = f"{_TOPICS_LEAD} it does cover: "

_SAYS_NOT_COVERED = (
    r"(does not|doesn't|do not|don't) (cover|contain|mention|provide|include|say)|no information"
)
# A reply that says the passages do not answer (how an unverified answer is read as a refusal).
SAYS_NOT_COVERED = re.compile(_SAYS_NOT_COVERED, re.IGNORECASE)
# A sentence the verifier does not check: a refusal ("… does not cover …") or an intro.
NOT_A_CLAIM = re.compile(
    rf"{_SAYS_NOT_COVERED}|^(here are|in summary|to summari[sz]e|sources?:)", re.IGNORECASE
)


def not_covered_text(topics: Sequence[str]) -> str:
    """The refusal shown to the user, naming the closest topics the knowledge base does cover."""
    text = NOT_COVERED_TEXT
    if topics:
        text += _TOPICS + "; ".join(topics) + "."
    return text


def refusal_parts(text: str) -> tuple[str, str]:
    """A refusal's main sentence, and the closest-topics sentence after it ("" when none)."""
    main, lead, rest = text.partition(_TOPICS_LEAD)
    return main, (lead + rest).strip()
