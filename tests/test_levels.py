"""The level guide with deterministic fake LLMs over real indexes: rows and columns from the
documents, checked cells, "not described", the figures/names guard, the cache, compare, the
md/json/csv output, the CLI, and `interview --area`."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from helpers import QueuedLLM
from helpers import kit_question as question
from typer.testing import CliRunner

from lodestar.answering.citations import Citation
from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.core.errors import UnknownRoleError
from lodestar.interview import build_interview_kit, plan_kit
from lodestar.levels import (
    NOT_DESCRIBED,
    LevelCell,
    LevelGuideBuilder,
    LevelRow,
    compare,
    level_sources,
    ungrounded_cell_terms,
)

FIXTURES = REPO / "tests" / "fixtures"
FOUR = {"Scalable ML Systems", "Best Practices", "Project Management", "Culture Fit"}
_LINE = re.compile(r'The passage\'s line for this level: "(?P<line>[^"]+)"')


def echo_llm(judge: Any = 1.0) -> Any:
    """A fake LLM that writes each cell as the level's line it is given, capitalised."""

    class Echo(type(QueuedLLM.make())):  # type: ignore[misc]
        def _next(self, messages: Any, kwargs: dict[str, Any]) -> str:
            self._calls.append({"messages": list(messages), "kwargs": kwargs})
            found = _LINE.search(messages[-1].content)
            assert found, "the cell prompt names the level's line"
            line = found.group("line")
            return json.dumps({"cell": line[0].upper() + line[1:]})

    llm = Echo()
    llm._judge = judge
    return llm


@pytest.fixture
def knowledge_copy(knowledge_index: Path, tmp_path: Path) -> Path:
    """The session's knowledge index, copied, so a test's cache is its own."""
    data = tmp_path / "knowledge-copy"
    shutil.copytree(knowledge_index, data, ignore=shutil.ignore_patterns("levels"))
    return data


@pytest.fixture
def ladder_index(tmp_path: Path, make_services: Callable[..., Services]) -> Path:
    """A data dir with the career ladder and a handbook without level content ingested."""
    from ingest.pipeline import ingest_paths

    folder = tmp_path / "team-docs"
    folder.mkdir()
    for name in ("career-ladder.md", "team-handbook.md"):
        shutil.copy(FIXTURES / name, folder / name)
    data = tmp_path / "ladder-data"
    ingest_paths([folder], make_services(data_dir=data))
    return data


def test_rows_and_levels_come_from_the_documents_that_describe_levels(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    sources = level_sources(make_services(data_dir=knowledge_copy))
    assert sources.levels == ["junior", "senior", "lead"]
    assert {s.category for s in sources.sections} == FOUR
    assert len(sources.sections) == 16
    assert {s.passage.source for s in sources.sections} == {
        "knowledge/spotting-ml-talent.md",
        "knowledge/spotting-ml-talent-2.md",
    }  # the other documents list levels in their front matter but describe none
    planning = next(s for s in sources.sections if s.area == "Planning")
    assert planning.category == "Project Management"
    assert (
        planning.lines["junior"].text == "can execute a plan drawn up for an engineering problem."
    )
    assert set(planning.cited) == {"junior", "senior", "lead"}


def test_a_career_ladder_gets_its_own_rows_and_a_document_without_levels_none(
    ladder_index: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(data_dir=ladder_index, llm=echo_llm())
    guide = LevelGuideBuilder(services).run()
    assert guide.levels == ["associate", "engineer", "staff"]  # the front matter's order
    assert [(r.category, r.area) for r in guide.rows] == [
        ("Operations", "Incident Response"),
        ("Collaboration", "Code Review"),
    ]
    assert all(r.source.endswith("career-ladder.md") for r in guide.rows)  # none from the handbook
    cell = guide.rows[0].cells["engineer"]
    assert cell.text == "Leads the response to an incident and writes the review afterwards."
    assert cell.source is not None
    assert cell.line is not None
    assert cell.line in cell.source.text
    assert guide.not_described == 0


def test_the_whole_matrix_is_built_from_checked_cells(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    llm = echo_llm()
    guide = LevelGuideBuilder(make_services(data_dir=knowledge_copy, llm=llm)).run()
    assert len(guide.rows) == 16
    assert len(llm.calls) == 48
    assert guide.not_described == 0
    for cell in guide.cells:
        assert cell.source is not None
        assert cell.line is not None
        assert cell.line in cell.source.text  # cites the passage that holds its line
        assert ungrounded_cell_terms(cell) == []
    # every cell was checked by the verifier, in the cell's own chat
    assert len(llm.judged) == 48
    # the shared prefix first, the asked level last
    systems = {call["messages"][0].content for call in llm.calls}
    assert len(systems) == 1
    prompt = llm.calls[0]["messages"][-1].content
    assert prompt.index("[1]") < prompt.index("Skill area:") < prompt.index("Level:")
    assert llm.calls[0]["kwargs"]["response_format"]["schema"]["required"] == ["cell"]
    # only the asked level's line is shown: the model cannot mix in another level's
    senior = next(
        c["messages"][-1].content
        for c in llm.calls
        if "Level: senior." in c["messages"][-1].content
    )
    assert "**Junior ML Engineer**" not in senior
    assert "**Lead ML Engineer**" not in senior


def test_a_cell_no_written_attempt_holds_up_quotes_the_documents_line(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    invented = json.dumps({"cell": "Can plan a quarter in 3 weeks with Jira and OKRs."})
    elaborated = json.dumps(
        {"cell": "Can execute a plan, creating detailed roadmaps that address technical risk."}
    )
    asked = json.dumps({"cell": "Can they execute a plan drawn up for an engineering problem?"})
    good = json.dumps({"cell": "Can work out the details of such a plan and refine it."})
    llm = QueuedLLM.make(invented, elaborated, asked, good, good)

    def judge(messages: Any) -> float:
        return 0.9 if "Level: senior." in messages[1].content else 0.05

    llm._judge = judge
    services = make_services(data_dir=knowledge_copy, llm=llm)
    guide = LevelGuideBuilder(services, area="Planning", levels=["junior", "senior", "lead"])
    guide.pending = guide.pending[:2]  # junior and senior
    built = guide.run()
    junior = built.rows[0].cells["junior"]
    # none of the three written cells held up: the document's own line is the cell
    assert junior.quoted
    assert junior.described
    assert junior.text == "Can execute a plan drawn up for an engineering problem."
    assert junior.line is not None
    assert junior.text.lower().rstrip(".") == junior.line.lower().rstrip(".")
    assert junior.source is not None
    assert junior.reason.startswith("quoted from the document: no written cell held up (")
    assert "3, Jira, OKRs" in junior.reason  # the guard named what the passage lacks
    assert "adds words the passage does not use" in junior.reason
    assert "not ask a question" in junior.reason
    senior = built.rows[0].cells["senior"]
    assert senior.described
    assert senior.text == "Can work out the details of such a plan and refine it."
    # a cell in the line's own words that the judge rejects: the verifier decides too
    faithful = json.dumps({"cell": "Delivers according to plan within a reasonable time."})
    judged = QueuedLLM.make(faithful, faithful, faithful, judge=0.05)
    rejected = LevelGuideBuilder(
        make_services(data_dir=knowledge_copy, llm=judged), area="Delivery Mindset"
    )
    rejected.pending = rejected.pending[:1]
    result = rejected.run()
    cell = result.rows[0].cells["junior"]
    assert cell.quoted
    assert cell.line is not None
    assert cell.text.lower().rstrip(".") == cell.line.lower().rstrip(".")
    assert "does not say of this level" in cell.reason
    assert result.quoted == 1
    assert "1 quoted word for word from the source" in result.to_markdown()


def test_the_guard_finds_figures_and_names_a_cell_s_passage_lacks() -> None:
    source = Citation(
        n=1,
        source="knowledge/x.md",
        title="Spotting Talent",
        heading="Project Management: Planning",
        text="- **Senior ML Engineer**: can work out the details of such a plan.",
        score=1.0,
    )
    clean = LevelCell(
        level="senior", text="Can work out the details of such a plan.", source=source
    )
    assert ungrounded_cell_terms(clean) == []
    bad = LevelCell(
        level="senior",
        text="Works out plans in Jira for 20% of the Kubernetes roadmap.",
        source=source,
    )
    assert ungrounded_cell_terms(bad) == ["20", "Jira", "Kubernetes"]
    assert ungrounded_cell_terms(LevelCell(level="senior")) == []  # not described: nothing shown


def test_the_guide_is_cached_by_the_index_fingerprint(
    ladder_index: Path, make_services: Callable[..., Services], tmp_path: Path
) -> None:
    from ingest.pipeline import ingest_paths

    first = echo_llm()
    built = LevelGuideBuilder(make_services(data_dir=ladder_index, llm=first)).run()
    assert len(first.calls) == 6
    # shown again: every cell from the cache, the model never called
    silent = QueuedLLM.make()
    again = LevelGuideBuilder(make_services(data_dir=ladder_index, llm=silent))
    assert again.pending == []
    assert [c.text for c in again.guide.cells] == [c.text for c in built.cells]
    assert all(c.cached for c in again.guide.cells)
    assert again.run().generated == 0
    assert silent.calls == []
    # a new ingest changes the fingerprint: the guide is built again
    ladder = tmp_path / "team-docs" / "career-ladder.md"
    ladder.write_text(
        ladder.read_text().replace("escalates early", "escalates early and often"),
        encoding="utf-8",
    )
    ingest_paths([ladder.parent], make_services(data_dir=ladder_index))
    changed = LevelGuideBuilder(make_services(data_dir=ladder_index, llm=echo_llm()))
    assert len(changed.pending) == 6


def test_compare_keeps_only_the_differences(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    guide = LevelGuideBuilder(
        make_services(data_dir=knowledge_copy, llm=echo_llm()), area="Culture Fit"
    ).run()
    row = guide.rows[0]
    same = LevelRow("Culture Fit", "Same", "x.md", "Culture Fit: Same", [], dict(row.cells))
    same.cells["lead"] = LevelCell(
        level="lead", text=row.cells["senior"].text, source=row.cells["senior"].source
    )
    empty = LevelRow(
        "Culture Fit",
        "Empty",
        "x.md",
        "Culture Fit: Empty",
        [],
        {level: LevelCell(level=level) for level in guide.levels},
    )
    guide.rows += [same, empty]
    result = compare(guide, "senior", "lead")
    assert [c.row.area for c in result.changes] == [r.area for r in guide.rows[:4]]
    assert result.same == ["Culture Fit › Same"]
    assert result.undescribed == ["Culture Fit › Empty"]
    text = result.to_markdown()
    assert text.startswith("## From senior to lead")
    assert "### Culture Fit › Team First" in text
    assert "- **Lead:** Actively works to build an environment" in text
    assert "junior" not in text.lower()


def test_md_json_and_csv_carry_every_cell_and_its_citation(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    guide = LevelGuideBuilder(
        make_services(data_dir=knowledge_copy, llm=echo_llm()), area="Best Practices"
    ).run()
    guide.rows[0].cells["lead"] = LevelCell(level="lead", reason="test")
    md = guide.to_markdown()
    assert "| Skill area | Junior | Senior | Lead |" in md
    assert "| Best Practices › Engineering Best Practices | Reliably carries out tasks" in md
    assert "_not described_" in md
    assert re.search(r"\[1\] Spotting Talented ML Engineers \(Part 1\).* \(knowledge/", md)
    assert "9 cells, 1 not described" in md
    data = json.loads(json.dumps(guide.to_json()))
    assert data["levels"] == ["junior", "senior", "lead"]
    assert data["not_described"] == 1
    first = data["rows"][0]["cells"]["junior"]
    assert first["described"] is True
    assert first["source"]["heading"] == "Best Practices: Engineering Best Practices"
    assert data["rows"][0]["cells"]["lead"]["described"] is False
    rows = list(csv.reader(io.StringIO(guide.to_csv())))
    assert rows[0] == [
        "category",
        "area",
        "junior",
        "junior source",
        "senior",
        "senior source",
        "lead",
        "lead source",
    ]
    assert len(rows) == 4
    assert rows[1][:3] == [
        "Best Practices",
        "Engineering Best Practices",
        "Reliably carries out tasks in line with the agreed principles.",
    ]
    assert rows[1][6:] == [NOT_DESCRIBED, ""]


@pytest.fixture
def levels_cli(
    monkeypatch: pytest.MonkeyPatch, make_services: Callable[..., Services]
) -> Callable[..., Any]:
    def run(data_dir: Path, llm: Any, *args: str) -> Any:
        services = make_services(data_dir=data_dir, llm=llm)
        monkeypatch.setattr(common, "build_services", lambda settings: services)
        return CliRunner().invoke(app, ["levels", *args])

    return run


def test_cli_levels_builds_once_then_reads_the_cache(
    levels_cli: Any, ladder_index: Path, tmp_path: Path
) -> None:
    out = tmp_path / "guide.json"
    result = levels_cli(ladder_index, echo_llm(), "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert [r["area"] for r in data["rows"]] == ["Incident Response", "Code Review"]
    assert "6 written now, 0 from the cache" in result.stderr
    again = levels_cli(ladder_index, QueuedLLM.make(), "--area", "Code Review", "--format", "csv")
    assert again.exit_code == 0, again.stderr
    assert "0 written now, 3 from the cache" in again.stderr
    assert again.stdout.splitlines()[1].startswith("Collaboration,Code Review,Asks questions")
    compared = levels_cli(ladder_index, QueuedLLM.make(), "--compare", "engineer", "staff")
    assert compared.exit_code == 0, compared.stderr
    assert compared.stdout.startswith("## From engineer to staff")
    assert "associate" not in compared.stdout.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format must be md, json or csv"),
        (["--levels", "engineer,principal"], "unknown level 'principal'"),
        (["--area", "Cooking"], "unknown area 'Cooking'; the level guide covers: Operations"),
        (["--role", "Chef"], "unknown role 'Chef'"),
    ],
)
def test_cli_levels_rejects_bad_input_clearly(
    levels_cli: Any, ladder_index: Path, args: list[str], message: str
) -> None:
    result = levels_cli(ladder_index, QueuedLLM.make(), *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_an_index_without_level_content_says_so(
    levels_cli: Any, tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    from ingest.pipeline import ingest_paths

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FIXTURES / "team-handbook.md", folder / "team-handbook.md")
    data = tmp_path / "plain-data"
    ingest_paths([folder], make_services(data_dir=data))
    result = levels_cli(data, QueuedLLM.make())
    assert result.exit_code == 2
    assert "no document in the knowledge base describes levels" in result.stderr


def test_an_interview_kit_can_be_aimed_at_an_area(
    knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(data_dir=knowledge_copy, llm=QueuedLLM.make())
    plan = plan_kit(services, "ML Engineer", "senior", 8, area="Project Management")
    assert plan.questions
    assert all(q.passage.heading.startswith("Project Management") for q in plan.questions)
    one = plan_kit(services, "ML Engineer", "lead", 1, area="Planning")
    assert [q.competency for q in one.questions] == ["Planning"]
    assert one.questions[0].target is not None
    assert one.questions[0].target.level == "lead"
    with pytest.raises(UnknownRoleError, match="unknown area 'Cooking'.*Planning"):
        plan_kit(services, "ML Engineer", "senior", 3, area="Cooking")
    llm = QueuedLLM.make(
        question(
            "How do you define the milestones of an engineering problem?",
            signals=(
                "Defines the milestones of an engineering problem",
                "Helps teams prioritise their activities",
            ),
            follow_up="How do you avoid over-engineering?",
        )
    )
    kit = build_interview_kit(
        make_services(data_dir=knowledge_copy, llm=llm), "ML Engineer", "lead", 1, area="Planning"
    )
    assert kit.made == 1
    assert kit.questions[0].competency == "Planning"


def test_cli_interview_takes_an_area(
    monkeypatch: pytest.MonkeyPatch, knowledge_copy: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(data_dir=knowledge_copy, llm=QueuedLLM.make())
    monkeypatch.setattr(common, "build_services", lambda settings: services)
    result = CliRunner().invoke(
        app,
        ["interview", "--role", "ML Engineer", "--level", "lead", "--area", "Cooking"],
    )
    assert result.exit_code == 2
    assert "unknown area 'Cooking'" in result.stderr
