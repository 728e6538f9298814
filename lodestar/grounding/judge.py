"""The yes/no judgement: the questions put to the model about a statement or a question, and
P("yes") read from the configured LLM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from lodestar.core.errors import GenerationError
from lodestar.core.prompts import render_prompt

if TYPE_CHECKING:
    from lodestar.components.llm.gateway import ChatGateway


def statement_messages(statement: str, context: str, evidence: str) -> list[ChatMessage]:
    """The stand-alone fact-checking prompt (design `statement`)."""
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=render_prompt("judge_system")),
        ChatMessage(
            role=MessageRole.USER,
            content=render_prompt(
                "judge_statement", context=context.strip(), evidence=evidence, statement=statement
            ),
        ),
    ]


def in_context_messages(
    answer_messages: Sequence[ChatMessage],
    statement: str,
    cites: Sequence[int],
    evidence: str = "",
) -> list[ChatMessage]:
    """The check as a follow-up to the answer prompt (design `context`): llama.cpp reuses the
    prompt it has already read, so a check costs only its own tokens.

    The answer itself is not repeated: asked about its own words, the model agreed with nearly
    everything (P(yes) 0.70-0.88 on every kind of calibration item).
    """
    return [
        *answer_messages,
        ChatMessage(
            role=MessageRole.USER,
            content=render_prompt(
                "verify_statement", statement=statement, where=cited(cites), evidence=evidence
            ),
        ),
    ]


def cited(cites: Sequence[int]) -> str:
    """The passages a check names: "[1], [2]", or "the passages" when none is cited."""
    return ", ".join(f"[{n}]" for n in cites) if cites else "the passages"


def answerability_messages(
    answer_messages: Sequence[ChatMessage], question: str
) -> list[ChatMessage]:
    """ "Do these passages answer the question?", asked after the prompt the model has read."""
    return [
        *answer_messages,
        ChatMessage(role=MessageRole.USER, content=render_prompt("answerable", question=question)),
    ]


class YesNoJudge(Protocol):
    """Anything that gives P("yes") for a chat that ends in a yes/no question."""

    def __call__(self, messages: Sequence[ChatMessage]) -> float: ...


def yes_no_judge(llm: Any) -> YesNoJudge:
    """P(yes) from the configured LLM: read from the logits for the local model, and from a
    one-word greedy reply (1.0 or 0.0) for remote ones, which expose no logits through
    llama-index's chat interface."""
    scorer = getattr(llm, "yes_probability", None)
    if callable(scorer):
        return scorer

    def reply_judge(messages: Sequence[ChatMessage]) -> float:
        reply = llm.chat(list(messages), max_tokens=3, temperature=0.0).message.content or ""
        word = reply.strip().strip(".!\"'").lower()
        if word.startswith("yes"):
            return 1.0
        if word.startswith("no"):
            return 0.0
        raise GenerationError(
            f"the model replied {reply[:60]!r} to a yes/no check, not yes or no",
            hint="the verifier needs a model that follows short instructions; or set "
            "LODESTAR_ANSWER__VERIFY=false",
        )

    return reply_judge


def gateway_judge(gateway: ChatGateway) -> YesNoJudge:
    """`yes_no_judge` on the gateway's LLM, its remote errors translated (what answers use)."""
    judge = yes_no_judge(gateway.llm)
    return gateway.guarded(lambda messages: float(judge(messages)))
