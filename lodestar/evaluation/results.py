"""What a suite run measured: per-case and control results, and the aggregates the gate checks."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ragas.dataset_schema import EvaluationDataset, SingleTurnSample

from lodestar.evaluation.dataset import GoldenCase
from lodestar.evaluation.metrics.kits import KitScores, kit_aggregates


@dataclass
class CaseResult:
    """Everything measured on one golden case."""

    id: str
    category: str
    question: str
    must_refuse: bool
    answer: str = ""
    refused: bool = False
    table: bool = False  # answered as a table (two roles compared, quoted from their documents)
    kit: bool = False  # a request for interview questions, answered by the kit writer
    contexts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    key_fact_recall: float | None = None
    citation_valid: bool | None = None
    dangling_citations: list[int] = field(default_factory=list)
    statements: int = 0
    cited_statements: int = 0
    hit_at_5: bool | None = None
    context_recall: float | None = None
    context_precision: float | None = None
    judged: bool = False
    faithfulness: float | None = None
    faithfulness_verdicts: list[dict[str, Any]] = field(default_factory=list)
    answer_relevancy: float | None = None
    llm_context_precision: float | None = None
    llm_context_recall: float | None = None
    raw_answer: str = ""
    verified: dict[str, Any] = field(default_factory=dict)
    grounding: list[dict[str, Any]] = field(default_factory=list)
    answerable: float | None = None
    faithfulness_raw: float | None = None
    ungrounded_terms: list[str] = field(default_factory=list)
    # The same raw answer and verdicts as shown under each LODESTAR_ANSWER__UNSUPPORTED mode.
    modes: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def refusal_correct(self) -> bool:
        """Refused exactly when the case says it must."""
        return self.refused == self.must_refuse

    def sample(self, case: GoldenCase) -> SingleTurnSample:
        """The case as a ragas sample."""
        return SingleTurnSample(
            user_input=case.question,
            response=self.answer,
            retrieved_contexts=self.contexts,
            reference=case.reference_answer,
            reference_contexts=case.reference_contexts,
        )


@dataclass
class ControlResult:
    """A planted control answer and the faithfulness the judge gave it."""

    id: str
    expected: str
    faithfulness: float
    verdicts: list[dict[str, Any]]


@dataclass
class SuiteRun:
    """A finished run: per-case results, controls, and what it ran with."""

    suite: str
    generator: str
    judge: str
    cases: list[CaseResult]
    controls: list[ControlResult]
    seconds: float
    dataset: EvaluationDataset | None = None
    calibration: dict[str, Any] | None = None
    kits: list[KitScores] = field(default_factory=list)

    def aggregates(self) -> dict[str, float | None]:
        """The scores the gate checks."""
        answerable = [c for c in self.cases if not c.must_refuse and c.error is None]
        unanswerable = [c for c in self.cases if c.must_refuse and c.error is None]
        answered = [c for c in self.cases if not c.refused and c.error is None]
        return {
            "faithfulness": _mean(c.faithfulness for c in self.cases),
            "faithfulness_raw": _mean(c.faithfulness_raw for c in self.cases),
            "ungrounded_terms": float(sum(len(c.ungrounded_terms) for c in self.cases)),
            "verified_answers": _mean(
                c.verified.get("verified") for c in answered if c.verified.get("checked")
            ),
            "answer_relevancy": _mean(c.answer_relevancy for c in self.cases),
            "key_fact_recall": _mean(c.key_fact_recall for c in answerable),
            "citation_validity": _mean(c.citation_valid for c in answered),
            "comparison_tables": _mean(
                c.table and bool(c.citation_valid) for c in answerable if c.category == "comparison"
            ),
            "refusal_accuracy": _mean(c.refused for c in unanswerable),
            "false_refusal_rate": _mean(c.refused for c in answerable),
            "hit_rate_at_5": _mean(c.hit_at_5 for c in answerable),
            "context_recall": _mean(c.context_recall for c in answerable),
            "context_precision": _mean(c.context_precision for c in answerable),
            "llm_context_recall": _mean(c.llm_context_recall for c in answerable),
            "llm_context_precision": _mean(c.llm_context_precision for c in answerable),
            "errors": float(sum(c.error is not None for c in self.cases)),
            "judge_test_accuracy": (self.calibration or {}).get("accuracy"),
            **kit_aggregates(self.kits),
        }

    def mode_aggregates(self) -> dict[str, dict[str, float | None]]:
        """The deterministic scores of the same answers shown with `drop` and with `mark`."""
        scores: dict[str, dict[str, float | None]] = {}
        for mode in ("drop", "mark"):
            shown = [c for c in self.cases if c.error is None and mode in c.modes]
            if not shown:
                continue
            answerable = [c for c in shown if not c.must_refuse]
            scores[mode] = {
                "key_fact_recall": _mean(c.modes[mode]["key_fact_recall"] for c in answerable),
                "refusal_accuracy": _mean(c.modes[mode]["refused"] for c in shown if c.must_refuse),
                "false_refusal_rate": _mean(c.modes[mode]["refused"] for c in answerable),
                "citation_validity": _mean(
                    c.modes[mode]["citation_valid"] for c in shown if not c.modes[mode]["refused"]
                ),
                "faithfulness": _mean(c.modes[mode]["faithfulness"] for c in shown),
            }
        return scores

    def to_json(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        return {
            "suite": self.suite,
            "generator": self.generator,
            "judge": self.judge,
            "seconds": round(self.seconds, 1),
            "aggregates": self.aggregates(),
            "modes": self.mode_aggregates(),
            "calibration": self.calibration,
            "kits": [k.to_json() for k in self.kits],
            "cases": [asdict(c) for c in self.cases],
            "controls": [asdict(c) for c in self.controls],
        }


def _mean(values: Any) -> float | None:
    numbers = [
        float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))
    ]
    return round(sum(numbers) / len(numbers), 4) if numbers else None
