"""The grounding verifier: statements checked against their passages, in the answer path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM

from lodestar.answering.engine import AnswerEngine
from lodestar.components.services import Services
from lodestar.core.errors import GenerationError
from lodestar.core.prompts import render_prompt
from lodestar.core.refusal import NOT_COVERED_TEXT
from lodestar.grounding.display import UNVERIFIED_MARK, displayed_answer
from lodestar.grounding.judge import yes_no_judge
from lodestar.grounding.statements import Statement, split_statements
from lodestar.grounding.verifier import Grounding, GroundingVerifier, Verdict

PASSAGES = [
    "An ML Engineering Manager typically leads a team of 5-20 engineers.",
    "Team leads mentor junior engineers and review their designs.",
]


def _last_user_text(messages: Any) -> str:
    return str(messages[-1].content)


def judge_by_prompt(answerable: float = 1.0, **statements: float) -> Callable[[Any], float]:
    """A deterministic judge: P(yes) by which check is asked and, for statements, by a key word."""

    def judge(messages: Any) -> float:
        text = _last_user_text(messages)
        if "Before you answer" in text:
            return answerable
        for word, score in statements.items():
            if word in text:
                return score
        return 1.0

    return judge


def test_a_statement_with_an_invented_figure_is_unsupported_without_asking_the_judge() -> None:
    asked: list[Any] = []
    verifier = GroundingVerifier(lambda m: asked.append(m) or 1.0, threshold=0.5)
    answer = "- Managers lead 5-20 engineers [1].\n- They earn $999,999 a year [1]."
    grounding = verifier.verify(answer, PASSAGES)
    assert [v.supported for v in grounding.verdicts] == [True, False]
    assert grounding.verdicts[1].guard
    assert "999,999" in grounding.verdicts[1].reason
    assert len(asked) == 1  # only the first statement reached the judge
    for mode in ("drop", "mark"):
        shown, count = displayed_answer(answer, grounding, mode)  # type: ignore[arg-type]
        assert "999" not in shown
        assert count == 1
        assert shown == "- Managers lead 5-20 engineers [1]."


def test_an_unsupported_statement_is_dropped_or_marked() -> None:
    verifier = GroundingVerifier(judge_by_prompt(mentor=0.1), threshold=0.5)
    answer = "Key points:\n- Managers lead 5-20 engineers [1].\n- Leads mentor nobody [2]."
    grounding = verifier.verify(answer, PASSAGES)
    assert [v.supported for v in grounding.verdicts] == [True, False]
    assert not grounding.verified
    dropped, shown = displayed_answer(answer, grounding, "drop")
    assert dropped == "Key points:\n- Managers lead 5-20 engineers [1]."
    assert shown == 1
    marked, shown = displayed_answer(answer, grounding, "mark")
    assert marked.endswith(f"- Leads mentor nobody [2]. {UNVERIFIED_MARK}")
    assert shown == 2


def test_an_uncited_statement_is_checked_against_the_closest_passage_and_cited(
    embed_model: Any,
) -> None:
    verifier = GroundingVerifier(
        lambda m: 1.0, threshold=0.5, embed=embed_model.get_text_embedding_batch
    )
    grounding = verifier.verify("Team leads mentor junior engineers.", PASSAGES)
    assert grounding.verdicts[0].cites == [2]
    assert displayed_answer("Team leads mentor junior engineers.", grounding, "drop")[0] == (
        "Team leads mentor junior engineers [2]."
    )


def test_a_verifier_error_is_reported_and_never_verified() -> None:
    def broken(messages: Any) -> float:
        raise RuntimeError("model server went away")

    grounding = GroundingVerifier(broken, threshold=0.5).verify(
        "Managers lead teams [1].", PASSAGES
    )
    assert grounding.error == "RuntimeError: model server went away"
    assert not grounding.verified
    assert grounding.summary(1)["verified"] is False


def test_a_grounding_with_no_statements_is_not_verified() -> None:
    assert not Grounding(verdicts=[]).verified


def test_statements_keep_their_line_and_bullet_citations() -> None:
    statements = split_statements(
        "Intro:\n- One thing here. Another thing there [2]\n- Third [1]", 1
    )
    assert [(s.text, s.cites, s.line) for s in statements] == [
        ("One thing here.", [2], 1),
        ("Another thing there", [2], 1),
        ("Third", [1], 2),
    ]


@pytest.mark.parametrize(("reply", "expected"), [("Yes.", 1.0), ("no", 0.0), (" YES, it is", 1.0)])
def test_remote_models_answer_yes_or_no_in_words(reply: str, expected: float) -> None:
    llm = QueuedLLM.make(reply)
    del llm.__class__.yes_probability  # a remote LLM exposes no logits
    assert yes_no_judge(llm)([]) == expected


def test_a_remote_reply_that_is_neither_yes_nor_no_is_an_error() -> None:
    llm = QueuedLLM.make("Maybe")

    class Remote:
        def chat(self, messages: Any, **kwargs: Any) -> Any:
            return llm.chat(messages, **kwargs)

    with pytest.raises(GenerationError, match="not yes or no"):
        yes_no_judge(Remote())([])


# ------------------------------------------------------------------ in the answer engine
@pytest.fixture
def engine_for(
    knowledge_index: Path, make_services: Callable[..., Services]
) -> Callable[..., tuple[AnswerEngine, Any]]:
    def make(*replies: str, judge: Any = 1.0, **answer: Any) -> tuple[AnswerEngine, Any]:
        llm = QueuedLLM.make(*replies, judge=judge)
        services = make_services(data_dir=knowledge_index, llm=llm)
        services.settings.answer = services.settings.answer.model_copy(update=answer)
        return AnswerEngine(services), llm

    return make


QUESTION = "How many engineers does an ML Engineering Manager lead?"


def test_the_engine_drops_an_invented_figure(engine_for: Any) -> None:
    engine, _ = engine_for("- They lead 5-20 engineers [1].\n- Pay starts at $987,654 [1].")
    answer = engine.ask(QUESTION)
    assert "987" not in answer.answer
    assert "987,654" in answer.raw_answer
    assert not answer.refused
    assert answer.verified["statements"] == 2
    assert answer.verified["supported"] == 1
    assert [g["supported"] for g in answer.grounding] == [True, False]


def test_an_answer_with_no_supported_statement_becomes_not_covered(engine_for: Any) -> None:
    engine, _ = engine_for(
        "- They lead about 5-20 engineers [1].", judge=judge_by_prompt(engineers=0.05)
    )
    answer = engine.ask(QUESTION)
    assert answer.refused
    assert answer.answer.startswith(NOT_COVERED_TEXT)
    assert answer.citations == []
    assert answer.closest_topics


def test_a_question_the_passages_do_not_answer_is_refused_before_generation(
    engine_for: Any,
) -> None:
    engine, llm = engine_for(judge=judge_by_prompt(answerable=0.1))
    answer = engine.ask("What parental leave do ML engineering managers get?")
    assert answer.refused
    assert answer.answerable == pytest.approx(0.1)
    assert answer.answer.startswith(NOT_COVERED_TEXT)
    assert answer.closest_topics
    assert llm.calls == []  # nothing was generated
    assert len(llm.judged) == 1


def test_a_verifier_failure_never_yields_verified(engine_for: Any) -> None:
    def judge(messages: Any) -> float:
        if "Before you answer" in _last_user_text(messages):
            return 1.0
        raise RuntimeError("verifier crashed")

    engine, _ = engine_for("- They lead 5-20 engineers [1].", judge=judge)
    answer = engine.ask(QUESTION)
    assert answer.verified["verified"] is False
    assert "verifier crashed" in answer.verified["error"]
    assert not answer.refused  # shown, but as unverified
    assert answer.answer == answer.raw_answer


def test_the_in_context_check_reuses_the_answer_prompt(engine_for: Any) -> None:
    engine, llm = engine_for("- They lead 5-20 engineers [1].", verifier="context")
    engine.ask(QUESTION)
    answer_prompt = llm.calls[0]["messages"]
    answerability, check = llm.judged
    # The answerability check follows the prompt it was calibrated on (the general
    # instruction); the answer's prompt differs only in its closing instruction (a look-up
    # here), so llama.cpp reads the passages once.
    asked, answered = answerability[1].content, answer_prompt[1].content
    assert answerability[0].content == answer_prompt[0].content
    assert render_prompt("shape_general") in asked
    assert render_prompt("shape_lookup") in answered
    assert asked.split("Answer using only")[0] == answered.split("Answer using only")[0]
    assert [m.content for m in check[:2]] == [m.content for m in answer_prompt]
    assert len(check) == 3  # the prompt already read, then only the check
    assert "They lead 5-20 engineers." in check[2].content


def test_verification_can_be_switched_off(engine_for: Any) -> None:
    engine, llm = engine_for("- Pay starts at $987,654 [1].", verify=False)
    answer = engine.ask(QUESTION)
    assert "987,654" in answer.answer
    assert answer.verified == {"checked": False}
    assert llm.judged == []


def test_mark_mode_keeps_a_judged_unsupported_statement_marked(engine_for: Any) -> None:
    engine, _ = engine_for(
        "- They lead 5-20 engineers [1].\n- They also mentor [1].",
        judge=judge_by_prompt(mentor=0.2),
        unsupported="mark",
    )
    answer = engine.ask(QUESTION)
    assert UNVERIFIED_MARK in answer.answer
    assert answer.verified["shown"] == 2
    assert answer.verified["supported"] == 1


def test_a_wrong_citation_is_corrected_when_another_passage_supports_the_statement(
    embed_model: Any,
) -> None:
    verifier = GroundingVerifier(
        lambda m: 1.0, threshold=0.5, embed=embed_model.get_text_embedding_batch
    )
    answer = "- Managers typically lead a team of 5-20 engineers [2]."
    grounding = verifier.verify(answer, PASSAGES)
    assert grounding.verdicts[0].supported
    assert grounding.verdicts[0].cites == [1]
    assert "corrected to [1]" in grounding.verdicts[0].reason
    assert displayed_answer(answer, grounding, "drop")[0] == (
        "- Managers typically lead a team of 5-20 engineers [1]."
    )


def test_verdict_json_has_no_internal_fields() -> None:
    verdict = Verdict(statement="s", cites=[1], supported=True, score=1.0, reason="r", line=3)
    assert "line" not in verdict.to_json()
    assert Statement(text="x").cites == []


def test_markdown_and_enumeration_labels_are_layout_not_names_or_figures() -> None:
    statements = split_statements(
        "- **Question 2**: How do you handle conflict in your team? [1]\n"
        "- **Compare results to targets**: weekly [2]",
        1,
    )
    assert [s.text for s in statements] == [
        "How do you handle conflict in your team?",
        "Compare results to targets: weekly",
    ]
    verifier = GroundingVerifier(lambda m: 1.0, threshold=0.5)
    grounding = verifier.verify(
        "- **Question 2**: How do you handle conflict in your team? [1]",
        ["Leads resolve conflict in the team early."],
    )
    assert grounding.verdicts[0].supported, grounding.verdicts[0].reason


def test_a_question_is_checked_by_the_guard_only() -> None:
    asked: list[Any] = []
    verifier = GroundingVerifier(lambda m: asked.append(m) or 0.0, threshold=0.5)
    grounding = verifier.verify(
        "- How did you deploy with Kubeflow? [1]\n- How do you mentor juniors? [2]", PASSAGES
    )
    assert [v.supported for v in grounding.verdicts] == [False, True]
    assert grounding.verdicts[0].guard  # Kubeflow is in no passage
    assert asked == []


def test_figures_written_as_words_are_figures() -> None:
    verifier = GroundingVerifier(lambda m: 1.0, threshold=0.5)
    grounding = verifier.verify(
        "- Split the team into two groups of three [1].\n- Leads mentor junior engineers [2].",
        PASSAGES,
    )
    assert [v.supported for v in grounding.verdicts] == [False, True]
    assert "two, three not in [1]" in grounding.verdicts[0].reason


def test_a_statement_the_judge_rejects_gets_no_second_passage(embed_model: Any) -> None:
    asked: list[Any] = []
    verifier = GroundingVerifier(
        lambda m: asked.append(m) or 0.1, threshold=0.5, embed=embed_model.get_text_embedding_batch
    )
    grounding = verifier.verify("- Team leads review designs [2].", PASSAGES)
    assert not grounding.verdicts[0].supported
    assert len(asked) == 1


def test_a_verified_answer_keeps_citations_where_the_model_put_them() -> None:
    answer = (
        "- The role is described in [1] and [2] as the first managerial layer.\n"
        "- Leads hire and mentor the engineers on their teams [3]."
    )
    statements = split_statements(answer)
    # the statement the judge sees has its citations lifted out, as before
    assert statements[0].text == "The role is described in  and  as the first managerial layer."
    verdicts = [
        Verdict(
            statement=s.text,
            cites=s.cites,
            supported=True,
            score=1.0,
            reason="",
            line=s.line,
            written=s.written,
        )
        for s in statements
    ]
    shown, _ = displayed_answer(answer, Grounding(verdicts=verdicts), "drop")
    assert shown == answer  # not "described in  and  as … [1][2]."
    # a corrected citation is not the model's any more: it goes before the full stop
    verdicts[1].cites = [2]
    shown, _ = displayed_answer(answer, Grounding(verdicts=verdicts), "drop")
    assert shown.splitlines()[1] == "- Leads hire and mentor the engineers on their teams [2]."
    assert "written" not in verdicts[0].to_json()


def _no_judge(messages: Any) -> float:
    raise AssertionError("the judge was asked about a copied statement")


def test_a_statement_copying_its_passage_is_supported_without_the_judge() -> None:
    verifier = GroundingVerifier(_no_judge, threshold=0.5)
    grounding = verifier.verify("- Team leads mentor junior engineers [2].", PASSAGES)
    (verdict,) = grounding.verdicts
    assert verdict.supported
    assert verdict.score is None
    assert verdict.cites == [2]
    assert "copies passage [2]" in verdict.reason


def test_a_copy_of_another_passage_than_the_one_cited_has_its_citation_corrected() -> None:
    # The model numbered its bullets instead of citing them: each copies the other passage.
    passages = [
        "Promote the team's achievements to leadership, naming each contributor.",
        "Hold regular forums where team members bring forward new ideas.",
    ]
    answer = (
        "- Hold regular forums where team members bring forward new ideas [1].\n"
        "- Promote the team's achievements to leadership, naming each contributor [2]."
    )
    grounding = GroundingVerifier(_no_judge, threshold=0.5).verify(answer, passages)
    assert grounding.error is None
    assert [v.cites for v in grounding.verdicts] == [[2], [1]]
    assert "citation [1] corrected" in grounding.verdicts[0].reason
    assert displayed_answer(answer, grounding, "drop")[0] == (
        "- Hold regular forums where team members bring forward new ideas [2].\n"
        "- Promote the team's achievements to leadership, naming each contributor [1]."
    )


@pytest.mark.parametrize(
    "statement",
    [
        "Junior engineers mentor team leads [2].",  # the passage's words, roles swapped
        "Team leads mentor engineers on their designs [2].",  # words left out between
        "Team leads review designs [2].",  # too short a copy to skip the check
    ],
)
def test_a_statement_that_is_not_a_whole_ordered_copy_goes_to_the_judge(statement: str) -> None:
    asked: list[Any] = []
    GroundingVerifier(lambda m: asked.append(m) or 0.0, threshold=0.5).verify(statement, PASSAGES)
    assert len(asked) == 1


def test_copies_can_be_sent_to_the_judge_too() -> None:
    asked: list[Any] = []
    verifier = GroundingVerifier(
        lambda m: asked.append(m) or 1.0, threshold=0.5, trust_copies=False
    )
    verifier.verify("- Team leads mentor junior engineers [2].", PASSAGES)
    assert len(asked) == 1
