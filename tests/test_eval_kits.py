"""Kit metrics on kits built with the fake LLM: schema, distinct questions, grounded signals,
figures and names absent from the source, questions per minute."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM, kit_question

from lodestar.evaluation.kits import kit_cases, schema_errors, score_kit
from lodestar.grounding import GroundingVerifier
from lodestar.kits import InterviewKit, build_interview_kit, known_roles_and_levels
from lodestar.services import Services


@pytest.fixture
def kit_of(knowledge_index: Path, make_services: Callable[..., Services]) -> Callable[..., Any]:
    def make(*questions: str) -> tuple[InterviewKit, Services]:
        services = make_services(
            data_dir=knowledge_index, llm=QueuedLLM.make(*[kit_question(q) for q in questions])
        )
        kit = build_interview_kit(services, "ML Engineering Manager", "senior", len(questions))
        kit.seconds = 30.0
        return kit, services

    return make


def test_a_good_kit_scores_clean(kit_of: Any) -> None:
    kit, services = kit_of(
        "How do you hire and mentor ML engineers on your team?",
        "How do you take an ML system from prototype to production?",
    )
    judged: list[str] = []

    def judge(messages: Any) -> float:
        judged.append(messages[-1].content)
        return 0.9

    verifier = GroundingVerifier(judge, threshold=0.5, design="statement")
    scores = score_kit(kit, services.embed_model.get_text_embedding_batch, verifier)
    assert scores.schema_valid == 1.0
    assert scores.distinct
    assert 0 < scores.max_similarity < 0.65
    assert scores.signals == 6
    assert scores.signals_supported == 1.0
    assert len(judged) == 6
    assert "Context:" in judged[0]  # the stand-alone design: the passage is in the prompt
    assert scores.ungrounded_terms == []
    assert scores.questions_per_minute == 4.0


def test_rewording_invented_figures_and_unsupported_signals_are_caught(kit_of: Any) -> None:
    kit, services = kit_of(
        "How do you hire and mentor ML engineers on your team?",
        "How do you take an ML system from prototype to production?",
    )
    # edits after writing, as a weaker writer would have made them
    kit.questions[1].question = "How have you hired and mentored the ML engineers on your team?"
    kit.questions[1].signals[0] = "Grew revenue by 37% at Google"
    verifier = GroundingVerifier(
        lambda m: 0.0 if "Statement: Hires and mentors" in m[-1].content else 0.9,
        threshold=0.5,
        design="statement",
    )
    scores = score_kit(kit, services.embed_model.get_text_embedding_batch, verifier)
    assert not scores.distinct
    assert scores.similar_pairs[0][:2] == (1, 2)
    assert scores.ungrounded_terms == ["q2: 37", "q2: Google"]
    assert "Grew revenue by 37% at Google" in scores.unsupported_signals  # the guard, no judge
    assert "Hires and mentors ML engineers" in scores.unsupported_signals  # the judge said no
    assert scores.signals_supported == pytest.approx(4 / 6, abs=1e-3)


def test_schema_errors_name_the_broken_question(kit_of: Any) -> None:
    kit, _ = kit_of("How do you hire and mentor ML engineers on your team?")
    data = kit.to_json()
    assert schema_errors(data) == []
    data["questions"][0]["signals"] = ["only one"]
    data["questions"][0]["source"]["text"] = ""
    assert schema_errors(data) == [
        "q1: signals: List should have at least 2 items after validation, not 1"
    ]


def test_the_kit_cases_name_known_roles_and_levels(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    roles, levels = known_roles_and_levels(make_services(data_dir=knowledge_index))
    cases = kit_cases()
    assert {c for case in cases for c in case.cases} == {f"g{n}" for n in range(36, 43)}
    for case in cases:
        assert case.role in roles
        assert case.level in levels
