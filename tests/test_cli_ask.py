"""`lodestar ask` in a terminal: sources first, then the streamed answer (fake LLM, real index)."""

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


def test_ask_lists_the_passages_being_read_before_the_answer(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = QueuedLLM.make("Leads build trust first [1].")
    monkeypatch.setattr(
        common, "build_services", lambda settings: make_services(knowledge_index, llm=llm)
    )
    result: Any = CliRunner().invoke(app, ["ask", "What should a new ML tech lead prioritise?"])
    assert result.exit_code == 0, result.output
    shown = result.output
    assert "Reading" in result.stderr
    assert "[1]" in result.stderr
    assert shown.index("Reading") < shown.index("Leads build trust first")
    assert "Sources" in result.stdout
