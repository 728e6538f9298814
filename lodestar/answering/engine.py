"""Question to cited answer: condense follow-ups, retrieve, pack, prompt, stream, check citations."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from lodestar.answering.injection import neutralize_instructions
from lodestar.core.errors import IndexEmptyError, LodestarError
from lodestar.core.prompts import render_prompt
from lodestar.grounding.verifier import (
    Grounding,
    GroundingVerifier,
    YesNoJudge,
    answerability_messages,
    displayed_answer,
    yes_no_judge,
)
from lodestar.retrieval.hybrid import Passage, PassageFilters, RetrievalResult, retrieve

if TYPE_CHECKING:
    from lodestar.components.services import Services

_CITATION_GROUP = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_PAREN_CITATION = re.compile(r"\((\d{1,2}(?:\s*,\s*\d{1,2})*)\)(?=[.;,]?[ \t]*$)", re.MULTILINE)
_NOT_COVERED = re.compile(
    r"(does not|doesn't|do not|don't) (cover|contain|mention|provide|include|say)|no information",
    re.IGNORECASE,
)
NOT_COVERED_TEXT = "The knowledge base does not cover this question."
WARM_UP_QUESTION = "What does an engineering team lead do?"


@dataclass
class Citation:
    """A passage as supplied to the model under number `n`."""

    n: int
    source: str
    title: str
    heading: str
    text: str
    score: float
    page: int | None = None


@dataclass
class Timings:
    """Where the time went, in milliseconds from the start of the request."""

    retrieval_ms: float = 0.0
    answerability_ms: float | None = None
    first_token_ms: float | None = None
    verification_ms: float | None = None
    total_ms: float = 0.0


@dataclass
class Answer:
    """The structured result of every question (the `ask --json` contract)."""

    question: str
    answer: str
    citations: list[Citation]
    refused: bool
    backend: str
    model: str
    timings: Timings
    standalone_question: str = ""
    supplied: list[Citation] = field(default_factory=list)
    removed_citations: list[int] = field(default_factory=list)
    closest_topics: list[str] = field(default_factory=list)
    raw_answer: str = ""
    grounding: list[dict[str, Any]] = field(default_factory=list)
    verified: dict[str, Any] = field(default_factory=dict)
    answerable: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass
class CitationCheck:
    """Result of checking a generated answer's citations against the supplied passages."""

    text: str
    cited: list[int]
    removed: list[int]


def check_citations(text: str, supplied: int) -> CitationCheck:
    """Keep citations to passages 1..supplied, remove any other, and list both."""
    cited: list[int] = []
    removed: list[int] = []

    def fix(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= supplied]
        removed.extend(n for n in numbers if not 1 <= n <= supplied)
        cited.extend(n for n in valid if n not in cited)
        return "".join(f"[{n}]" for n in valid)

    # Small models sometimes cite as "(1)" at the end of a line; read that as "[1]".
    text = _PAREN_CITATION.sub(lambda m: f"[{m.group(1)}]", text)
    fixed = _CITATION_GROUP.sub(fix, text)
    fixed = re.sub(r"[ \t]+([.,;:])", r"\1", fixed)
    return CitationCheck(text=fixed.strip(), cited=cited, removed=sorted(set(removed)))


def pack_passages(
    passages: Sequence[Passage], budget: int, count_tokens: Callable[[str], int]
) -> list[Passage]:
    """Passages in rank order while the rendered context fits `budget`; the first always (trimmed).

    A passage that does not fit is skipped and a shorter one after it may still be packed.
    """
    packed: list[Passage] = []
    for passage in passages:
        if count_tokens(render_context([*packed, passage])) > budget:
            if not packed:
                packed.append(_trim(passage, budget, count_tokens))
            continue
        packed.append(passage)
    return packed


def render_context(passages: Sequence[Passage]) -> str:
    """The passages as the model reads them: numbered from 1, separated by blank lines."""
    return "\n\n".join(format_passage(n, p) for n, p in enumerate(passages, start=1))


def _trim(passage: Passage, budget: int, count_tokens: Callable[[str], int]) -> Passage:
    words = passage.text.split()
    while words and count_tokens(format_passage(1, passage, " ".join(words))) > budget:
        words = words[: int(len(words) * 0.9)]
    return Passage(**{**asdict(passage), "text": " ".join(words)})


def format_passage(n: int, passage: Passage, text: str | None = None) -> str:
    """How a passage appears in the prompt: numbered, located, instruction-like text removed."""
    body, _ = neutralize_instructions(text if text is not None else passage.text)
    return f"[{n}] {passage.location}\n{body.strip()}"


def citation_for(n: int, passage: Passage) -> Citation:
    """The citation record of passage `n`."""
    return Citation(
        n=n,
        source=passage.source,
        title=passage.title,
        heading=passage.heading,
        text=passage.text,
        score=passage.score,
        page=passage.page,
    )


class AnswerStream:
    """Iterate for the answer's text as it is generated; `.result` holds the checked Answer.

    `passages` are the passages the model reads, known as soon as retrieval is done: show them
    while the answer is written (empty when the question is not covered).
    """

    def __init__(
        self,
        deltas: Iterator[str],
        finish: Callable[[str], Answer],
        passages: Sequence[Passage] = (),
    ) -> None:
        self._deltas = deltas
        self._finish = finish
        self.passages = list(passages)
        self.result: Answer | None = None

    def __iter__(self) -> Iterator[str]:
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

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A standalone question from a follow-up and the conversation so far."""
        turns = list(history)[-self.services.settings.answer.history_turns :]
        if not turns:
            return question
        transcript = "\n".join(f"User: {q}\nAssistant: {_first_sentences(a)}" for q, a in turns)
        prompt = render_prompt("condense", history=transcript, question=question)
        reply = self.chat_text([ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=80)
        standalone = reply.strip().strip('"').splitlines()[0].strip() if reply.strip() else ""
        return standalone or question

    def stream(
        self,
        question: str,
        *,
        history: Sequence[tuple[str, str]] = (),
        k: int | None = None,
        filters: PassageFilters | None = None,
    ) -> AnswerStream:
        """Retrieve, then return the stream: iterate it for text, then read `.result`.

        The passages are known when this returns (`stream.passages`); the model is asked
        whether they answer the question, and then to answer, only as the stream is read.
        """
        started = time.perf_counter()
        standalone = self.condense(question, history)
        found, supplied = self.passages_for(standalone, k, filters)
        timings = Timings(retrieval_ms=round(found.ms, 1))
        backend = self.services.settings.llm.backend
        if not found.covered:
            return self._refusal(question, standalone, found, timings, started)
        messages = self.messages_for(standalone, supplied)
        cfg = self.services.settings.answer
        answerable: list[float] = []  # set once the check has run

        def deltas() -> Iterator[str]:
            if cfg.verify:
                began = time.perf_counter()
                answerable.append(self.judge(answerability_messages(messages, standalone)))
                timings.answerability_ms = round((time.perf_counter() - began) * 1000, 1)
                if answerable[0] < cfg.answerable_threshold:
                    yield _not_covered_text(found.closest_topics)
                    return
            for delta in self._stream_chat(messages):
                if timings.first_token_ms is None:
                    timings.first_token_ms = round((time.perf_counter() - started) * 1000, 1)
                yield delta

        def finish(text: str) -> Answer:
            if answerable and answerable[0] < cfg.answerable_threshold:
                return self._refusal_answer(
                    question, standalone, found, timings, started, supplied, answerable[0]
                )
            check = check_citations(text, len(supplied))
            shown = check.text
            grounding: Grounding | None = None
            if cfg.verify:
                grounding = self.verifier().verify(
                    check.text, [p.text for p in supplied], [*messages]
                )
                timings.verification_ms = round(grounding.ms, 1)
                shown, count = displayed_answer(check.text, grounding, cfg.unsupported)
                refused = grounding.error is None and count == 0
            else:
                count = None
                refused = not check.cited and bool(_NOT_COVERED.search(check.text))
            if refused:
                shown = _not_covered_text(found.closest_topics)
            cited = [] if refused else _cited_numbers(shown, len(supplied))
            timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
            return Answer(
                question=question,
                standalone_question=standalone,
                answer=shown,
                citations=[citation_for(n, supplied[n - 1]) for n in cited],
                refused=refused,
                backend=backend,
                model=self.services.llm_id,
                timings=timings,
                supplied=[citation_for(n, p) for n, p in enumerate(supplied, start=1)],
                removed_citations=check.removed,
                closest_topics=found.closest_topics if refused else [],
                raw_answer=check.text,
                grounding=[v.to_json() for v in grounding.verdicts] if grounding else [],
                verified=grounding.summary(count) if grounding else {"checked": False},
                answerable=round(answerable[0], 4) if answerable else None,
            )

        return AnswerStream(deltas(), finish, supplied)

    def answerable_probability(self, question: str) -> float:
        """P(yes) to "do the passages answer this?" as `stream` asks it (0.0 when retrieval
        already finds the question not covered); for calibrating the threshold."""
        found, supplied = self.passages_for(question)
        if not found.covered:
            return 0.0
        return self.judge(answerability_messages(self.messages_for(question, supplied), question))

    def passages_for(
        self, question: str, k: int | None = None, filters: PassageFilters | None = None
    ) -> tuple[RetrievalResult, list[Passage]]:
        """Retrieve more passages than fit, and let the token budget decide which are read
        (none when the question is not covered)."""
        cfg = self.services.settings.answer
        found = retrieve(question, self.services, k or cfg.passages, filters)
        if not found.covered:
            return found, []
        return found, pack_passages(found.passages, cfg.context_tokens, self.count_tokens)

    def judge(self, messages: Sequence[ChatMessage]) -> float:
        """P(yes) for a chat ending in a yes/no question, from the configured LLM."""
        try:
            return float(self._yes_no(messages))
        except LodestarError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    @property
    def _yes_no(self) -> YesNoJudge:
        return yes_no_judge(self.services.llm)

    def verifier(self) -> GroundingVerifier:
        """The grounding verifier on the configured LLM, with the calibrated threshold."""
        cfg = self.services.settings.answer
        return GroundingVerifier(
            self.judge,
            threshold=cfg.verify_threshold,
            design=cfg.verifier,
            embed=self.services.embed_model.get_text_embedding_batch,
        )

    def messages_for(self, question: str, supplied: Sequence[Passage]) -> list[ChatMessage]:
        """The chat the model answers: system prompt, then the numbered passages and question."""
        return [
            ChatMessage(role=MessageRole.SYSTEM, content=render_prompt("system")),
            ChatMessage(
                role=MessageRole.USER,
                content=render_prompt(
                    "answer",
                    context=render_context(supplied),
                    question=question,
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
        self.chat_text(self.messages_for(WARM_UP_QUESTION, [])[:1], max_tokens=1)

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

    def _refusal(
        self,
        question: str,
        standalone: str,
        found: RetrievalResult,
        timings: Timings,
        started: float,
    ) -> AnswerStream:
        """Below the similarity bar: "not covered", without calling the LLM."""
        text = _not_covered_text(found.closest_topics)
        return AnswerStream(
            iter([text]),
            lambda _: self._refusal_answer(question, standalone, found, timings, started),
        )

    def _refusal_answer(
        self,
        question: str,
        standalone: str,
        found: RetrievalResult,
        timings: Timings,
        started: float,
        supplied: Sequence[Passage] = (),
        answerable: float | None = None,
    ) -> Answer:
        """The "not covered" result: below the similarity bar or judged not answerable."""
        timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=_not_covered_text(found.closest_topics),
            citations=[],
            refused=True,
            backend=self.services.settings.llm.backend,
            model=self.services.llm_id if answerable is not None else "(not called)",
            timings=timings,
            supplied=[citation_for(n, p) for n, p in enumerate(supplied, start=1)],
            closest_topics=found.closest_topics,
            verified={"checked": answerable is not None, "answerable": False},
            answerable=None if answerable is None else round(answerable, 4),
        )

    def chat_text(self, messages: list[ChatMessage], **kwargs: Any) -> str:
        """One non-streaming reply, with remote errors translated."""
        try:
            return self.services.llm.chat(messages, **kwargs).message.content or ""
        except LodestarError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    def _stream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> Iterator[str]:
        try:
            for chunk in self.services.llm.stream_chat(messages, **kwargs):
                if chunk.delta:
                    yield chunk.delta
        except LodestarError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        from lodestar.components.llm.factory import describe_remote_error

        return describe_remote_error(exc, self.services.settings) or exc


def _first_sentences(text: str, limit: int = 300) -> str:
    text = _CITATION_GROUP.sub("", text).strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _not_covered_text(topics: Sequence[str]) -> str:
    text = NOT_COVERED_TEXT
    if topics:
        text += " The closest topics it does cover: " + "; ".join(topics) + "."
    return text


def _cited_numbers(text: str, supplied: int) -> list[int]:
    numbers: list[int] = []
    for group in _CITATION_GROUP.findall(text):
        for n in (int(x) for x in re.findall(r"\d+", group)):
            if 1 <= n <= supplied and n not in numbers:
                numbers.append(n)
    return numbers
