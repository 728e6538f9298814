"""A request for interview questions in `ask`, `chat` and the app's chat is answered by the kit
writer (role, level, count and area read from the words); a question *about* interviewing is
answered as any other question (fake LLM; the real model in test_local_model)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM, kit_question
from typer.testing import CliRunner

from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.interview.request import read_kit_request

ROLES = [
    "ML Engineer",
    "ML Engineering Manager",
    "ML Engineering Team Lead",
    "ML Tech Lead",
    "Practice Leader",
    "Staff Machine Learning Scientist",
]
LEVELS = ["junior", "lead", "manager", "senior", "staff"]
REQUEST = "Give me four interview questions for a senior ML Engineering Manager"
FOUR = [
    kit_question("How would you grow a team of ML engineers over a year?"),
    kit_question("How do you take an ML system from prototype to production?"),
    kit_question("How do you keep your team current with new technologies?"),
    kit_question("Tell me about a time you set technical standards for a team."),
]


@pytest.mark.parametrize(
    ("text", "role", "level", "count", "area"),
    [
        (REQUEST, "ML Engineering Manager", "senior", 4, None),
        ("Write 3 interview questions about MLOps for a junior machine learning engineer",
         "ML Engineer", "junior", 3, "MLOps"),
        ("Give me 6 interview questions for a lead ML engineer on system design",
         "ML Engineer", "lead", 6, "system design"),
        ("Can you give me a few questions to ask a candidate for ML Tech Lead?",
         "ML Tech Lead", "senior", 3, None),
        ("What interview questions should I ask a Staff Machine Learning Scientist?",
         "Staff Machine Learning Scientist", "senior", 5, None),
        ("I need an interview kit for the Practice Leader role", "Practice Leader", "senior", 5,
         None),
        ("Suggest interview questions to evaluate a Practice Leader candidate's people skills.",
         "Practice Leader", "senior", 5, "people"),
        ("Give me interview questions to assess production ML experience for an ML Engineering "
         "Manager.", "ML Engineering Manager", "senior", 5, "production ML"),
        ("Give me questions to assess how an ML Engineering Manager candidate handles model "
         "lifecycle management.", "ML Engineering Manager", "senior", 5,
         "model lifecycle management"),
        ("What interview questions would separate a lead ML engineer from a senior one on system "
         "design?", "ML Engineer", "lead", 5, "system design"),
        ("Give me interview questions for a designer", None, "senior", 5, None),
    ],
)  # fmt: skip
def test_a_request_for_interview_questions_names_its_role_level_count_and_area(
    text: str, role: str | None, level: str, count: int, area: str | None
) -> None:
    request = read_kit_request(text, ROLES, LEVELS)
    assert request is not None
    assert (request.role, request.level, request.count, request.area) == (role, level, count, area)
    words = text.lower().replace(role.lower(), "") if role else text.lower()
    named_level = any(re.search(rf"\b{level}\b", words) for level in LEVELS)
    assert bool(request.notes) != named_level  # "no level was named" is said, and only then


@pytest.mark.parametrize(
    "text",
    [
        "How many interview questions should a kit have?",
        "What makes a good interview question?",
        "What should I probe when interviewing a lead ML engineer on planning and delivery?",
        "How do I assess ownership when interviewing a lead-level ML engineer?",
        "Which GenAI topics should I test when hiring a Practice Leader?",
        "What should a new ML tech lead prioritise?",
    ],
)
def test_questions_about_interviewing_are_not_kit_requests(text: str) -> None:
    assert read_kit_request(text, ROLES, LEVELS) is None


def test_at_most_twenty_questions_are_written_and_the_kit_says_so() -> None:
    request = read_kit_request(
        "Give me 50 interview questions for a senior ML Engineer", ROLES, LEVELS
    )
    assert request is not None
    assert request.count == 20
    assert any("at most 20" in note for note in request.notes)


@pytest.fixture
def with_llm(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    def use(*replies: str) -> Any:
        llm = QueuedLLM.make(*replies)
        monkeypatch.setattr(
            common, "build_services", lambda settings: make_services(knowledge_index, llm=llm)
        )
        return llm

    return use


def test_ask_writes_a_kit_of_four_for_a_request(with_llm: Callable[..., Any]) -> None:
    llm = with_llm(*FOUR)
    result = CliRunner().invoke(app, ["ask", REQUEST])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("## Interview kit: ML Engineering Manager (senior)")
    for n, reply in enumerate(FOUR, start=1):
        assert f"### {n}. {json.loads(reply)['question']}" in result.stdout
    assert "_4 questions asked for, 4 made._" in result.stdout
    assert "Hires and mentors ML engineers" in result.stdout  # the signals, checked and shown
    # every model call wrote a kit question: no answer about the role was asked for
    assert len(llm.calls) == 4
    assert all("response_format" in call["kwargs"] for call in llm.calls)


def test_ask_for_a_role_the_index_lacks_asks_which_role(with_llm: Callable[..., Any]) -> None:
    llm = with_llm()
    result = CliRunner().invoke(app, ["ask", "Give me interview questions for a designer"])
    assert result.exit_code == 0, result.output
    assert "Which role are the interview questions for?" in result.stdout
    assert "ML Engineering Manager" in result.stdout
    assert "Practice Leader" in result.stdout
    assert llm.calls == []


def test_chat_writes_the_kit_then_goes_on_answering(with_llm: Callable[..., Any]) -> None:
    llm = with_llm(*FOUR, "Leads build trust first [1].")
    typed = f"{REQUEST}\nWhat should a new ML tech lead prioritise?\n"
    result = CliRunner().invoke(app, ["chat"], input=typed)
    assert result.exit_code == 0, result.output
    assert "## Interview kit: ML Engineering Manager (senior)" in result.stdout
    assert "_4 questions asked for, 4 made._" in result.stdout
    assert "Leads build trust first" in result.stdout
    assert len(llm.calls) == 5
