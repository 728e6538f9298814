"""Interview kits with a deterministic fake LLM over the real knowledge index: planning, checks
on every reply (schema, figures and names, rewording, grounded signals), skipping, the CLI's
never-lose-work behaviour."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO
from helpers import QueuedLLM
from helpers import kit_question as question
from pydantic import Field
from typer.testing import CliRunner

from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.core.errors import LLMUnavailableError, UnknownRoleError
from lodestar.core.settings import InterviewSettings
from lodestar.evaluation.metrics.kits import schema_errors
from lodestar.interview import (
    KitQuestion,
    KitWriter,
    build_interview_kit,
    known_roles_and_levels,
    plan_kit,
    ungrounded_terms,
)
from lodestar.interview.kit import comparable_question
from lodestar.interview.signals import adds_to, passage_clauses, quoted_from
from lodestar.retrieval.sections import focus_on_level, level_lines, names_another_role

MANAGER = "knowledge/ml-engineering-manager.md"


@pytest.fixture
def services_with(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> Callable[..., Any]:
    def make(
        *replies: str, judge: Any = 1.0, reserve: int = 2, backend: str = "local"
    ) -> tuple[Services, Any]:
        """`backend`: "openai" for a server that does not enforce the schema (the fake LLM never
        does; on "local" the writer relies on llama.cpp's grammar for the question's opening)."""
        llm = QueuedLLM.make(*replies, judge=judge)
        interview = InterviewSettings(reserve=reserve)
        services = make_services(data_dir=knowledge_index, llm=llm, interview=interview)
        llm_settings = services.settings.llm.model_copy(update={"backend": backend})
        services.settings = services.settings.model_copy(update={"llm": llm_settings})
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


def test_the_plan_covers_distinct_competencies_of_the_role_at_the_level(
    services_with: Any,
) -> None:
    services, _ = services_with()
    plan = plan_kit(services, "ML Engineering Manager", "senior", 8)
    assert len(plan.questions) == 8
    competencies = [q.competency.lower() for q in plan.questions]
    assert len(set(competencies)) == 8
    sections = {(q.passage.source, q.passage.heading) for q in plan.questions}
    assert len(sections) == 8
    assert all(q.passage.heading for q in plan.questions)  # no document intros
    # every passage is about the role and from a document that describes the level
    data = services.vector_store.client.get(
        ids=[q.passage.node_id for q in plan.questions], include=["metadatas"]
    )
    for meta in data["metadatas"] or []:
        assert "ML Engineering Manager" in str(meta["roles"])
        assert "senior" in str(meta["levels"])
    # the role's own profile leads the plan
    assert plan.questions[0].passage.source == MANAGER


def test_a_role_with_few_sections_gets_a_short_plan_with_a_note(services_with: Any) -> None:
    services, _ = services_with()
    plan = plan_kit(services, "Practice Leader", "lead", 20)
    assert 0 < len(plan.questions) < 20
    assert any("distinct competencies" in note for note in plan.notes)


LEVELLED = """How ML Engineers at each level differ in design thinking:

- **Junior ML Engineer**: can do a simple requirement analysis.
- **Senior ML Engineer**: can do a thorough requirement analysis and validate the requirements.
- **Lead ML Engineer**: builds strong relationships with stakeholders."""


def test_a_levelled_passage_is_cut_to_the_level_with_the_one_below_aside() -> None:
    levels = ["junior", "lead", "senior"]
    assert [line.level for line in level_lines(LEVELLED, levels)] == ["junior", "senior", "lead"]
    text, target, below = focus_on_level(LEVELLED, "senior", levels)
    assert target is not None
    assert target.text.startswith("can do a thorough")
    assert below is not None
    assert below.level == "junior"
    assert "stakeholders" not in text
    # the model is shown the asked level only; the level below is kept for the kit to quote
    assert "simple requirement" not in text
    assert below.text.startswith("can do a simple")
    text, target, below = focus_on_level(LEVELLED, "junior", levels)
    assert target is not None
    assert below is None
    assert "thorough" not in text
    assert focus_on_level(LEVELLED, "manager", levels) == (LEVELLED, None, None)


def test_every_reply_is_checked_and_the_kit_is_cited(services_with: Any) -> None:
    def judge(messages: Any) -> float:
        # the verifier rejects one signal; the other two are kept
        return 0.0 if "moon" in messages[-1].content else 1.0

    services, llm = services_with(
        "not json at all",
        question("Tell me about a time you grew revenue by 37% at Acme Corp as a manager?"),
        question("How do you hire and mentor ML engineers on your team?"),
        question("How have you hired and mentored the ML engineers on your team?"),  # reworded
        question(
            "How do you take an ML system from prototype to production?",
            signals=(
                "Takes ML systems from prototype to production",
                "Deploys ML models at scale",
                "Flies the team to the moon every quarter",
            ),
        ),
        judge=judge,
    )
    kit = build_interview_kit(services, "ml engineering manager", "Senior", 2)
    assert (kit.role, kit.level, kit.asked, kit.made) == ("ML Engineering Manager", "senior", 2, 2)
    assert [q.question for q in kit.questions] == [
        "How do you hire and mentor ML engineers on your team?",
        "How do you take an ML system from prototype to production?",
    ]
    assert [q.attempts for q in kit.questions] == [3, 1]
    assert kit.attempts == 5
    retry = llm.calls[1]["messages"][-1].content
    assert "not JSON" in retry
    assert "37, Acme, Corp" in llm.calls[2]["messages"][-1].content  # what the guard found
    # the rewording gives way to the plan's next competency at once
    assert "repeats an earlier one" in kit.notes[-1]
    assert "in 1 attempt (" in kit.notes[-1]
    assert llm.calls[4]["messages"][1].content != llm.calls[3]["messages"][1].content
    # "Takes ML systems from prototype to production" only says the question back: it is not
    # shown, and a clause of the passage stands in for it
    signals = kit.questions[1].signals
    assert signals[0] == "Deploys ML models at scale"
    assert "Takes ML systems from prototype to production" not in signals
    assert kit.questions[1].signals_quoted == 1
    assert len(signals) == 2
    assert [q.source.n for q in kit.questions] == [1, 2]
    assert all(q.source.source == MANAGER for q in kit.questions)
    assert all(ungrounded_terms(q, kit.role, kit.level) == [] for q in kit.questions)
    # one shared prefix: the same system prompt (role and level) first, the passage next
    systems = {call["messages"][0].content for call in llm.calls}
    assert len(systems) == 1
    assert "ML Engineering Manager at the senior level" in systems.pop()
    assert all(call["messages"][1].content.startswith("[1] ") for call in llm.calls)
    fmt = llm.calls[0]["kwargs"]["response_format"]
    assert fmt["type"] == "json_object"
    assert set(fmt["schema"]["properties"]) == {"question", "signals", "follow_up"}
    markdown = kit.to_markdown()
    assert "### 2. How do you take an ML system from prototype to production?" in markdown
    assert "  - Deploys ML models at scale" in markdown
    assert "_2 questions asked for, 2 made._" in markdown
    assert "moon" not in markdown
    data = json.loads(json.dumps(kit.to_json()))
    assert data["made"] == 2
    assert data["questions"][0]["source"]["n"] == 1


def test_a_question_that_never_validates_is_skipped_and_the_next_competency_asked(
    services_with: Any,
) -> None:
    failing = ("{}", "[]", question("Tell me about a time you improved churn by 10%?"))
    services, llm = services_with(
        *failing,
        question("How do you take an ML system from prototype to production?"),
        question("How do you keep your team current with new technologies?"),
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 2)
    assert len(llm.calls) == 5
    assert (kit.made, kit.asked) == (2, 2)
    assert kit.complete
    assert len(kit.notes) == 1
    assert "question 1" in kit.notes[0]
    assert "3 attempts" in kit.notes[0]
    assert kit.notes[0].endswith("asked instead")
    assert [q.source.n for q in kit.questions] == [1, 2]
    assert kit.questions[0].competency != kit.questions[1].competency
    assert "skipped" in kit.to_markdown()

    # without a reserve the kit is one short, and says so
    services, llm = services_with(
        *failing,
        question("How do you take an ML system from prototype to production?"),
        reserve=0,
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 2)
    assert (kit.made, kit.asked) == (1, 2)
    assert not kit.complete
    assert "_2 questions asked for, 1 made._" in kit.to_markdown()


def test_signals_the_passage_does_not_support_are_quoted_from_it_instead(
    services_with: Any,
) -> None:
    first = question("How do you grow your team?", signals=("Grew revenue by 37% in a year", "x y"))
    services, llm = services_with(first, judge=1.0)
    writer = KitWriter(services, "ML Engineering Manager", "senior", 1)
    kit = writer.run()
    q = kit.questions[0]
    assert q.question == "How do you grow your team?"  # the question is kept
    assert q.attempts == 1
    assert len(llm.calls) == 1
    assert q.signals_quoted == 2 == len(q.signals)
    assert "Grew revenue by 37% in a year" not in q.signals
    context = writer.plan.questions[0].context
    flat = " ".join(context.split())
    for signal in q.signals:
        assert signal in flat  # quoted, word for word
        assert len(signal.split()) >= 3
    assert schema_errors(kit.to_json()) == []  # still 2-3 signals per exported question


def test_a_model_signal_that_holds_up_is_kept_and_topped_up_from_the_passage(
    services_with: Any,
) -> None:
    services, _ = services_with(judge=1.0)
    plan = plan_kit(services, "ML Engineering Manager", "senior", 1)
    good = " ".join(plan.questions[0].context.split("\n")[-1].lstrip("- ").split()[:6])
    services, _ = services_with(
        question("How do you grow your team?", signals=(good, "Grew revenue by 37% in a year")),
        judge=1.0,
    )
    q = build_interview_kit(services, "ML Engineering Manager", "senior", 1).questions[0]
    assert q.signals[0] == good.rstrip(".;")
    assert q.signals_quoted == 1
    assert len(q.signals) == 2


def test_signals_are_written_again_alone_when_the_passage_has_none_to_quote(
    services_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lodestar.interview.writer.quoted_signals", lambda *args, **kwargs: [])
    first = question("How do you grow your team?", signals=("Grew revenue by 37% in a year", "x y"))
    services, llm = services_with(
        first,
        json.dumps({"signals": ["Hires and mentors ML engineers", "Helps engineers develop"]}),
        judge=1.0,
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    q = kit.questions[0]
    assert q.question == "How do you grow your team?"  # the question is kept
    assert q.signals == ["Hires and mentors ML engineers", "Helps engineers develop"]
    assert q.attempts == 2
    assert q.rejected[0].startswith("only 0 of its signals are stated in the passage (not ")
    retry = llm.calls[1]
    # the same chat, continued: the first reply, then the request for signals alone
    assert retry["messages"][:2] == llm.calls[0]["messages"]
    assert retry["messages"][2].content == first
    assert "Give the signals again" in retry["messages"][3].content
    assert "Grew revenue by 37% in a year" in retry["messages"][3].content
    assert set(retry["kwargs"]["response_format"]["schema"]["properties"]) == {"signals"}


def test_a_levelled_passage_gives_a_question_compared_with_the_level_below(
    services_with: Any,
) -> None:
    services, _ = services_with()
    plan = plan_kit(services, "ML Engineer", "senior", 20)
    planned = next(q for q in plan.questions if q.target is not None)
    assert planned.below is not None
    assert planned.below.level == "junior"
    signal = " ".join(planned.target.text.split()[:6]).rstrip(",;.")
    services, llm = services_with(
        question(
            f"How would you approach {planned.competency.lower()} on a new project?",
            signals=(signal, signal.lower() + " well"),
        )
    )
    writer = KitWriter(services, "ML Engineer", "senior", 20)
    writer.plan.questions = [planned]
    kit = writer.run()
    q = kit.questions[0]
    assert q.below == planned.below.text
    assert q.below_level == "junior"
    user = llm.calls[0]["messages"][1].content
    assert planned.target.text in user
    assert planned.below.text not in user
    assert f'**Compared with junior:** the source says "{planned.below.text}"' in kit.to_markdown()


def test_the_guard_finds_figures_and_names_the_source_lacks(services_with: Any) -> None:
    services, _ = services_with(question("How do you hire and mentor ML engineers on your team?"))
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    q: KitQuestion = kit.questions[0]
    assert ungrounded_terms(q, kit.role, kit.level) == []
    q.signals.append("Resulting in a 37% increase in revenue at Google")
    assert ungrounded_terms(q, kit.role, kit.level) == ["37", "Google"]


def test_the_duplicate_threshold_separates_the_calibration_pairs(embed_model: Any) -> None:
    rows = [
        json.loads(line)
        for line in (REPO / "eval" / "kit_question_pairs.jsonl").read_text().splitlines()
    ]
    threshold = InterviewSettings().duplicate_similarity
    role = "ML Engineering Manager"
    texts = [comparable_question(t, role) for r in rows for t in (r["a"], r["b"])]
    vectors = np.asarray(embed_model.get_text_embedding_batch(texts))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(rows))]
    distinct = [c for c, r in zip(cosine, rows, strict=True) if not r["same"]]
    reworded = [c for c, r in zip(cosine, rows, strict=True) if r["same"]]
    assert max(distinct) < threshold  # never a false "repeat" on the calibration set
    assert sum(c >= threshold for c in reworded) >= 0.85 * len(reworded)


@pytest.fixture
def cli_with(monkeypatch: pytest.MonkeyPatch, services_with: Any) -> Callable[..., Any]:
    def run(llm: Any, *args: str) -> Any:
        services, _ = services_with(reserve=0)
        services._llm_override = llm
        monkeypatch.setattr(common, "build_services", lambda settings: services)
        return CliRunner().invoke(
            app,
            ["interview", "--role", "ML Engineering Manager", "--level", "senior", *args],
        )

    return run


def test_cli_streams_the_kit_and_warns_when_a_question_was_skipped(
    cli_with: Any, tmp_path: Path
) -> None:
    llm = QueuedLLM.make(
        "{}",
        "{}",
        "{}",
        question("How do you take an ML system from prototype to production?"),
    )
    out = tmp_path / "kit.md"
    result = cli_with(llm, "--count", "2", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "skipped:" in result.stderr
    assert "1 of 2 questions made" in result.stderr
    text = out.read_text()
    assert "### 1. How do you take an ML system from prototype to production?" in text
    assert "_2 questions asked for, 1 made._" in text

    streamed = cli_with(
        QueuedLLM.make(question("How do you hire and mentor ML engineers on your team?")),
        "--count",
        "1",
    )
    assert streamed.exit_code == 0, streamed.stderr
    assert streamed.stdout.startswith("## Interview kit: ML Engineering Manager (senior)")
    assert "_1 questions asked for, 1 made._" in streamed.stdout


def failing_after(error: BaseException, *replies: str) -> Any:
    """A fake LLM that gives `replies`, then raises `error` (the model server goes away)."""

    class Failing(type(QueuedLLM.make())):  # type: ignore[misc]
        def chat(self, messages: Any, **kwargs: Any) -> Any:
            if not self._replies:
                raise error
            return super().chat(messages, **kwargs)

    llm = Failing()
    llm._replies.extend(replies)
    return llm


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (LLMUnavailableError("cannot connect to the model server at http://gpu:8001/v1"), 0),
        (KeyboardInterrupt(), 130),
    ],
)
def test_cli_writes_what_was_made_when_stopped(
    cli_with: Any, tmp_path: Path, error: BaseException, code: int
) -> None:
    failing = failing_after(
        error, question("How do you hire and mentor ML engineers on your team?")
    )
    out = tmp_path / "kit.json"
    result = cli_with(failing, "--count", "3", "--format", "json", "-o", str(out))
    assert result.exit_code == code, result.stderr
    data = json.loads(out.read_text())
    assert data["made"] == 1
    assert data["asked"] == 3
    assert data["questions"][0]["question"].startswith("How do you hire")
    assert data["stopped"]
    assert "1 of 3 questions made" in result.stderr


def test_cli_with_nothing_made_fails(cli_with: Any, tmp_path: Path) -> None:
    failing = failing_after(LLMUnavailableError("cannot connect to the model server"))
    result = cli_with(failing, "--count", "2", "-o", str(tmp_path / "kit.md"))
    assert result.exit_code == 1
    assert "no question was made" in result.stderr


def test_a_question_not_asked_to_the_candidate_is_written_again(services_with: Any) -> None:
    services, llm = services_with(
        question("What does an ML Engineering Manager need to know about hiring engineers?"),
        question("How do you hire and mentor ML engineers on your team?"),
        backend="openai",
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    assert kit.questions[0].question == "How do you hire and mentor ML engineers on your team?"
    assert kit.questions[0].rejected == ['the question must be asked to the candidate, as "you".']
    assert 'as "you"' in llm.calls[1]["messages"][-1].content


def test_an_imperative_to_the_candidate_counts_as_asked_to_them(services_with: Any) -> None:
    services, _ = services_with(
        question("Walk me through hiring and mentoring ML engineers."), backend="openai"
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    assert kit.questions[0].attempts == 1


def test_the_local_grammar_opens_every_question_as_one_to_the_candidate(
    services_with: Any,
) -> None:
    services, llm = services_with(question("How do you hire and mentor ML engineers?"))
    build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    schema = llm.calls[0]["kwargs"]["response_format"]["schema"]
    pattern = schema["properties"]["question"]["pattern"]
    assert re.fullmatch(pattern, "How do you hire and mentor ML engineers?")
    assert not re.fullmatch(pattern, "What does a manager need to know about hiring?")
    # the rest of the question cannot close the JSON string and carry other fields in it
    assert not re.fullmatch(pattern, 'How do you hire?", "signals": ["a", "b", "c", "d"')
    assert re.search(r"\[\^\"", pattern)


def test_after_a_third_person_question_the_grammar_makes_it_one_to_the_candidate(
    services_with: Any,
) -> None:
    services, llm = services_with(
        question("What does an ML Engineering Manager need to know about hiring engineers?"),
        question("How do you hire and mentor ML engineers on your team?"),
        backend="openai",
    )
    build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    first, second = (
        call["kwargs"]["response_format"]["json_schema"]["schema"] for call in llm.calls
    )
    assert "pattern" not in first["properties"]["question"]
    assert second["properties"]["question"]["pattern"].startswith("^(Tell me about a time you|")
    assert list(second["properties"]) == ["question", "signals", "follow_up"]


def test_a_question_that_repeats_an_earlier_one_gives_way_at_once(
    services_with: Any,
) -> None:
    first = "How do you hire and mentor ML engineers on your team?"
    services, llm = services_with(
        question(first),
        question("How have you hired and mentored the ML engineers on your team?"),
        reserve=0,
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 2)
    assert [q.question for q in kit.questions] == [first]
    assert len(llm.calls) == 2  # no second try at the repeat
    assert "question 2" in kit.notes[-1]
    assert "in 1 attempt (the question repeats an earlier one" in kit.notes[-1]
    assert "ask about" not in kit.notes[-1]  # the instruction was for the model, not the panel


def test_a_closing_mention_of_the_passage_is_cut_and_any_other_is_rejected(
    services_with: Any,
) -> None:
    services, llm = services_with(
        question("How do you think the passage describes hiring ML engineers?"),
        question("How do you hire and mentor ML engineers, as described in the passage?"),
    )
    kit = build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    q = kit.questions[0]
    assert q.question == "How do you hire and mentor ML engineers?"
    assert q.rejected == ["the question mentions the passage; ask about what it describes instead."]
    assert len(llm.calls) == 2


def test_sections_about_another_role_are_left_out_of_the_plan(services_with: Any) -> None:
    services, _ = services_with()
    roles, _ = known_roles_and_levels(services)
    staff = plan_kit(services, "Staff Machine Learning Scientist", "staff", 8, reserve=4)
    where = [f"{q.passage.title} › {q.passage.heading}" for q in staff.questions + staff.reserve]
    assert where
    assert all("Staff Machine Learning Scientist" in w for w in where)
    headings = [q.passage.heading for q in staff.questions + staff.reserve]
    assert not any("Engineer LLM" in h or "GenAI" in h or "Analyst" in h for h in headings)
    # a salary document tagged for ML Engineers but titled for team leads
    engineer = plan_kit(services, "ML Engineer", "lead", 8, reserve=4)
    assert not any("Salary" in q.passage.title for q in engineer.questions + engineer.reserve)
    assert names_another_role("ML Engineering Team Lead: Salary", "ML Engineer", roles)
    # "ML Engineer" is not named by "ML Engineering Manager", nor "ML Engineers" missed
    assert not names_another_role("Spotting Talented ML Engineers", "ML Engineer", roles)
    # a title naming several roles: the section's own heading decides
    shared = "Adjacent Roles: Senior Game Data Analyst, Staff ML Scientist"
    llm = f"{shared} › Senior Machine Learning Engineer LLM › Key Responsibilities"
    assert names_another_role(llm, "Senior Game Data Analyst", roles)
    assert not names_another_role(llm, "Senior Machine Learning Engineer LLM", roles)
    assert not names_another_role(f"{shared} › Overview", "Senior Game Data Analyst", roles)


def test_quotable_clauses_are_whole_pieces_of_the_passage() -> None:
    text = (
        "How ML Engineers at each level differ:\n\n"
        "- **Lead ML Engineer**: builds strong relationships with stakeholders; knows how to"
        " define metrics for the requirements, and drives development of the core components.\n"
        "- **MLOps Tools**: MLflow, Kubeflow, Airflow, DVC\n"
        "- Ships it"
    )
    assert passage_clauses(text) == [
        "How ML Engineers at each level differ",
        "builds strong relationships with stakeholders",
        "knows how to define metrics for the requirements",
        "drives development of the core components",
    ]


def test_a_list_is_not_cut_before_its_last_item() -> None:
    """ ", and" before a list's last item does not end a clause: cut there, "through experience,
    reflection" ends mid-list. Between two clauses that stand alone it still does."""
    text = (
        "Great tech leadership is built gradually, through experience, reflection, and real care"
        " for the people involved.\n"
        "- set the direction for the technology, decide which practices the team treats as"
        " standard, and supervise both the projects and the people on them."
    )
    assert passage_clauses(text) == [
        "Great tech leadership is built gradually, through experience, reflection, and real care"
        " for the people involved",
        "set the direction for the technology, decide which practices the team treats as standard",
        "supervise both the projects and the people on them",
    ]


def test_a_signal_in_the_passages_own_words_needs_no_model_check() -> None:
    passage = (
        "The lead is not afraid to pivot. Estimates project timelines; runs multiple "
        "initiatives simultaneously."
    )
    assert quoted_from("estimates project timelines", passage)
    assert quoted_from("Runs multiple initiatives simultaneously.", passage)
    assert not quoted_from("afraid to pivot", passage)  # cut from after a negation
    assert not quoted_from("project timelines runs", passage)  # across two clauses
    assert not quoted_from("estimates timelines well", passage)


def test_each_retry_samples_with_a_seed_of_its_own(services_with: Any) -> None:
    services, llm = services_with(
        "not json", "not json", question("How do you hire and mentor ML engineers?")
    )
    build_interview_kit(services, "ML Engineering Manager", "senior", 1)
    first, second, third = (call["kwargs"] for call in llm.calls)
    assert "seed" not in first
    assert first["temperature"] == services.settings.llm.temperature
    assert second["seed"] != third["seed"]
    assert second["temperature"] > 0


def test_every_reply_schema_becomes_a_llama_cpp_grammar(services_with: Any) -> None:
    """llama-cpp-python silently drops to "any JSON" when a schema does not convert."""
    from pydantic import BaseModel

    from lodestar.core.errors import LodestarError
    from lodestar.drafting.structured import response_format
    from lodestar.interview.drafts import AskedQuestionDraft, QuestionDraft, SignalsDraft
    from lodestar.levels.build import CellDraft

    services, _ = services_with()
    for model in (QuestionDraft, AskedQuestionDraft, SignalsDraft, CellDraft):
        assert response_format(services.settings.llm, model, name="x")["type"] == "json_object"

    class Unsupported(BaseModel):
        text: str = Field(pattern=r"^(?:a|b) c$")

    with pytest.raises(LodestarError, match="cannot be turned into a llama.cpp grammar"):
        response_format(services.settings.llm, Unsupported, name="x")


@pytest.mark.parametrize(
    ("signal", "adds"),
    [
        ("keeps models reliable", False),  # the question, said back
        ("Reliable and available", False),  # one new word is not a signal a panel can hear
        ("Sets up monitoring and alerting", True),
        ("Keeps serving latency and cost in check", True),
    ],
)
def test_a_signal_must_say_more_than_the_question(signal: str, adds: bool) -> None:
    assert adds_to("How do you keep your ML models reliable in production?", signal) is adds
