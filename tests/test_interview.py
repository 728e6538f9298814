"""Interview kits with a deterministic fake LLM: validation, retries, roles, export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM
from helpers import kit_question as question

from lodestar.errors import GenerationError, UnknownRoleError
from lodestar.interview import build_interview_kit, known_roles_and_levels
from lodestar.services import Services


@pytest.fixture
def services_with(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> Callable[..., Any]:
    def make(*replies: str) -> tuple[Services, Any]:
        llm = QueuedLLM.make(*replies)
        services = make_services(data_dir=knowledge_index, llm=llm)
        return services, llm

    return make


def test_roles_and_levels_come_from_the_front_matter(services_with: Any) -> None:
    services, _ = services_with()
    roles, levels = known_roles_and_levels(services)
    assert "ML Engineering Manager" in roles
    assert "Practice Leader" in roles
    assert {"junior", "senior", "lead"} <= set(levels)


def test_unknown_role_lists_the_known_ones(services_with: Any) -> None:
    services, llm = services_with()
    with pytest.raises(UnknownRoleError, match="ML Engineering Manager") as info:
        build_interview_kit(services, "Chief Vibes Officer", "senior", 2)
    assert "unknown role 'Chief Vibes Officer'" in str(info.value)
    assert llm.calls == []


def test_invalid_and_repeated_output_is_retried_then_kit_is_cited(services_with: Any) -> None:
    services, llm = services_with(
        "not json at all",
        question("How do you grow a team of 5-20 ML engineers?"),
        question("How do you grow a team of 5-20 ML engineers?"),  # a repeat: rejected
        question("How do you take a model from prototype to production?"),
    )
    kit = build_interview_kit(services, "ml engineering manager", "Senior", 2)
    assert kit.role == "ML Engineering Manager"
    assert kit.level == "senior"
    assert [q.question for q in kit.questions] == [
        "How do you grow a team of 5-20 ML engineers?",
        "How do you take a model from prototype to production?",
    ]
    assert kit.attempts == 4
    assert all(q.source.source == "knowledge/ml-engineering-manager.md" for q in kit.questions)
    assert llm.calls[0]["kwargs"]["response_format"]["type"] == "json_object"
    assert "schema" in llm.calls[0]["kwargs"]["response_format"]
    markdown = kit.to_markdown()
    assert "### 2. How do you take a model from prototype to production?" in markdown
    assert "**A strong answer shows:**" in markdown
    assert json.loads(json.dumps(kit.to_json()))["questions"][0]["source"]["n"] == 1


def test_output_that_never_validates_is_reported(services_with: Any) -> None:
    services, _ = services_with("{}", "[]", '{"question": "short"}')
    with pytest.raises(GenerationError, match="3 attempts"):
        build_interview_kit(services, "ML Engineering Manager", "senior", 1)
