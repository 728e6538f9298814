"""What the model writes for a kit's question, and the ways a written question is rejected.

The reply schemas (`QuestionDraft`, its `AskedQuestionDraft` variant whose question must open
as one asked to the candidate, `SignalsDraft` for signals alone), the tidying of a reply, and
the checks on its wording that need no model: a question asked in the third person, one that
mentions the passage, one that names a figure or name the passage lacks.
"""

from __future__ import annotations

import re

import numpy as np
from llama_index.core.base.llms.types import ChatMessage
from pydantic import BaseModel, Field, field_validator

from lodestar.drafting.rejections import FinalRejection, Rejected
from lodestar.grounding.guard import missing_terms

# A question about the role in the third person ("What does a manager need?") is not one a
# panel can ask a candidate.
_YOU = re.compile(
    r"\b(you|your|yours|yourself)\b|^(describe|tell me|walk me|explain|give|share)\b",
    re.IGNORECASE,
)


class QuestionDraft(BaseModel):
    """One question as the model must produce it (short fields: fewer tokens to generate)."""

    question: str = Field(min_length=10, max_length=300)
    signals: list[str] = Field(min_length=2, max_length=3)
    follow_up: str = Field(min_length=5, max_length=300)

    @field_validator("question", "follow_up")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("signals")
    @classmethod
    def _clean_signals(cls, value: list[str]) -> list[str]:
        return _tidy_signals(value)


def _tidy_signals(value: list[str]) -> list[str]:
    return [" ".join(s.split()).rstrip(".;") for s in value]


# How a question to the candidate opens. Left free, the small model writes about "the Lead ML
# Engineer" in the third person about one time in five (more often on passages that quote a
# level's line), whatever the prompt says; where the backend enforces the schema (llama.cpp's
# grammar) every question is written under this opening instead. The rest of the question may
# not hold a quote or a backslash, so it cannot close the JSON string and carry the other fields
# inside it, out of the grammar's reach.
OPENINGS = (
    r"^(Tell me about a time you|Tell me about a time when you|Can you tell me about a time you"
    r"|How do you|How would you|How have you|Describe how you|Describe a time you"
    r"|Walk me through how you|What would you do|Give an example of how you)"
    r' [^"\\\n]+$'
)
# "…, as described in the passage?" (the prompt says never to mention it): cut such a tail.
_PASSAGE_TAIL = re.compile(
    r",?\s+(?:as (?:described|mentioned|stated|outlined|shown)|based on|according to)"
    r"(?: in)? the (?:passage|text)\b[^?.!]{0,60}(?=[?.!]?\s*$)",
    re.IGNORECASE,
)
_MENTIONS_PASSAGE = re.compile(r"\b(?:the|this|that) (?:passage|text)\b", re.IGNORECASE)


class AskedQuestionDraft(QuestionDraft):
    """A QuestionDraft whose question must open as one asked to the candidate."""

    question: str = Field(min_length=10, max_length=300, pattern=OPENINGS)


class SignalsDraft(BaseModel):
    """Signals alone, asked for again when only a question's signals failed their check."""

    signals: list[str] = Field(min_length=2, max_length=3)

    @field_validator("signals")
    @classmethod
    def _clean_signals(cls, value: list[str]) -> list[str]:
        return _tidy_signals(value)


class NotAsked(Rejected):
    """A question about the role in the third person, not one asked to the candidate."""


class Duplicate(FinalRejection):
    """A question rewording one the kit already has. Rewritten, the small model repeated it
    again in 6 of 6 tries (four kits: the passage leads back to the same question), so the
    question gives way to the plan's next competency."""


class WeakSignals(Rejected):
    """A question that passed every check but its signals': only the signals are written again."""

    def __init__(
        self,
        reason: str,
        *,
        draft: QuestionDraft,
        vector: np.ndarray,
        messages: list[ChatMessage],
        reply: str,
    ) -> None:
        super().__init__(reason)
        self.draft = draft
        self.vector = vector
        self.messages = messages
        self.reply = reply


def without_passage_tail(draft: QuestionDraft) -> QuestionDraft:
    """The draft without a closing "…, as described in the passage" in its question or follow-up
    (the rest is kept; a mention elsewhere is rejected by `check_wording`)."""
    update = {}
    for name in ("question", "follow_up"):
        text = getattr(draft, name)
        cut = _PASSAGE_TAIL.sub("", text).strip()
        if cut != text and len(cut) >= 10:
            update[name] = cut if cut[-1] in "?.!" else cut + "?"
    return draft.model_copy(update=update) if update else draft


def check_wording(draft: QuestionDraft, allowed: str) -> None:
    """Reject a question not asked to the candidate, or a question or follow-up that mentions
    the passage or names what `allowed` (the passage, its place, the role and level) does not."""
    if not _YOU.search(draft.question):
        raise NotAsked('the question must be asked to the candidate, as "you".')
    for name, text in (("question", draft.question), ("follow_up", draft.follow_up)):
        if _MENTIONS_PASSAGE.search(text):
            raise Rejected(
                f"the {name} mentions the passage", "ask about what it describes instead."
            )
    for name, text in (("question", draft.question), ("follow_up", draft.follow_up)):
        missing = missing_terms(text, allowed)
        if missing:
            raise Rejected(
                f"the {name} names {', '.join(missing)}, which the passage does not mention."
            )
