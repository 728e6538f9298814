"""Context metrics without a judge: how well what the model read covers the references.

Context recall and precision are ragas's non-LLM metrics with a containment similarity (a
reference context is a few sentences, a passage up to 200 tokens, so ragas's default
whole-string Levenshtein would call every match a miss); the retrieval hit rate asks whether a
top passage holds a key fact or a reference context.
"""

from __future__ import annotations

import typing as t
import warnings
from dataclasses import dataclass, field

from ragas.dataset_schema import SingleTurnSample
from ragas.metrics.base import MetricType, SingleTurnMetric

with warnings.catch_warnings():
    # ragas 0.4.3 marks these imports deprecated in favour of ragas.metrics.collections, which
    # has no non-LLM context metrics yet.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ragas.metrics import NonLLMContextPrecisionWithReference, NonLLMContextRecall

from lodestar.evaluation.dataset import GoldenCase, contains_fact, normalize_text

if t.TYPE_CHECKING:
    from langchain_core.callbacks import Callbacks
    from ragas.run_config import RunConfig

    from lodestar.retrieval.passages import Passage

# partial_ratio of two unrelated English passages often reaches 0.5-0.6; a reference context
# inside a passage scores >= 0.9 (it is a verbatim copy, up to a chunk boundary).
CONTAINMENT_THRESHOLD = 0.8


@dataclass
class PassageContainment(SingleTurnMetric):
    """ragas string similarity: how well the shorter text aligns inside the longer (0-1)."""

    name: str = "passage_containment"
    _required_columns: dict[MetricType, set[str]] = field(
        default_factory=lambda: {MetricType.SINGLE_TURN: {"reference", "response"}}
    )

    def init(self, run_config: RunConfig) -> None:
        """Nothing to set up."""

    async def _single_turn_ascore(self, sample: SingleTurnSample, callbacks: Callbacks) -> float:
        return containment(sample.response or "", sample.reference or "")


def containment(shorter: str, longer: str) -> float:
    """How well `shorter` aligns inside `longer` (rapidfuzz partial ratio, 0-1), case and
    spacing ignored."""
    from rapidfuzz import fuzz

    return fuzz.partial_ratio(normalize_text(shorter), normalize_text(longer)) / 100.0


def context_metrics() -> tuple[NonLLMContextRecall, NonLLMContextPrecisionWithReference]:
    """ragas's non-LLM context recall and precision, matching by containment."""
    recall = NonLLMContextRecall(threshold=CONTAINMENT_THRESHOLD)
    recall._distance_measure = PassageContainment()
    precision = NonLLMContextPrecisionWithReference(
        distance_measure=PassageContainment(), threshold=CONTAINMENT_THRESHOLD
    )
    return recall, precision


def retrieval_hit(passages: list[Passage], case: GoldenCase, k: int) -> bool | None:
    """Whether one of the top `k` passages comes from a reference document and holds a key fact
    or overlaps a reference context (None for cases without references)."""
    if not case.reference_doc_ids:
        return None
    for passage in passages[:k]:
        if passage.source not in case.reference_doc_ids:
            continue
        if not case.key_facts and not case.reference_contexts:
            return True
        if any(contains_fact(passage.text, fact) for fact in case.key_facts):
            return True
        if any(
            containment(ctx, passage.text) >= CONTAINMENT_THRESHOLD
            for ctx in case.reference_contexts
        ):
            return True
    return False


async def score_contexts(
    case: GoldenCase, contexts: list[str]
) -> tuple[float | None, float | None]:
    """Non-LLM context recall and precision of what the model read (None without references)."""
    if not case.reference_contexts or not contexts:
        return None, None
    recall, precision = context_metrics()
    sample = SingleTurnSample(
        user_input=case.question,
        retrieved_contexts=contexts,
        reference_contexts=case.reference_contexts,
    )
    return (
        float(await recall.single_turn_ascore(sample)),
        float(await precision.single_turn_ascore(sample)),
    )
