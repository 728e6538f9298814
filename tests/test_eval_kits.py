"""Kit metrics on kits built with the fake LLM: schema, distinct questions, grounded signals,
figures and names absent from the source, questions per minute."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM, kit_question

from lodestar.components.services import Services
from lodestar.evaluation.dataset import load_golden
from lodestar.evaluation.kits import kit_cases
from lodestar.evaluation.metrics.kits import schema_errors, score_kit
from lodestar.grounding.verifier import GroundingVerifier
from lodestar.interview import InterviewKit, build_interview_kit, known_roles_and_levels
from lodestar.interview.request import kit_request_for


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


# Questions that the helper's default signals add to (a signal that says its question back is
# dropped by the writer): hiring and mentoring, standards, taking systems to production.
GROW = "How do you grow an ML team over a year?"
DELIVER = "How do you keep delivery on track across several projects?"


def test_a_good_kit_scores_clean(kit_of: Any) -> None:
    kit, services = kit_of(GROW, DELIVER)
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
    kit, services = kit_of(GROW, DELIVER)
    # edits after writing, as a weaker writer would have made them
    kit.questions[1].question = "How have you grown the ML team over the past year?"
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
    services = make_services(data_dir=knowledge_index)
    roles, levels = known_roles_and_levels(services)
    for case in kit_cases():
        assert case.role in roles
        assert case.level in levels
    # The golden requests for interview questions are answered by the kit writer, as in the
    # chat, with a role and level the knowledge base has; questions about interviewing ("What
    # should I probe…") are answered by the engine.
    requests = {
        case.id: kit_request_for(case.question, services)
        for case in load_golden()
        if case.category == "interview"
    }
    written = {id_ for id_, request in requests.items() if request is not None}
    assert written == {"g36", "g37", "g39", "g40"}
    for id_ in written:
        request = requests[id_]
        assert request is not None
        assert request.role in roles, id_
        assert request.level in levels, id_
    assert not written & {c for case in kit_cases() for c in case.cases}  # not written twice


def _scores(**overrides: Any) -> Any:
    from lodestar.evaluation.metrics.kits import KitScores

    values: dict[str, Any] = {
        "role": "R",
        "level": "senior",
        "asked": 4,
        "made": 4,
        "schema_valid": 1.0,
        "max_similarity": 0.4,
        "similar_pairs": [],
        "distinct": True,
        "signals": 10,
        "signals_supported": 0.8,
        "unsupported_signals": ["a", "b"],
        "ungrounded_terms": [],
        "questions_per_minute": 3.0,
    }
    return KitScores(**{**values, **overrides})


def test_kit_metrics_are_aggregated_and_gated() -> None:
    from lodestar.evaluation.gate import Thresholds
    from lodestar.evaluation.results import SuiteRun

    thresholds = Thresholds(
        minimum={"kit_schema_valid": 1.0, "kit_distinct": 1.0, "kit_signals_supported": 0.7},
        maximum={"kit_ungrounded_terms": 0},
    )
    good = [_scores(), _scores(made=3, signals=6, unsupported_signals=[], signals_supported=1.0)]
    run = SuiteRun(suite="ci", generator="g", judge="j", cases=[], controls=[], seconds=1.0)
    run.kits = good
    scores = run.aggregates()
    assert scores["kit_signals_supported"] == 0.875  # 14 of 16 signals, pooled
    assert scores["kit_questions_made"] == 0.875  # 7 of 8
    assert scores["kit_max_similarity"] == 0.4
    assert all(c.passed for c in thresholds.check(run))
    run.kits = [
        _scores(),
        _scores(
            schema_valid=0.75,
            distinct=False,
            ungrounded_terms=["q2: 20%"],
            signals_supported=0.5,
            unsupported_signals=["a"] * 5,
        ),
    ]
    failed = [c.name for c in thresholds.check(run) if not c.passed]
    assert failed == [
        "kit_schema_valid",
        "kit_distinct",
        "kit_signals_supported",
        "kit_ungrounded_terms",
    ]
    run.kits = []  # kits not built: the gate fails rather than pass unmeasured
    assert not any(c.passed for c in thresholds.check(run))


def test_the_suite_runner_builds_the_kits_and_checks_their_signals_with_the_judge(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    from test_eval_logic import VerbatimJudge

    from lodestar.evaluation.kits import KitCase
    from lodestar.evaluation.runner import SuiteRunner
    from lodestar.evaluation.suites import Suite

    llm = QueuedLLM.make(
        kit_question("How do you hire and mentor ML engineers on your team?"),
        kit_question("How do you take an ML system from prototype to production?"),
    )
    judge = VerbatimJudge()
    runner = SuiteRunner(make_services(data_dir=knowledge_index, llm=llm), lambda: judge)
    suite = Suite("t", "", judged=None, llm_context_metrics=False, relevancy_questions=1)
    steps: list[str] = []
    case = KitCase(role="ML Engineering Manager", level="senior", count=2)
    run = runner.run(suite, [], [], on_step=steps.append, kits=[case])
    assert steps == ["kit ML Engineering Manager (senior)"]
    (kit,) = run.kits
    assert (kit.made, kit.schema_valid, kit.distinct) == (2, 1.0, True)
    # the judge is this run's judge, asked in the stand-alone design: one prompt per signal
    verdicts = [p for p in judge.prompts if "Context:" in p]
    assert len(verdicts) == kit.signals
    written = run.to_json()["kits"][0]
    assert written["role"] == "ML Engineering Manager"
    # the judge says yes exactly when the signal's words are in the passage
    said_no = [p.split("\nStatement: ", 1)[1].split("\n", 1)[0] for p in verdicts]
    said_no = [s for s in said_no if s.rstrip(".").lower() not in p_context(judge, s)]
    assert kit.unsupported_signals == said_no
    assert kit.signals_supported == round(1 - len(said_no) / kit.signals, 4)
    assert run.aggregates()["kit_signals_supported"] == kit.signals_supported


def p_context(judge: Any, statement: str) -> str:
    """The context the judge was shown with `statement`, flattened and lower-cased."""
    prompt = next(p for p in judge.prompts if f"\nStatement: {statement}\n" in p)
    context = prompt.split("Context:", 1)[1].split("\nMost relevant line:", 1)[0]
    return " ".join(context.split()).lower()


def test_a_golden_request_for_interview_questions_is_answered_by_the_kit_writer(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> None:
    from test_eval_logic import VerbatimJudge

    from lodestar.evaluation.dataset import GoldenCase
    from lodestar.evaluation.runner import SuiteRunner
    from lodestar.evaluation.suites import Suite

    llm = QueuedLLM.make(
        kit_question("How do you hire and mentor ML engineers on your team?"),
        kit_question("How do you take an ML system from prototype to production?"),
    )
    runner = SuiteRunner(make_services(data_dir=knowledge_index, llm=llm), VerbatimJudge)
    suite = Suite("t", "", judged=None, llm_context_metrics=False, relevancy_questions=1)
    case = GoldenCase(
        id="k1",
        category="interview",
        question="Give me two interview questions for a senior ML Engineering Manager",
        reference_answer="",
        key_facts=["prototype to production", "not in any kit"],
    )
    run = runner.run(suite, [case], [])
    (result,) = run.cases
    assert result.error is None
    assert result.kit
    assert "How do you take an ML system from prototype to production?" in result.answer
    assert result.key_fact_recall == 0.5
    assert result.contexts  # the kit's source passages
    (kit,) = run.kits  # the kit is scored with the kit metrics, like the listed kits
    assert (kit.role, kit.level, kit.made) == ("ML Engineering Manager", "senior", 2)
    assert llm.calls  # written by the kit writer, not answered by the engine
    assert not any("Before you answer" in str(m[-1].content) for m in llm.judged)
