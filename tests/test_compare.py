"""A question comparing two roles is answered as a table quoted from each role's documents: a
column per role, every cell cited and found word for word in the passage it cites, "not
described" where a role's documents are silent, and no model call."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM
from typer.testing import CliRunner

from lodestar.answering.compare import compared_roles
from lodestar.answering.engine import AnswerEngine
from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.evaluation.dataset import GoldenCase
from lodestar.evaluation.metrics.answers import check_answer_citations
from lodestar.evaluation.results import SuiteRun
from lodestar.evaluation.runner import SuiteRunner
from lodestar.evaluation.suites import Suite
from lodestar.grounding.statements import NOT_DESCRIBED

ROLES = ["ML Engineer", "ML Engineering Manager", "ML Tech Lead", "Practice Leader"]
QUESTION = "How does a Practice Leader differ from an ML Engineering Manager?"


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        (QUESTION, ("Practice Leader", "ML Engineering Manager")),
        ("Compare an ML Tech Lead and a Practice Leader", ("ML Tech Lead", "Practice Leader")),
        ("What's the difference between a machine learning engineer and an ML Tech Lead?",
         ("ML Engineer", "ML Tech Lead")),
        ("ML Engineering Manager vs Practice Leader", ("ML Engineering Manager", "Practice Leader")),
        ("How does a Practice Leader differ from a designer?", None),
        ("What should a new ML tech lead prioritise?", None),
        ("How do I compare two job offers?", None),
    ],
)  # fmt: skip
def test_a_comparison_names_two_known_roles(text: str, pair: tuple[str, str] | None) -> None:
    assert compared_roles(text, ROLES) == pair


def test_two_roles_compared_get_a_table_of_cited_quotes_without_the_model(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    llm = QueuedLLM.make()
    answer = AnswerEngine(make_services(data_dir=knowledge_index, llm=llm)).ask(QUESTION)
    assert llm.calls == []
    assert llm.judged == []
    assert not answer.refused
    lines = answer.answer.splitlines()
    assert "| | Practice Leader | ML Engineering Manager |" in lines
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and "---" not in line]
    cells = [cell.strip(" |") for row in rows[1:] for cell in row[1:]]
    assert len(rows) >= 4  # the header and at least three aspects
    passages = {c.n: c for c in answer.citations}
    described = [cell for cell in cells if cell != NOT_DESCRIBED]
    assert len(described) >= 6
    for cell in described:
        found = re.fullmatch(r"(?P<quote>.+) \[(?P<n>\d+)\]", cell)
        assert found, cell
        source = passages[int(found["n"])]
        quote = found["quote"]
        words = " ".join(source.text.split()).lower()
        assert quote[:1].lower() + quote[1:].lower() in words, (quote, source.location)
    for n, citation in passages.items():
        assert f"[{n}]" in answer.answer
        assert "Practice Leader" in citation.location or "Engineering Manager" in citation.location
    assert answer.verified["quoted"] is True
    assert answer.verified["statements"] == len(described)


def test_ask_prints_the_table(
    knowledge_index: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        common,
        "build_services",
        lambda settings: make_services(knowledge_index, llm=QueuedLLM.make()),
    )
    result = CliRunner().invoke(app, ["ask", QUESTION])
    assert result.exit_code == 0, result.output
    assert "Practice Leader" in result.stdout
    assert "ML Engineering Manager" in result.stdout
    assert "quoted word for word" in result.output


def test_a_comparisons_cells_are_its_statements_all_cited(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    answer = AnswerEngine(make_services(data_dir=knowledge_index, llm=QueuedLLM.make())).ask(
        QUESTION
    )
    citations = check_answer_citations(answer)
    assert citations.valid
    assert citations.statements == answer.verified["statements"]  # one a described cell


def test_a_role_in_a_shared_document_is_quoted_from_its_own_sections(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    """The adjacent-roles document's title names all four of its roles: each column still
    quotes only the sections headed for its own role (or the document's opening)."""
    answer = AnswerEngine(make_services(data_dir=knowledge_index, llm=QueuedLLM.make())).ask(
        "Staff ML scientist vs senior game data analyst"
    )
    header = "| | Staff Machine Learning Scientist | Senior Game Data Analyst |"
    assert header in answer.answer.splitlines()
    for citation in answer.citations:
        heading = citation.location.split(" › ", 1)[1:]
        assert not heading or re.search(
            r"Staff Machine Learning Scientist|Senior Game Data Analyst", heading[0]
        ), citation.location


def _no_judge() -> Any:
    raise AssertionError("a comparison case needs no judge")


def test_the_evaluation_scores_a_comparison_as_a_cited_table(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    llm = QueuedLLM.make()
    runner = SuiteRunner(make_services(data_dir=knowledge_index, llm=llm), _no_judge)
    case = GoldenCase(
        id="c1",
        category="comparison",
        question=QUESTION,
        reference_answer="a",
        reference_doc_ids=["knowledge/ml-engineering-manager.md"],
        reference_contexts=["At least 8 years (8+ years) of hands-on ML engineering work"],
        key_facts=["8+ years"],
    )
    suite = Suite("t", "", judged=[], llm_context_metrics=False, relevancy_questions=1)
    result = runner.run_case(case, suite)
    assert result.error is None
    assert result.table
    assert (result.citation_valid, result.key_fact_recall, result.context_recall) == (
        True,
        1.0,
        1.0,
    )
    assert result.ungrounded_terms == []
    assert result.statements == result.cited_statements >= 6
    # nothing to drop or mark: both display modes show the table as it is
    assert result.modes["drop"] == result.modes["mark"]
    assert result.modes["drop"]["citation_valid"] is True
    assert not result.judged
    assert llm.calls == []
    assert llm.judged == []
    run = SuiteRun("t", "g", "j", cases=[result], controls=[], seconds=1.0)
    assert run.aggregates()["comparison_tables"] == 1.0
