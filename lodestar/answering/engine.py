"""Question to cited answer: condense follow-ups, retrieve, pack, prompt, stream, check citations."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from lodestar.answering.compare import comparison_stream
from lodestar.answering.context import pack_passages, render_context
from lodestar.answering.result import Answer, Question, Timings
from lodestar.answering.shape import Shape, answer_shape
from lodestar.answering.stream import AnswerStream, Generation, refusal_stream
from lodestar.components.llm.gateway import ChatGateway
from lodestar.core.errors import IndexEmptyError
from lodestar.core.prompts import render_prompt
from lodestar.core.refusal import NOT_COVERED_REPLY
from lodestar.core.text import CITATION
from lodestar.grounding.judge import answerability_messages, gateway_judge
from lodestar.grounding.verifier import GroundingVerifier, answer_verifier
from lodestar.retrieval.hybrid import retrieve
from lodestar.retrieval.passages import Passage, PassageFilters, RetrievalResult

if TYPE_CHECKING:
    from lodestar.components.services import Services

WARM_UP_QUESTION = "What does an engineering team lead do?"


class AnswerEngine:
    """Answers questions from the index with the configured LLM."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def count_tokens(self, text: str) -> int:
        """Tokens in the LLM's vocabulary (tiktoken's cl100k for remote models)."""
        counter = getattr(self.services.llm, "count_tokens", None)
        if callable(counter):
            return int(counter(text))
        import tiktoken

        return len(tiktoken.get_encoding("cl100k_base").encode(text))

    def condense(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        on_wait: Callable[[int], None] | None = None,
    ) -> str:
        """A standalone question from a follow-up and the conversation so far (a turn at the
        model of its own: `on_wait` as in `Services.model_turn`)."""
        turns = list(history)[-self.services.settings.answer.history_turns :]
        if not turns:
            return question
        transcript = "\n".join(f"User: {q}\nAssistant: {_first_sentences(a)}" for q, a in turns)
        prompt = render_prompt("condense", history=transcript, question=question)
        with self.services.model_turn("follow-up", on_wait):
            reply = self.gateway.text(
                [ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=80
            )
        standalone = reply.strip().strip('"').splitlines()[0].strip() if reply.strip() else ""
        return standalone or question

    def stream(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        k: int | None = None,
        filters: PassageFilters | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> AnswerStream:
        """Retrieve, then return the stream: iterate it for text, then read `.result`.

        The passages are known when this returns (`stream.passages`); the model is asked
        whether they answer the question, and then to answer, only as the stream is read, in
        one turn at the model (`stream.on_wait` hears the place in line). A follow-up is first
        made standalone in a turn of its own (`on_wait` hears that wait).
        """
        started = time.perf_counter()
        standalone = self.condense(question, history, on_wait)
        found, supplied = self.passages_for(standalone, k, filters)
        asked = Question(
            question, standalone, found, Timings(retrieval_ms=round(found.ms, 1)), started
        )
        table = comparison_stream(self.services, asked)
        if table is not None:  # two roles compared: a table quoted from their documents
            return table
        if not found.covered:
            return refusal_stream(asked, self.services.settings.llm.backend)
        messages = self.messages_for(standalone, supplied)
        check = self.check_messages(standalone, supplied)
        answer = Generation(self, asked, supplied, messages, check).stream()
        answer.on_wait = on_wait
        return answer

    def answerable_probability(self, question: str) -> float:
        """P(yes) to "do the passages answer this?" as `stream` asks it (0.0 when retrieval
        already finds the question not covered); for calibrating the threshold."""
        found, supplied = self.passages_for(question)
        if not found.covered:
            return 0.0
        return self.judge(answerability_messages(self.check_messages(question, supplied), question))

    def passages_for(
        self, question: str, k: int | None = None, filters: PassageFilters | None = None
    ) -> tuple[RetrievalResult, list[Passage]]:
        """Retrieve more passages than fit, and let the token budget decide which are read
        (none when the question is not covered). A "what should I / how do I" question, whose
        answer draws on several sections, reads more: the passages of the usual budget first,
        in the same order, then more up to the guidance budget (so the answerability check,
        which reads the usual budget's prompt, and the answer share that prefix in llama.cpp's
        cache)."""
        cfg = self.services.settings.answer
        found = retrieve(question, self.services, k or cfg.passages, filters)
        if not found.covered:
            return found, []
        usual = pack_passages(found.passages, cfg.context_tokens, self.count_tokens)
        if (
            answer_shape(question) != "guidance"
            or cfg.guidance_context_tokens <= cfg.context_tokens
        ):
            return found, usual
        rest = [p for p in found.passages if p not in usual]
        return found, pack_passages([*usual, *rest], cfg.guidance_context_tokens, self.count_tokens)

    def check_messages(self, question: str, supplied: Sequence[Passage]) -> list[ChatMessage]:
        """The prompt the answerability check follows: the passages of the usual budget and the
        general instruction, whatever the question's shape. It is the prompt the check's
        threshold was calibrated on, and a prefix-sharing neighbour of the answer's own prompt.
        """
        budget = self.services.settings.answer.context_tokens
        usual = (
            pack_passages(supplied, budget, self.count_tokens)
            if answer_shape(question) == "guidance"
            else supplied  # already packed in the usual budget (passages_for)
        )
        return self.messages_for(question, usual, shape="general")

    @property
    def gateway(self) -> ChatGateway:
        """The configured LLM behind chat calls whose remote errors are translated."""
        return ChatGateway(self.services.llm, self.services.settings)

    def judge(self, messages: Sequence[ChatMessage]) -> float:
        """P(yes) for a chat ending in a yes/no question, from the configured LLM."""
        return gateway_judge(self.gateway)(messages)

    def verifier(self) -> GroundingVerifier:
        """The grounding verifier on the configured LLM, with the calibrated threshold."""
        return answer_verifier(
            self.judge,
            self.services.settings.answer,
            self.services.embed_model.get_text_embedding_batch,
        )

    def messages_for(
        self, question: str, supplied: Sequence[Passage], shape: Shape | None = None
    ) -> list[ChatMessage]:
        """The chat the model answers: system prompt, then the numbered passages and question,
        and the shape the answer should take (`shape.answer_shape` unless given)."""
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=render_prompt("system")),
            ChatMessage(
                role=MessageRole.USER,
                content=render_prompt(
                    "answer",
                    context=render_context(supplied),
                    question=question,
                    shape=render_prompt(f"shape_{shape or answer_shape(question)}"),
                    not_covered=NOT_COVERED_REPLY,
                ),
            ),
        ]

    def warm_up(self) -> None:
        """Load what a first question needs, so it is answered as fast as later ones.

        The embedder, the index (vectors and BM25) and the model are loaded, and the model
        reads the system prompt once: llama.cpp keeps it in its cache, and every answer's
        prompt starts with it. An empty index is not an error here.
        """
        with suppress(IndexEmptyError):
            self.passages_for(WARM_UP_QUESTION, 1)
        self.gateway.text(self.messages_for(WARM_UP_QUESTION, [])[:1], max_tokens=1)

    def warm_up_in_background(self) -> threading.Thread | None:
        """`warm_up` on a thread (app start, `lodestar chat`); a failure is logged, and the
        first question reports it where the user sees it. An injected LLM (tests) is left
        alone: its replies are the test's."""
        if self.services.llm_injected:
            return None

        def run() -> None:
            try:
                self.warm_up()
            except Exception:
                logging.getLogger("lodestar").warning("warm-up failed", exc_info=True)

        thread = threading.Thread(target=run, name="lodestar-warm-up", daemon=True)
        thread.start()
        return thread

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """Answer without streaming."""
        return self.stream(question, **kwargs).answer()


def _first_sentences(text: str, limit: int = 300) -> str:
    text = CITATION.sub("", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
