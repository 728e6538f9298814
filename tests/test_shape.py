"""The shape of an answer, read from the question's words."""

from __future__ import annotations

import pytest

from lodestar.answering.shape import answer_shape
from lodestar.core.prompts import render_prompt


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("What should a new ML tech lead prioritise?", "guidance"),
        ("I'm turning into the bottleneck on my team. How should I delegate?", "guidance"),
        ("As a new tech lead, what should I do first?", "guidance"),
        ("Why should I write down how we reached a technical call?", "guidance"),
        ("How can my team keep trying new ideas without breaking what's live?", "guidance"),
        ("How much do team leads make in New York?", "lookup"),
        ("Which experiment tracking tools should an ML manager know?", "lookup"),
        ("How many years of experience do I need for a senior team lead role?", "lookup"),
        ("What salary range does the career material give?", "lookup"),
        ("What is inner source culture?", "general"),
        ("Does a practice leader need to know RAG and AI agents?", "general"),
    ],
)
def test_the_question_decides_the_shape(question: str, shape: str) -> None:
    assert answer_shape(question) == shape


@pytest.mark.parametrize("shape", ["lookup", "guidance", "general"])
def test_every_shape_has_its_instruction(shape: str) -> None:
    assert "bullet" in render_prompt(f"shape_{shape}")
