"""The "not covered" result: the question is below the similarity bar, or the model judged the
passages do not answer it. The text comes from lodestar.core.refusal."""

from __future__ import annotations

from collections.abc import Sequence

from lodestar.answering.citations import citation_for
from lodestar.answering.result import Answer, Question
from lodestar.core.refusal import not_covered_text
from lodestar.retrieval.passages import Passage

# The model field of a refusal decided before the model was asked anything.
NOT_CALLED = "(not called)"


def refusal_answer(
    question: Question,
    *,
    backend: str,
    model: str = NOT_CALLED,
    supplied: Sequence[Passage] = (),
    answerable: float | None = None,
) -> Answer:
    """The refusal Answer, naming the closest topics; `answerable` is the judge's P(yes) when
    the model was asked (None: refused below the similarity bar)."""
    question.timings.total_ms = question.elapsed_ms()
    return Answer(
        question=question.asked,
        standalone_question=question.standalone,
        answer=not_covered_text(question.found.closest_topics),
        citations=[],
        refused=True,
        backend=backend,
        model=model,
        timings=question.timings,
        supplied=[citation_for(n, p) for n, p in enumerate(supplied, start=1)],
        closest_topics=question.found.closest_topics,
        verified={"checked": answerable is not None, "answerable": False},
        answerable=None if answerable is None else round(answerable, 4),
    )
