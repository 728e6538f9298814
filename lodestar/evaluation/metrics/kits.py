"""Kit metrics: what makes an interview kit usable, scored on a kit the real writer made.

- `schema_valid`: share of the kit's questions whose exported JSON is a complete question
  (text, competency, level, 2-3 signals, follow-up, a source with its passage);
- `max_similarity` / `distinct`: the most similar pair of questions (MiniLM cosine, the role's
  name left out) and whether every pair is below the rewording threshold calibrated on
  eval/kit_question_pairs.jsonl (`InterviewSettings.duplicate_similarity`);
- `signals_supported`: share of signals the grounding verifier finds in their source passage,
  asked in the stand-alone fact-checking design (not the writer's own chat, so the check is
  independent of the one that kept them);
- `ungrounded_terms`: figures and names absent from a question's source passage (must be 0);
- `questions_per_minute`: questions made per minute of writing.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from lodestar.core.settings import InterviewSettings
from lodestar.grounding.evidence import Embed
from lodestar.grounding.statements import Statement
from lodestar.grounding.verifier import GroundingVerifier
from lodestar.interview.kit import (
    InterviewKit,
    comparable_question,
    source_context,
    ungrounded_terms,
)


class _Source(BaseModel):
    n: int = Field(ge=1)
    source: str = Field(min_length=1)
    title: str
    heading: str
    text: str = Field(min_length=1)


class QuestionRecord(BaseModel):
    """A kit question as `lodestar interview --format json` exports it."""

    question: str = Field(min_length=10)
    competency: str = Field(min_length=2)
    level: str = Field(min_length=1)
    signals: list[str] = Field(min_length=2, max_length=3)
    follow_up: str = Field(min_length=5)
    source: _Source


@dataclass
class KitScores:
    """The metrics of one kit."""

    role: str
    level: str
    asked: int
    made: int
    schema_valid: float
    max_similarity: float
    similar_pairs: list[tuple[int, int, float]]
    distinct: bool
    signals: int
    signals_supported: float | None
    unsupported_signals: list[str]
    ungrounded_terms: list[str]
    questions_per_minute: float

    def to_json(self) -> dict[str, Any]:
        """Plain data for a report."""
        return asdict(self)


def schema_errors(kit_json: dict[str, Any]) -> list[str]:
    """Why each invalid question of an exported kit is invalid (empty: all valid)."""
    errors = []
    for n, question in enumerate(kit_json.get("questions", []), start=1):
        try:
            QuestionRecord.model_validate(question)
        except ValidationError as exc:
            first = exc.errors()[0]
            errors.append(f"q{n}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    return errors


def question_similarities(
    questions: Sequence[str], role: str, embed: Embed
) -> list[tuple[int, int, float]]:
    """Every pair of questions (1-based) with its cosine similarity, most similar first."""
    if len(questions) < 2:
        return []
    vectors = np.asarray(embed([comparable_question(q, role) for q in questions]))
    vectors = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    pairs = [
        (i + 1, j + 1, round(float(vectors[i] @ vectors[j]), 4))
        for i, j in itertools.combinations(range(len(questions)), 2)
    ]
    return sorted(pairs, key=lambda p: -p[2])


def signal_verdicts(kit: InterviewKit, verifier: GroundingVerifier) -> list[tuple[str, bool]]:
    """Each signal of the kit, and whether the verifier finds it in its source passage."""
    verdicts = []
    for q in kit.questions:
        context = source_context(q, kit.role, kit.level)
        for signal in q.signals:
            verdict = verifier.check_against(Statement(text=signal, cites=[1]), [1], [context], ())
            verdicts.append((signal, verdict.supported))
    return verdicts


def score_kit(
    kit: InterviewKit,
    embed: Embed,
    verifier: GroundingVerifier | None = None,
    threshold: float | None = None,
) -> KitScores:
    """Score a kit; signals are judged only when a verifier is given."""
    threshold = InterviewSettings().duplicate_similarity if threshold is None else threshold
    data = json.loads(json.dumps(kit.to_json()))
    invalid = schema_errors(data)
    pairs = question_similarities([q.question for q in kit.questions], kit.role, embed)
    similar = [p for p in pairs if p[2] >= threshold]
    verdicts = signal_verdicts(kit, verifier) if verifier is not None else []
    terms = [
        f"q{n}: {term}"
        for n, q in enumerate(kit.questions, start=1)
        for term in ungrounded_terms(q, kit.role, kit.level)
    ]
    minutes = kit.seconds / 60
    return KitScores(
        role=kit.role,
        level=kit.level,
        asked=kit.asked,
        made=kit.made,
        schema_valid=round(1 - len(invalid) / kit.made, 4) if kit.made else 0.0,
        max_similarity=pairs[0][2] if pairs else 0.0,
        similar_pairs=similar,
        distinct=not similar,
        signals=sum(len(q.signals) for q in kit.questions),
        signals_supported=(
            round(sum(ok for _, ok in verdicts) / len(verdicts), 4) if verdicts else None
        ),
        unsupported_signals=[s for s, ok in verdicts if not ok],
        ungrounded_terms=terms,
        questions_per_minute=round(kit.made / minutes, 2) if minutes > 0 else 0.0,
    )


def kit_aggregates(kits: Sequence[KitScores]) -> dict[str, float | None]:
    """The kit metrics the gate checks, over every kit of the run (None when none was built)."""
    if not kits:
        return dict.fromkeys(KIT_METRICS)
    judged = [k for k in kits if k.signals_supported is not None]
    signals = sum(k.signals for k in judged)
    supported = sum(k.signals - len(k.unsupported_signals) for k in judged)
    return {
        "kit_schema_valid": round(min(k.schema_valid for k in kits), 4),
        "kit_distinct": float(all(k.distinct for k in kits)),
        "kit_max_similarity": max(k.max_similarity for k in kits),
        "kit_signals_supported": round(supported / signals, 4) if signals else None,
        "kit_ungrounded_terms": float(sum(len(k.ungrounded_terms) for k in kits)),
        "kit_questions_made": round(sum(k.made for k in kits) / sum(k.asked for k in kits), 4),
        "kit_questions_per_minute": round(sum(k.questions_per_minute for k in kits) / len(kits), 2),
    }


KIT_METRICS = (
    "kit_schema_valid",
    "kit_distinct",
    "kit_max_similarity",
    "kit_signals_supported",
    "kit_ungrounded_terms",
    "kit_questions_made",
    "kit_questions_per_minute",
)
