"""How far a judge agrees with people: accuracy and Cohen's kappa on hand-labelled items.

The calibration set has fixed `dev` and `test` halves (stratified by kind). A scored judge's
threshold is chosen on dev only; the figures that count are the test half's.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lodestar.evaluation.dataset import CalibrationItem
from lodestar.grounding.evidence import Embed
from lodestar.grounding.judge import YesNoJudge
from lodestar.grounding.statements import Statement
from lodestar.grounding.verifier import GroundingVerifier

if TYPE_CHECKING:
    from ragas.llms.base import InstructorBaseRagasLLM

    from lodestar.evaluation.metrics.faithfulness import StatementFaithfulness

Method = Literal["statement", "context", "ragas"]
# A scored item is P(yes) in [0, 1]; an unscored judge gives a plain verdict.
Score = float | bool


def accuracy_kappa(pairs: Sequence[tuple[bool, bool]]) -> tuple[float, float]:
    """Accuracy and Cohen's kappa of (label, verdict) pairs."""
    n = len(pairs)
    if not n:
        return float("nan"), float("nan")
    accuracy = sum(label == said for label, said in pairs) / n
    label_yes = sum(label for label, _ in pairs) / n
    judge_yes = sum(said for _, said in pairs) / n
    chance = label_yes * judge_yes + (1 - label_yes) * (1 - judge_yes)
    kappa = 1.0 if chance == 1 else (accuracy - chance) / (1 - chance)
    return accuracy, kappa


def balanced_accuracy(pairs: Sequence[tuple[bool, bool]]) -> float:
    """Mean of the accuracy on supported and on unsupported items."""
    yes = [said for label, said in pairs if label]
    no = [not said for label, said in pairs if not label]
    return (sum(yes) / max(1, len(yes)) + sum(no) / max(1, len(no))) / 2


def choose_threshold(
    scores: Sequence[float], labels: Sequence[bool], false_no_cost: float = 1.0
) -> float:
    """The P(yes) bar with the fewest errors on these items, a "no" to a positive item counting
    `false_no_cost` times (ties: best balanced accuracy, or with a cost above 1 the fewest
    wrong "no"s, then the middle of the tied run of bars, the least sensitive choice)."""
    grid = [step / 100 for step in range(1, 100)]

    def quality(bar: float) -> tuple[float, float]:
        pairs = [(lab, s >= bar) for s, lab in zip(scores, labels, strict=True)]
        cost = sum(false_no_cost if lab else 1.0 for lab, said in pairs if lab != said)
        if false_no_cost > 1:
            return -cost, -sum(lab and not said for lab, said in pairs)
        return -cost, balanced_accuracy(pairs)

    best = max(quality(bar) for bar in grid)
    tied = [bar for bar in grid if quality(bar) == best]
    return tied[len(tied) // 2]


@dataclass
class CalibrationReport:
    """The judge's scores against the labels, with the threshold chosen on the dev half."""

    judge: str
    method: str
    items: list[CalibrationItem]
    scores: list[Score]
    seconds: float
    threshold: float | None = None
    false_no_cost: float = 1.0
    per_kind: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        scored = all(isinstance(s, float) for s in self.scores)
        if scored and self.threshold is None:
            dev = [(s, i.supported) for i, s in zip(self.items, self.scores, strict=True)]
            dev = [pair for pair, item in zip(dev, self.items, strict=True) if item.split == "dev"]
            if dev:
                self.threshold = choose_threshold(
                    [float(s) for s, _ in dev], [lab for _, lab in dev], self.false_no_cost
                )
        self.per_kind = {}
        for item, verdict in self.verdicts:
            right, total = self.per_kind.get(f"{item.split}:{item.kind}", [0, 0])
            self.per_kind[f"{item.split}:{item.kind}"] = [
                right + (verdict == item.supported),
                total + 1,
            ]

    @property
    def verdicts(self) -> list[tuple[CalibrationItem, bool]]:
        """Each item with the judge's verdict (a score compared with the threshold)."""
        bar = self.threshold if self.threshold is not None else 0.5
        return [
            (item, s if isinstance(s, bool) else s >= bar)
            for item, s in zip(self.items, self.scores, strict=True)
        ]

    def pairs(self, split: str | None = None) -> list[tuple[bool, bool]]:
        """(label, verdict) pairs, on one split or all."""
        return [(i.supported, v) for i, v in self.verdicts if split is None or i.split == split]

    @property
    def accuracy(self) -> float:
        """Accuracy on every item."""
        return accuracy_kappa(self.pairs())[0]

    @property
    def kappa(self) -> float:
        """Cohen's kappa on every item."""
        return accuracy_kappa(self.pairs())[1]

    def split_figures(self) -> dict[str, dict[str, float | int]]:
        """Accuracy, kappa and balanced accuracy per split: `test` is the out-of-sample figure."""
        figures: dict[str, dict[str, float | int]] = {}
        for split in ("dev", "test"):
            pairs = self.pairs(split)
            if not pairs:
                continue
            accuracy, kappa = accuracy_kappa(pairs)
            figures[split] = {
                "items": len(pairs),
                "accuracy": round(accuracy, 4),
                "kappa": round(kappa, 4),
                "balanced_accuracy": round(balanced_accuracy(pairs), 4),
            }
        return figures

    def confusion(self, split: str | None = None) -> dict[str, int]:
        """Counts of (label, verdict) pairs."""
        pairs = self.pairs(split)
        return {
            "supported_judged_yes": pairs.count((True, True)),
            "supported_judged_no": pairs.count((True, False)),
            "unsupported_judged_yes": pairs.count((False, True)),
            "unsupported_judged_no": pairs.count((False, False)),
        }

    def to_json(self) -> dict[str, Any]:
        """Plain data, with every disagreement listed."""
        return {
            "judge": self.judge,
            "method": self.method,
            "threshold": self.threshold,
            "threshold_chosen_on": "dev" if self.threshold is not None else None,
            "false_no_cost": self.false_no_cost,
            "items": len(self.items),
            "splits": self.split_figures(),
            "accuracy_all": round(self.accuracy, 4),
            "seconds": round(self.seconds, 1),
            "seconds_per_item": round(self.seconds / max(1, len(self.items)), 2),
            "per_kind": {
                k: {"right": r, "total": t} for k, (r, t) in sorted(self.per_kind.items())
            },
            "confusion_test": self.confusion("test"),
            "disagreements": [
                {
                    "id": i.id,
                    "split": i.split,
                    "kind": i.kind,
                    "label": i.supported,
                    "statement": i.statement,
                }
                for i, v in self.verdicts
                if v != i.supported
            ],
            "scores": {
                i.id: (round(s, 4) if isinstance(s, float) else s)
                for i, s in zip(self.items, self.scores, strict=True)
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


def statement_scorer(metric: StatementFaithfulness) -> Callable[[CalibrationItem], Score]:
    """Design `statement`: the evaluation's stand-alone fact-checking prompt."""

    def score(item: CalibrationItem) -> Score:
        verdict, probability = asyncio.run(metric.judge(item.statement, item.context))
        return float(probability) if probability is not None else verdict

    return score


CONTEXT_QUESTION = "What does the knowledge base say about this?"
DISTRACTORS = 2


def context_scorer(
    judge: YesNoJudge,
    items: Sequence[CalibrationItem],
    answer_messages: Callable[[str, list[str]], list[Any]],
    embed: Embed | None = None,
) -> Callable[[CalibrationItem], Score]:
    """Design `context`: the check as a follow-up in an answer's own chat.

    As in a real answer, the model read several passages: the item's context plus two other
    contexts of the set, in an order fixed by the item's id; its answer is the statement, cited to
    the right passage.
    """
    contexts = list(dict.fromkeys(item.context for item in items))
    verifier = GroundingVerifier(judge, threshold=0.0, design="context", embed=embed)

    def score(item: CalibrationItem) -> Score:
        seed = int(hashlib.sha256(item.id.encode()).hexdigest(), 16)
        others = [c for c in contexts if c != item.context]
        picked = (
            [others[(seed + k * 7) % len(others)] for k in range(DISTRACTORS)] if others else []
        )
        position = seed % (len(picked) + 1)
        passages = [*picked[:position], item.context, *picked[position:]]
        cite = position + 1
        messages = answer_messages(CONTEXT_QUESTION, passages)
        # One check against the cited passage, as calibrated (no second try elsewhere).
        verdict = verifier.check_against(
            Statement(text=item.statement, cites=[cite]), [cite], passages, messages
        )
        return float(verdict.score or 0.0)

    return score


def calibrate(
    items: list[CalibrationItem],
    score: Callable[[CalibrationItem], Score],
    *,
    judge: str,
    method: str,
    threshold: float | None = None,
    false_no_cost: float = 1.0,
    on_step: Callable[[str], None] = lambda _: None,
) -> CalibrationReport:
    """Score every item; a scored judge's threshold is chosen on the dev half unless given."""
    started = time.perf_counter()
    scores: list[Score] = []
    for item in items:
        scores.append(score(item))
        on_step(item.id)
    return CalibrationReport(
        judge=judge,
        method=method,
        items=items,
        scores=scores,
        seconds=time.perf_counter() - started,
        threshold=threshold,
        false_no_cost=false_no_cost,
    )
