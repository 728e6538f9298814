"""`lodestar chat` through its prompt: follow-ups condensed, /new, /sources, Ctrl-D (fake LLM)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM
from typer.testing import CliRunner

from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services

FIRST = "What should a new ML tech lead prioritise?"


def chat(
    knowledge_index: Path,
    make_services: Callable[..., Services],
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
    *replies: str,
) -> tuple[Any, Any]:
    llm = QueuedLLM.make(*replies)
    monkeypatch.setattr(
        common, "build_services", lambda settings: make_services(knowledge_index, llm=llm)
    )
    result = CliRunner().invoke(app, ["chat"], input=typed)
    assert result.exit_code == 0, result.output
    return result, llm


def test_a_follow_up_is_condensed_with_the_conversation(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, llm = chat(
        knowledge_index,
        make_services,
        monkeypatch,
        f"{FIRST}\nAnd how big is their team?\n",
        "Leads build trust first [1].",
        "How big is an ML tech lead's team?",  # the condensed follow-up
        "A team of 5-20 ML engineers [1].",
    )
    assert "Leads build trust first" in result.stdout
    assert "5-20 ML engineers" in result.stdout
    condense_prompt = llm.calls[1]["messages"][-1].content
    assert FIRST in condense_prompt  # the history went into the condensing prompt
    assert "And how big is their team?" in condense_prompt
    answered = llm.calls[2]["messages"][-1].content
    assert "How big is an ML tech lead's team?" in answered
    assert result.stderr.count("Reading") == 2  # sources first, for each answer


def test_new_forgets_the_conversation_and_sources_shows_the_passages(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, llm = chat(
        knowledge_index,
        make_services,
        monkeypatch,
        f"{FIRST}\n/sources\n/new\nHow big is an ML engineering manager's team?\n/bogus\n",
        "Leads build trust first [1].",
        "A team of 5-20 ML engineers [1].",
    )
    # /sources printed every passage read in full, the cited one marked
    assert "cited" in result.stdout
    assert result.stdout.count("[1]") >= 2
    # after /new no condensing call was made: two questions, two model calls
    assert len(llm.calls) == 2
    assert "New conversation" in result.stderr
    assert "unknown command /bogus" in result.stderr


def test_end_of_input_leaves_quietly(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, llm = chat(knowledge_index, make_services, monkeypatch, "")
    assert llm.calls == []
    assert "/sources" in result.stderr  # the help was shown
