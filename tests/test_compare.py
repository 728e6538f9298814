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

from lodestar.answering.compare import compared_roles, section_aspects, statements_in
from lodestar.answering.engine import AnswerEngine
from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.evaluation.dataset import GoldenCase
from lodestar.evaluation.metrics.answers import check_answer_citations
from lodestar.evaluation.results import SuiteRun
from lodestar.evaluation.runner import SuiteRunner
from lodestar.evaluation.suites import Suite
from lodestar.grounding.statements import NOT_DESCRIBED, table_cells
from lodestar.retrieval.passages import Passage
from lodestar.retrieval.sections import passage_clauses

ROLES = ["ML Engineer", "ML Engineering Manager", "ML Tech Lead", "Practice Leader"]
QUESTION = "How does a Practice Leader differ from an ML Engineering Manager?"


@pytest.fixture
def compared(knowledge_index: Path, make_services: Callable[..., Services]) -> Callable[[str], Any]:
    """The answer to a comparison question, by an engine whose model may not be called."""

    def ask(question: str) -> Any:
        return AnswerEngine(make_services(data_dir=knowledge_index, llm=QueuedLLM.make())).ask(
            question
        )

    return ask


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
    compared: Callable[[str], Any],
) -> None:
    answer = compared(QUESTION)
    citations = check_answer_citations(answer)
    assert citations.valid
    assert citations.statements == answer.verified["statements"]  # one a described cell


def test_a_role_in_a_shared_document_is_quoted_from_its_own_sections(
    compared: Callable[[str], Any],
) -> None:
    """The adjacent-roles document's title names all four of its roles: each column still
    quotes only the sections headed for its own role (or the document's opening)."""
    answer = compared("Staff ML scientist vs senior game data analyst")
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


def _rows(answer_text: str) -> dict[str, list[str]]:
    """The table's cells by row label, each without its citation."""
    rows = {}
    for line in answer_text.splitlines():
        cells = table_cells(line)
        if cells is not None and len(cells) == 3 and cells[0] and not cells[0].startswith("-"):
            rows[cells[0]] = [re.sub(r" \[\d+\]$", "", c) for c in cells[1:]]
    return rows


def test_a_bold_labelled_bullet_is_quoted_and_a_line_cut_by_the_chunker_is_not() -> None:
    """Without its label a bullet's words start in lower case, as a fragment cut from a
    sentence does; only the fragment is left out."""
    text = (
        "in mathematics, computer science or another quantitative discipline, plus first-rate"
        " software engineering ability.\n"
        "- **Experience**: no less than 5 years doing data analysis, preferably in games.\n"
        "- comfortable with the tools the team already knows"
    )
    assert statements_in(text) == ["no less than 5 years doing data analysis, preferably in games"]


def _passage(title: str, heading: str) -> Passage:
    return Passage(text="", source="s.md", title=title, heading=heading, score=0.0, doc_type="")


def test_a_sections_heading_says_which_aspect_it_is_about_not_its_documents_title() -> None:
    """A profile titled "(Experience, Responsibilities, Skills)" is not about experience in
    every section; a title about one aspect only ("Salary Ranges") is, in all of them; a role's
    name in a heading ("…Team Lead") is not about the team."""
    roles = [*ROLES, "ML Engineering Team Lead"]

    def about(title: str, heading: str) -> list[str]:
        return [a.label for a in section_aspects(_passage(title, heading), roles)]

    profile = "ML Engineering Manager: Role Profile (Experience, Responsibilities, Skills)"
    assert about(profile, "Responsibilities: Project Management") == ["Responsibilities"]
    assert about(profile, "") == []
    salaries = "ML Engineering Team Lead: Salary Ranges (US, 2024)"
    assert about(salaries, "National Averages (US, 2024)") == ["Pay"]
    trends = "ML Engineering Team Lead: Seven Industry Trends Shaping the Role"
    assert about(trends, "Summary: The Versatile ML Engineering Team Lead") == []


def test_a_role_is_what_its_profile_says_first_and_its_cells_come_from_its_own_sections(
    compared: Callable[[str], Any],
) -> None:
    """The scientist's 27-word opening sentence is longer than a kit may quote, and the analyst's
    column no longer opens with the shared document's first line; the analyst's years come from
    a bold-labelled bullet."""
    answer = compared("Staff ML scientist vs senior game data analyst")
    rows = _rows(answer.answer)
    scientist, analyst = rows["The role"]
    assert scientist.startswith("The Staff Machine Learning Scientist role belongs to a highly")
    assert passage_clauses(scientist) == []  # the kits' limit is not the table's
    assert analyst.startswith("A Senior Game Data Analyst works at companies such as PlayStation")
    assert rows["Experience"][1] == "No less than 5 years doing data analysis, preferably in games"
    assert "Ph.D." in rows["Experience"][0]


def test_a_clause_under_a_heading_about_its_aspect_needs_less_likeness(
    compared: Callable[[str], Any],
) -> None:
    """ "Usually 5+ years" is 0.32 like the experience query, under "Required Qualifications"."""
    answer = compared(
        "What's the difference between a Senior ML Engineer GenAI and a Senior ML Engineer LLM?"
    )
    rows = _rows(answer.answer)
    genai, llm = rows["The role"]
    assert "specialises in generative AI" in genai
    assert "specialises in Large Language Models" in llm
    assert rows["Experience"] == [
        "5-8+ years writing code in languages such as Python, Go, or C++",
        "A long track record with neural networks and deep learning, usually 5+ years",
    ]


def test_a_list_is_quoted_to_its_last_item_and_a_role_name_in_a_heading_is_no_aspect(
    compared: Callable[[str], Any],
) -> None:
    answer = compared("ML engineering team lead vs ML tech lead")
    rows = _rows(answer.answer)
    assert rows["The role"][1].endswith(
        "through experience, reflection, and real care for the people involved as well as for"
        " the technical craft"
    )
    # the salaries document's title is about pay; the team lead's name in it is not the team
    assert rows["Pay"] == ["Overall salary range: $131,000 to $267,113", NOT_DESCRIBED]
