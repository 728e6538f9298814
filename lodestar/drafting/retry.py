"""The loop the interview kits and the level guide share: draft a reply, parse it, check it, and
when it is rejected, draft it again, told every reason so far and sampling afresh.

`Drafter` holds the chat model and the grounding verifier, built on first use (the LLM is
loaded only when a reply must be written); `first_accepted` runs the attempts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel

from lodestar.core.prompts import render_prompt
from lodestar.drafting.rejections import FinalRejection, Rejected
from lodestar.drafting.sampling import sampling_for
from lodestar.drafting.structured import parse_reply, response_format

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import ChatMessage

    from lodestar.components.llm.gateway import ChatGateway
    from lodestar.components.services import Services
    from lodestar.grounding.verifier import GroundingVerifier

T = TypeVar("T")
_Draft = TypeVar("_Draft", bound=BaseModel)


@dataclass
class Attempts(Generic[T]):
    """How the attempts at one reply went: the accepted result (None when none held up), how
    many attempts were made, and why each rejected one was."""

    result: T | None
    made: int
    rejections: list[Rejected] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What each attempt after a rejection was told, in order."""
        return [str(rejection) for rejection in self.rejections]


def first_accepted(
    attempt: Callable[[int, Sequence[Rejected]], T], max_attempts: int
) -> Attempts[T]:
    """Call `attempt(n, rejections so far)` for n = 1, 2, … until one returns instead of raising
    `Rejected`, at most `max_attempts` times; a `FinalRejection` ends the attempts at once."""
    rejections: list[Rejected] = []
    for n in range(1, max_attempts + 1):
        try:
            return Attempts(attempt(n, list(rejections)), n, rejections)
        except FinalRejection as exc:
            rejections.append(exc)
            return Attempts(None, n, rejections)
        except Rejected as exc:
            rejections.append(exc)
    return Attempts(None, max_attempts, rejections)


def with_retry_note(prompt: str, rejections: Sequence[Rejected]) -> str:
    """The prompt, with every reason the attempts so far were rejected after it (told only the
    last, the model fixed it and broke the first); appended at the end, so the prompt's shared
    prefix, and llama.cpp's cache of it, is untouched."""
    if not rejections:
        return prompt
    reasons = " ".join(dict.fromkeys(str(rejection) for rejection in rejections))
    return prompt + "\n\n" + render_prompt("interview_retry", avoid=reasons)


class Drafter:
    """The chat model that drafts replies under a JSON schema, and the verifier that checks
    them, both built from `services` on first use."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @cached_property
    def gateway(self) -> ChatGateway:
        """The configured LLM, its remote errors translated."""
        from lodestar.components.llm.gateway import ChatGateway

        return ChatGateway(self.services.llm, self.services.settings)

    @cached_property
    def verifier(self) -> GroundingVerifier:
        """The grounding verifier answers are checked with, on the same LLM."""
        from lodestar.grounding.judge import gateway_judge
        from lodestar.grounding.verifier import answer_verifier

        return answer_verifier(
            gateway_judge(self.gateway),
            self.services.settings.answer,
            self.services.embed_model.get_text_embedding_batch,
        )

    def draft(
        self,
        messages: list[ChatMessage],
        model: type[_Draft],
        *,
        name: str,
        max_tokens: int,
        attempt: int,
    ) -> tuple[_Draft, str]:
        """Attempt `attempt`'s reply to `messages` under `model`'s schema, parsed, and the raw
        reply; `Rejected` when it does not parse or validate."""
        llm = self.services.settings.llm
        reply = self.gateway.text(
            messages,
            response_format=response_format(llm, model, name=name),
            max_tokens=max_tokens,
            **sampling_for(llm, attempt),
        )
        return parse_reply(model, reply), reply
