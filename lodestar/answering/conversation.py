"""A conversation: the answered turns that follow-up questions are condensed with.

The rule lives here once, for the terminal chat and the app alike: a refused answer is not a turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lodestar.answering.result import Answer


@dataclass
class Conversation:
    """The turns so far and the last answer; refused answers are not remembered as turns."""

    turns: list[tuple[str, str]] = field(default_factory=list)
    last: Answer | None = None

    @classmethod
    def from_answers(cls, answers: Iterable[Mapping[str, Any]]) -> Conversation:
        """The conversation of answers kept as JSON (`Answer.to_json`), as the app keeps them."""
        conversation = cls()
        for answer in answers:
            conversation.remember(answer["question"], answer["answer"], refused=answer["refused"])
        return conversation

    def record(self, question: str, answer: Answer) -> None:
        """Remember an answer; only answered turns feed follow-ups."""
        self.last = answer
        self.remember(question, answer.answer, refused=answer.refused)

    def remember(self, question: str, answer: str, *, refused: bool) -> None:
        """Add a turn unless the answer was a refusal."""
        if not refused:
            self.turns.append((question, answer))

    def clear(self) -> None:
        """Forget everything: the next question stands alone."""
        self.turns.clear()
        self.last = None
