"""The interview kits an evaluation run builds and scores (eval/kit_cases.jsonl).

`kit_cases` lists the kits to build for the golden set's interview cases; `evaluate_kits` builds
each with the real writer and scores it with the kit metrics (evaluation.metrics.kits).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lodestar.evaluation.dataset import eval_dir
from lodestar.evaluation.metrics.kits import KitScores, score_kit

if TYPE_CHECKING:
    from lodestar.components.services import Services
    from lodestar.grounding.verifier import GroundingVerifier


@dataclass
class KitCase:
    """A kit to build for golden interview cases: the role, level and size they call for."""

    role: str
    level: str
    count: int
    cases: list[str] = field(default_factory=list)


def kit_cases(path: Path | None = None) -> list[KitCase]:
    """The kits eval/kit_cases.jsonl asks for."""
    path = path or eval_dir() / "kit_cases.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [KitCase(**json.loads(line)) for line in lines if line.strip()]


def evaluate_kits(
    services: Services,
    cases: Sequence[KitCase],
    verifier: GroundingVerifier,
    on_kit: Callable[[KitScores], None] | None = None,
) -> list[KitScores]:
    """Build each case's kit with the configured LLM and score it."""
    from lodestar.interview import build_interview_kit

    scores = []
    for case in cases:
        kit = build_interview_kit(services, case.role, case.level, case.count)
        scores.append(score_kit(kit, services.embed_model.get_text_embedding_batch, verifier))
        if on_kit:
            on_kit(scores[-1])
    return scores
