"""What a question gives back: the answer, its citations, its checks and where the time went."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from lodestar.answering.citations import Citation
from lodestar.retrieval.passages import RetrievalResult


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
class Question:
    """A question on its way to an Answer: as asked, as searched, what retrieval found, and the
    clock started when it was asked."""

    asked: str
    standalone: str
    found: RetrievalResult
    timings: Timings
    started: float

    def elapsed_ms(self) -> float:
        """Milliseconds since the question was asked, as the timings record them."""
        return round((time.perf_counter() - self.started) * 1000, 1)
