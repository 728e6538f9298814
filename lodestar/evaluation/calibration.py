"""How far the judge agrees with people: accuracy and Cohen's kappa on hand-labelled items."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lodestar.evaluation.dataset import CalibrationItem
from lodestar.evaluation.faithfulness import StatementFaithfulness

if TYPE_CHECKING:
    from ragas.embeddings.base import BaseRagasEmbedding
    from ragas.llms.base import InstructorBaseRagasLLM

Method = Literal["statement", "ragas"]


@dataclass
class CalibrationReport:
    """The judge's verdicts against the labels."""

    judge: str
    method: str
    verdicts: list[tuple[CalibrationItem, bool]]
    seconds: float
    threshold: float | None = None
    probabilities: list[float] | None = None
    per_kind: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.per_kind = {}
        for item, verdict in self.verdicts:
            right, total = self.per_kind.get(item.kind, [0, 0])
            self.per_kind[item.kind] = [right + (verdict == item.supported), total + 1]

    @property
    def accuracy(self) -> float:
        """Share of items where the judge agrees with the label."""
        return sum(v == i.supported for i, v in self.verdicts) / len(self.verdicts)

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement beyond what the two label rates give by chance."""
        n = len(self.verdicts)
        label_yes = sum(i.supported for i, _ in self.verdicts) / n
        judge_yes = sum(v for _, v in self.verdicts) / n
        chance = label_yes * judge_yes + (1 - label_yes) * (1 - judge_yes)
        return 1.0 if chance == 1 else (self.accuracy - chance) / (1 - chance)

    def confusion(self) -> dict[str, int]:
        """Counts of (label, verdict) pairs."""
        pairs = [(i.supported, v) for i, v in self.verdicts]
        return {
            "supported_judged_yes": pairs.count((True, True)),
            "supported_judged_no": pairs.count((True, False)),
            "unsupported_judged_yes": pairs.count((False, True)),
            "unsupported_judged_no": pairs.count((False, False)),
        }

    def threshold_sweep(self) -> list[dict[str, float]]:
        """Accuracy and balanced accuracy at other P(yes) thresholds (scored judges only)."""
        if self.probabilities is None:
            return []
        labels = [i.supported for i, _ in self.verdicts]
        rows = []
        for step in range(5, 100, 5):
            bar = step / 100
            said = [p >= bar for p in self.probabilities]
            yes_right = sum(s and lab for s, lab in zip(said, labels, strict=True))
            no_right = sum(not s and not lab for s, lab in zip(said, labels, strict=True))
            rows.append(
                {
                    "threshold": bar,
                    "accuracy": round((yes_right + no_right) / len(labels), 4),
                    "balanced_accuracy": round(
                        (yes_right / max(1, sum(labels)) + no_right / max(1, labels.count(False)))
                        / 2,
                        4,
                    ),
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        """Plain data, with every disagreement listed."""
        return {
            "judge": self.judge,
            "method": self.method,
            "threshold": self.threshold,
            "items": len(self.verdicts),
            "accuracy": round(self.accuracy, 4),
            "kappa": round(self.kappa, 4),
            "seconds": round(self.seconds, 1),
            "threshold_sweep": self.threshold_sweep(),
            "per_kind": {
                k: {"right": r, "total": t} for k, (r, t) in sorted(self.per_kind.items())
            },
            "confusion": self.confusion(),
            "disagreements": [
                {"id": i.id, "kind": i.kind, "label": i.supported, "statement": i.statement}
                for i, v in self.verdicts
                if v != i.supported
            ],
            "probabilities": None
            if self.probabilities is None
            else {
                i.id: round(p, 4)
                for (i, _), p in zip(self.verdicts, self.probabilities, strict=True)
            },
        }


async def ragas_default_verdict(llm: InstructorBaseRagasLLM, item: CalibrationItem) -> bool:
    """ragas's own Faithfulness (default prompts) on the statement alone: supported if it scores 1."""
    from ragas.metrics.collections import Faithfulness

    result = await Faithfulness(llm=llm).ascore(
        user_input="What does the context say?",
        response=item.statement,
        retrieved_contexts=[item.context],
    )
    return result.value == 1.0


def calibrate(
    llm: InstructorBaseRagasLLM,
    embeddings: BaseRagasEmbedding,
    items: list[CalibrationItem],
    *,
    judge: str,
    method: Method = "statement",
    threshold: float = 0.5,
    repeats: int = 1,
    on_step: Callable[[str], None] = lambda _: None,
) -> CalibrationReport:
    """Run the judge on every item with the chosen method."""
    metric = StatementFaithfulness(llm, embeddings, threshold=threshold, repeats=repeats)
    started = time.perf_counter()
    verdicts = []
    probabilities: list[float] = []
    for item in items:
        if method == "statement":
            verdict, probability = asyncio.run(metric.judge(item.statement, item.context))
            if probability is not None:
                probabilities.append(probability)
        else:
            verdict = asyncio.run(ragas_default_verdict(llm, item))
        verdicts.append((item, verdict))
        on_step(item.id)
    scored = method == "statement" and len(probabilities) == len(items)
    return CalibrationReport(
        judge=judge,
        method=method,
        verdicts=verdicts,
        seconds=time.perf_counter() - started,
        threshold=threshold if scored else None,
        probabilities=probabilities if scored else None,
    )
