"""An answer as it is written: the text streams out, then the checked Answer is put together.

`Generation` holds the steps of answering a covered question in order: ask whether the passages
answer it, stream the reply, check its citations, verify its statements, and build the Answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Protocol

from llama_index.core.base.llms.types import ChatMessage

from lodestar.answering.citations import CitationCheck, check_citations, citation_for
from lodestar.answering.refusal import refusal_answer
from lodestar.answering.result import Answer, Question
from lodestar.core.refusal import SAYS_NOT_COVERED, not_covered_text
from lodestar.core.text import cited_numbers
from lodestar.grounding.display import displayed_answer
from lodestar.grounding.judge import answerability_messages
from lodestar.grounding.verifier import Grounding, GroundingVerifier
from lodestar.retrieval.passages import Passage

if TYPE_CHECKING:
    from lodestar.components.llm.gateway import ChatGateway
    from lodestar.components.services import Services

# A turn at the model for one answer, given the waiting callback (Services.model_turn).
Turn = Callable[[Callable[[int], None] | None], AbstractContextManager[None]]


class AnswerStream:
    """Iterate for the answer's text as it is generated; `.result` holds the checked Answer.

    `passages` are the passages the model reads, known as soon as retrieval is done: show them
    while the answer is written (empty when the question is not covered). The answer holds the
    model from its first call to its last check (`turn`), after waiting its place in line:
    `on_wait(n)` is told how many are ahead, and may raise to give up the place.
    """

    def __init__(
        self,
        deltas: Iterator[str],
        finish: Callable[[str], Answer],
        passages: Sequence[Passage] = (),
        turn: Turn | None = None,
    ) -> None:
        self._deltas = deltas
        self._finish = finish
        self._turn = turn
        self.passages = list(passages)
        self.result: Answer | None = None
        self.on_wait: Callable[[int], None] | None = None

    def __iter__(self) -> Iterator[str]:
        with self._turn(self.on_wait) if self._turn is not None else nullcontext():
            text = ""
            for delta in self._deltas:
                text += delta
                yield delta
            self.result = self._finish(text)

    def answer(self) -> Answer:
        """The checked result, consuming the rest of the stream first if needed."""
        if self.result is None:
            for _ in self:
                pass
        assert self.result is not None
        return self.result


def refusal_stream(question: Question, backend: str) -> AnswerStream:
    """Below the similarity bar: "not covered", without calling the LLM."""
    text = not_covered_text(question.found.closest_topics)
    return AnswerStream(iter([text]), lambda _: refusal_answer(question, backend=backend))


class Model(Protocol):
    """What a generation asks of the answer engine."""

    services: Services

    @property
    def gateway(self) -> ChatGateway: ...

    def judge(self, messages: Sequence[ChatMessage]) -> float: ...

    def verifier(self) -> GroundingVerifier: ...


class Generation:
    """A covered question answered by the model from the passages it was given."""

    def __init__(
        self,
        model: Model,
        question: Question,
        supplied: Sequence[Passage],
        messages: list[ChatMessage],
        check: list[ChatMessage] | None = None,
    ) -> None:
        """`messages` is the chat the answer is written in; `check` the one the answerability
        check follows (the answer's own when not given)."""
        self.model = model
        self.question = question
        self.supplied = list(supplied)
        self.messages = messages
        self.check = check if check is not None else messages
        self.cfg = model.services.settings.answer
        self.backend = model.services.settings.llm.backend
        self.answerable: float | None = None  # the judge's P(yes), once asked

    def stream(self) -> AnswerStream:
        """The stream the reader iterates; the model is asked only as it is read."""
        services = self.model.services
        return AnswerStream(
            self.deltas(),
            self.finish,
            self.supplied,
            turn=lambda on_wait: services.model_turn("answer", on_wait),
        )

    def deltas(self) -> Iterator[str]:
        """The refusal when the passages are judged not to answer, else the model's reply."""
        if self.cfg.verify and not self.check_answerable():
            yield not_covered_text(self.question.found.closest_topics)
            return
        timings = self.question.timings
        for delta in self.model.gateway.stream(self.messages):
            if timings.first_token_ms is None:
                timings.first_token_ms = self.question.elapsed_ms()
            yield delta

    def check_answerable(self) -> bool:
        """Ask the model whether the passages answer the question (timed)."""
        began = time.perf_counter()
        self.answerable = self.model.judge(
            answerability_messages(self.check, self.question.standalone)
        )
        self.question.timings.answerability_ms = round((time.perf_counter() - began) * 1000, 1)
        return not self.not_answerable

    @property
    def not_answerable(self) -> bool:
        """The judge was asked and found the passages do not answer the question."""
        return self.answerable is not None and self.answerable < self.cfg.answerable_threshold

    def finish(self, text: str) -> Answer:
        """The Answer from the streamed text: citations checked, statements verified."""
        if self.not_answerable:
            return refusal_answer(
                self.question,
                backend=self.backend,
                model=self.model.services.llm_id,
                supplied=self.supplied,
                answerable=self.answerable,
            )
        check = check_citations(text, len(self.supplied))
        shown, grounding, count = self.verify(check)
        if grounding is not None:
            refused = grounding.error is None and count == 0
        else:
            refused = not check.cited and bool(SAYS_NOT_COVERED.search(check.text))
        if refused:
            shown = not_covered_text(self.question.found.closest_topics)
        return self.answer(check, shown, refused, grounding, count)

    def verify(self, check: CitationCheck) -> tuple[str, Grounding | None, int | None]:
        """The text shown, the grounding and the statements shown (None, None unverified)."""
        if not self.cfg.verify:
            return check.text, None, None
        grounding = self.model.verifier().verify(
            check.text, [p.text for p in self.supplied], [*self.messages]
        )
        self.question.timings.verification_ms = round(grounding.ms, 1)
        shown, count = displayed_answer(check.text, grounding, self.cfg.unsupported)
        return shown, grounding, count

    def answer(
        self,
        check: CitationCheck,
        shown: str,
        refused: bool,
        grounding: Grounding | None,
        count: int | None,
    ) -> Answer:
        """The Answer as shown, with what was supplied, removed and checked."""
        question = self.question
        cited = [] if refused else cited_numbers(shown, len(self.supplied))
        question.timings.total_ms = question.elapsed_ms()
        return Answer(
            question=question.asked,
            standalone_question=question.standalone,
            answer=shown,
            citations=[citation_for(n, self.supplied[n - 1]) for n in cited],
            refused=refused,
            backend=self.backend,
            model=self.model.services.llm_id,
            timings=question.timings,
            supplied=[citation_for(n, p) for n, p in enumerate(self.supplied, start=1)],
            removed_citations=check.removed,
            closest_topics=question.found.closest_topics if refused else [],
            raw_answer=check.text,
            grounding=[v.to_json() for v in grounding.verdicts] if grounding else [],
            verified=grounding.summary(count) if grounding else {"checked": False},
            answerable=round(self.answerable, 4) if self.answerable is not None else None,
        )
