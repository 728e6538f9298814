"""The evaluation's logic with a deterministic fake judge: statements, faithfulness, gate, report."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import QueuedLLM
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import InstructorBaseRagasLLM

from lodestar.answering.citations import Citation
from lodestar.answering.result import Answer, Timings
from lodestar.evaluation.calibration import CalibrationReport
from lodestar.evaluation.dataset import CalibrationItem, ControlAnswer, GoldenCase, contains_fact
from lodestar.evaluation.gate import Thresholds
from lodestar.evaluation.metrics.answers import check_answer_citations, key_fact_recall
from lodestar.evaluation.metrics.contexts import score_contexts
from lodestar.evaluation.metrics.faithfulness import StatementFaithfulness
from lodestar.evaluation.report import build_report, render_markdown, write_report
from lodestar.evaluation.results import CaseResult, ControlResult, SuiteRun
from lodestar.evaluation.runner import SuiteRunner
from lodestar.evaluation.suites import Suite
from lodestar.grounding.guard import missing_terms, ungrounded_terms
from lodestar.grounding.statements import NOT_DESCRIBED, has_table, split_statements


class WordEmbedding(BaseRagasEmbedding):
    """Deterministic bag-of-words vectors: enough to pick the most similar context line."""

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        vector = [0.0] * 64
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[sum(map(ord, word)) % 64] += 1.0
        return vector

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        return self.embed_text(text)


class VerbatimJudge(InstructorBaseRagasLLM):
    """Says a statement is supported exactly when its words appear in the prompt's context."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompt: str, response_model: Any) -> Any:
        self.prompts.append(prompt)
        if response_model.__name__ == "StatementVerdict":
            context = prompt.split("Context:", 1)[1].split("\nMost relevant line:", 1)[0]
            statement = prompt.split("\nStatement: ", 1)[1].split("\n", 1)[0]
            found = statement.rstrip(".").lower() in " ".join(context.split()).lower()
            return response_model(verdict="yes" if found else "no")
        # ragas AnswerRelevancy: a question that echoes the answer's first words
        return response_model(question=prompt.split("response:")[-1][:40], noncommittal=0)

    async def agenerate(self, prompt: str, response_model: Any) -> Any:
        return self.generate(prompt, response_model)


def test_statements_are_sentences_with_their_citations() -> None:
    answer = (
        "Here is what the passages say:\n"
        "- Teams have 5-20 engineers [1].\n"
        "- Leads review code weekly. They also mentor juniors. [2]\n"
        "* Pay ranges from $172,150 to $212,400 (3)\n"
        "- Yes [1]"
    )
    statements = split_statements(answer)
    assert [(s.text, s.cites) for s in statements] == [
        ("Teams have 5-20 engineers.", [1]),
        ("Leads review code weekly.", [2]),  # the bullet's closing citation covers it
        ("They also mentor juniors.", [2]),
        ("Pay ranges from $172,150 to $212,400 (3)", []),
    ]
    assert split_statements("The knowledge base does not cover this question.") == []
    uncited = split_statements(
        "Teams are kept small. They ship every week [1]\nLeads review every design."
    )
    assert [s.cites for s in uncited] == [[1], [1], []]


def test_key_facts_match_across_dashes_case_and_separators() -> None:
    assert contains_fact("Teams have 5 – 20 engineers", "5-20")
    assert contains_fact("earns $172150 a year", "$172,150")
    assert not contains_fact("earns $172,500 a year", "$172,150")
    assert key_fact_recall("MLflow and DVC", ["mlflow", "Kubeflow"]) == 0.5
    assert key_fact_recall("anything", []) is None


def test_faithfulness_checks_cited_passage_then_all_contexts() -> None:
    judge = VerbatimJudge()
    contexts = ["Teams have 5-20 engineers and one lead.", "Leads mentor juniors every week."]
    answer = (
        "- Teams have 5-20 engineers [1]\n"  # supported by the cited passage: one call
        "- Leads mentor juniors every week [1]\n"  # wrong citation, supported elsewhere: two calls
        "- Leads earn a bonus of 35% [2]"  # invented figure: refused without asking the judge
    )
    metric = StatementFaithfulness(judge, WordEmbedding())
    result = asyncio.run(
        metric.ascore(user_input="q", response=answer, retrieved_contexts=contexts)
    )
    assert result.value == pytest.approx(2 / 3)
    assert [v["supported"] for v in result.traces["output"]] == [True, True, False]
    # The quantifier guard rejects "every week" against [1], which never says "every", without
    # asking the judge; [2] then supports it: two judge calls.
    assert len(judge.prompts) == 2
    refusal = asyncio.run(
        metric.ascore(
            user_input="q",
            response="The knowledge base does not cover this.",
            retrieved_contexts=contexts,
        )
    )
    assert refusal.value != refusal.value  # NaN: nothing to check, as in ragas


def test_numbers_and_names_the_context_never_mentions_are_missing() -> None:
    context = "The ML Engineering Manager needs MLflow and Kubeflow; pay is $172,150 to $212,400."
    assert missing_terms("Pay is $172,150 to $212,400 a year.", context) == []
    assert missing_terms("The manager needs experience with Snowflake.", context) == ["Snowflake"]
    assert missing_terms("Pay starts at $172,500.", context) == ["172,500"]
    # short abbreviations are left to the judge: the context may spell them out
    assert missing_terms("An AI lead uses Kubeflow.", context) == []


def test_the_judge_is_shown_the_most_similar_context_line() -> None:
    judge = VerbatimJudge()
    context = "# Pay\n- Teams have 5-20 engineers.\n- Google pays $230,148. Meta pays more."
    metric = StatementFaithfulness(judge, WordEmbedding())
    asyncio.run(metric.verify("Google pays $230,148 a year.", context))
    assert "Most relevant line: Google pays $230,148.\n" in judge.prompts[0]


def test_repeated_judgements_take_the_majority() -> None:
    class Flaky(VerbatimJudge):
        def generate(self, prompt: str, response_model: Any) -> Any:
            self.prompts.append(prompt)
            return response_model(verdict="yes" if len(self.prompts) % 3 else "no")

    metric = StatementFaithfulness(Flaky(), WordEmbedding(), repeats=3)
    assert asyncio.run(metric.verify("Teams have 5 engineers.", "Teams have 5 engineers.")) is True


def _item(n: int, supported: bool) -> CalibrationItem:
    return CalibrationItem(id=f"c{n}", context="c", statement="s", supported=supported, kind="k")


def test_calibration_report_accuracy_and_kappa() -> None:
    # 10 items: labels 5 yes / 5 no; judge right on 8 (4 yes-yes, 4 no-no).
    verdicts = [(_item(i, True), i < 4) for i in range(5)] + [
        (_item(i, False), i == 9) for i in range(5, 10)
    ]
    report = CalibrationReport(
        judge="fake",
        method="statement",
        items=[item for item, _ in verdicts],
        scores=[verdict for _, verdict in verdicts],
        seconds=1.0,
    )
    assert report.accuracy == pytest.approx(0.8)
    assert report.kappa == pytest.approx(0.6)  # chance agreement 0.5
    assert report.confusion()["unsupported_judged_yes"] == 1


def _answer(text: str, supplied: int, removed: list[int] | None = None) -> Answer:
    passages = [
        Citation(n=n, source="s", title="t", heading="h", text="x", score=1.0)
        for n in range(1, supplied + 1)
    ]
    return Answer(
        question="q",
        answer=text,
        citations=[],
        refused=False,
        backend="local",
        model="m",
        timings=Timings(),
        supplied=passages,
        removed_citations=removed or [],
    )


def test_citation_validity_needs_every_statement_cited_and_none_dangling() -> None:
    assert check_answer_citations(
        _answer("- Teams have 5-20 engineers [1]\n- Leads mentor juniors [2]", 2)
    ).valid
    uncited = check_answer_citations(
        _answer("- Teams have 5-20 engineers [1]\n- Leads mentor juniors weekly", 2)
    )
    assert not uncited.valid
    assert (uncited.statements, uncited.cited_statements) == (2, 1)
    dangling = check_answer_citations(_answer("- Teams have 5-20 engineers [1]", 1, removed=[4]))
    assert dangling.dangling == [4]
    assert not dangling.valid


# A comparison as the answer engine writes it: an empty corner, so the first column names rows.
TABLE = (
    "How a Practice Leader and an ML Engineering Manager compare, quoted from their documents:\n"
    "\n"
    "| | Practice Leader | ML Engineering Manager |\n"
    "|---|---|---|\n"
    "| People and team | Build teams that work effectively [1] | Handles hiring, performance "
    "reviews and career development [2] |\n"
    "| Experience | Experience leading a team or a department [1] | {em_experience} |\n"
    f"| Pay | {NOT_DESCRIBED} | {NOT_DESCRIBED} |"
)


def test_a_table_is_read_cell_by_cell() -> None:
    table = TABLE.format(em_experience="At least 8 years of hands-on ML engineering work [2]")
    statements = split_statements(table)
    assert [(s.text, s.cites, s.line) for s in statements] == [
        ("Build teams that work effectively", [1], 4),
        ("Handles hiring, performance reviews and career development", [2], 4),
        ("Experience leading a team or a department", [1], 5),
        ("At least 8 years of hands-on ML engineering work", [2], 5),
    ]  # no header, rule, row label or "not described"; the intro ends with ":"
    assert has_table(table)
    assert not has_table("- Teams have 5-20 engineers [1]\n- a | b")


def test_a_table_cell_is_cited_by_its_own_citation_not_its_rows() -> None:
    uncited = TABLE.format(em_experience="At least 8 years of hands-on ML engineering work")
    statements = split_statements(uncited)
    assert statements[-1].text == "At least 8 years of hands-on ML engineering work"
    assert statements[-1].cites == []  # the [1] in the row's other cell is not its citation
    # Without an empty corner every cell is a claim: a row's first cell too.
    plain = (
        "| Role | What it does |\n|:---|---:|\n| Practice Leader | builds teams that work well |"
    )
    assert [s.text for s in split_statements(plain)] == ["builds teams that work well"]
    assert [s.text for s in split_statements(plain, 1)] == [
        "Practice Leader",
        "builds teams that work well",
    ]


def test_citation_validity_reads_a_table_cell_by_cell() -> None:
    cited = check_answer_citations(
        _answer(TABLE.format(em_experience="At least 8 years of ML engineering work [2]"), 2)
    )
    assert cited.valid
    assert (cited.statements, cited.cited_statements) == (4, 4)
    one_uncited = check_answer_citations(
        _answer(TABLE.format(em_experience="At least 8 years of ML engineering work"), 2)
    )
    assert not one_uncited.valid
    assert (one_uncited.statements, one_uncited.cited_statements) == (4, 3)
    run = SuiteRun(
        suite="t",
        generator="g",
        judge="j",
        cases=[
            CaseResult(
                id=f"c{n}",
                category="comparison",
                question="q",
                must_refuse=False,
                citation_valid=report.valid,
            )
            for n, report in enumerate([cited, one_uncited])
        ],
        controls=[],
        seconds=1.0,
    )
    assert run.aggregates()["citation_validity"] == 0.5


def test_a_tables_cells_are_checked_for_names_and_its_headers_are_not() -> None:
    table = TABLE.format(em_experience="At least 8 years of ML engineering work at Snowflake [2]")
    contexts = [
        "Build teams that work effectively. Experience leading a team or a department.",
        "Handles hiring, performance reviews and career development. At least 8 years of ML "
        "engineering work.",
    ]
    assert ungrounded_terms(table, contexts) == ["Snowflake"]  # not "Practice", "Manager", "Pay"


def test_faithfulness_judges_each_cell_against_the_passage_it_cites() -> None:
    table = TABLE.format(em_experience="At least 8 years of ML engineering work [2]")
    contexts = [
        "Build teams that work effectively. Experience leading a team or a department.",
        "Handles hiring, performance reviews and career development.",
    ]
    result = asyncio.run(
        StatementFaithfulness(VerbatimJudge(), WordEmbedding()).ascore(
            user_input="q", response=table, retrieved_contexts=contexts
        )
    )
    assert result.value == pytest.approx(3 / 4)  # the 8 years are in neither passage
    assert [v["supported"] for v in result.traces["output"]] == [True, True, True, False]


def test_context_recall_matches_a_reference_inside_a_longer_passage() -> None:
    case = GoldenCase(
        id="x",
        category="factual",
        question="q",
        reference_answer="a",
        reference_contexts=["Average annual salary: $165,110 to $232,000"],
    )
    passage = "For Lead and Senior Machine Learning Engineers across the US in 2024: - Average annual salary: $165,110 to $232,000 - Overall salary range: $131,000 to $267,113"
    recall, precision = asyncio.run(
        score_contexts(case, ["Something unrelated about hiring.", passage])
    )
    assert recall == 1.0
    assert precision == pytest.approx(0.5)  # the hit is ranked second
    missing, _ = asyncio.run(score_contexts(case, ["Something unrelated about hiring."]))
    assert missing == 0.0


def _run(faithfulness: float, controls: list[ControlResult]) -> SuiteRun:
    case = CaseResult(
        id="g1",
        category="factual",
        question="q",
        must_refuse=False,
        key_fact_recall=1.0,
        citation_valid=True,
        hit_at_5=True,
        judged=True,
        faithfulness=faithfulness,
    )
    refusal = CaseResult(
        id="g2", category="unanswerable", question="q", must_refuse=True, refused=True
    )
    return SuiteRun(
        suite="ci", generator="g", judge="j", cases=[case, refusal], controls=controls, seconds=1.0
    )


def test_gate_fails_on_a_missed_threshold_and_on_a_control_the_judge_misses() -> None:
    thresholds = Thresholds(
        minimum={"faithfulness": 0.7, "refusal_accuracy": 1.0, "key_fact_recall": 0.5},
        maximum={"false_refusal_rate": 0.1},
    )
    good_controls = [
        ControlResult("ctl1", "unfaithful", 0.25, []),
        ControlResult("ctl2", "faithful", 1.0, []),
    ]
    assert all(c.passed for c in thresholds.check(_run(0.9, good_controls)))
    failed = [c.name for c in thresholds.check(_run(0.5, good_controls)) if not c.passed]
    assert failed == ["faithfulness"]
    fooled = [ControlResult("ctl1", "unfaithful", 0.75, [])]
    assert [c.name for c in thresholds.check(_run(0.9, fooled)) if not c.passed] == [
        "control ctl1 (unfaithful)"
    ]
    unmeasured = Thresholds(minimum={"answer_relevancy": 0.5}, maximum={})
    assert not unmeasured.check(_run(0.9, []))[0].passed


def test_report_is_written_as_json_and_markdown(tmp_path: Path) -> None:
    thresholds = Thresholds(minimum={"faithfulness": 0.7}, maximum={})
    run = _run(0.5, [ControlResult("ctl1", "unfaithful", 0.0, [])])
    report = build_report(run, thresholds.check(run))
    json_path, md_path = write_report(report, tmp_path)
    data = json.loads(json_path.read_text())
    assert data["passed"] is False
    assert data["aggregates"]["faithfulness"] == 0.5
    markdown = md_path.read_text()
    assert "FAILED" in markdown
    assert re.search(r"\| faithfulness \| 0\.500 \| >= 0\.7 \| \*\*FAIL\*\* \|", markdown)
    assert markdown == render_markdown(data)


def test_suite_runner_scores_real_retrieval_with_a_fake_generator_and_judge(
    knowledge_index: Path, make_services: Any
) -> None:
    salary = GoldenCase(
        id="s1",
        category="factual",
        question="What is the average annual salary range for lead and senior ML engineers in the US in 2024?",
        reference_answer="$165,110 to $232,000.",
        reference_doc_ids=["knowledge/ml-team-lead-salaries.md"],
        reference_contexts=["Average annual salary: $165,110 to $232,000"],
        key_facts=["$165,110", "$232,000"],
    )
    off_topic = GoldenCase(
        id="s2",
        category="unanswerable",
        question="What is the capital of France?",
        reference_answer="Not covered.",
        must_refuse=True,
    )
    llm = QueuedLLM.make(
        "- Average annual salary: $165,110 to $232,000 [1]\n- Everyone gets a free car [1]"
    )
    services = make_services(data_dir=knowledge_index, llm=llm)
    runner = SuiteRunner(services, VerbatimJudge)
    suite = Suite(
        name="t", description="", judged=None, llm_context_metrics=False, relevancy_questions=1
    )
    control = ControlAnswer(
        id="ctl",
        question="q",
        contexts=["Teams have 5-20 engineers."],
        answer="- Teams have 50 engineers [1]",
        expected="unfaithful",
    )
    run = runner.run(suite, [salary, off_topic], [control])
    scored, refused = run.cases
    assert scored.error is None
    assert (scored.key_fact_recall, scored.hit_at_5, scored.citation_valid) == (1.0, True, True)
    assert scored.context_recall == 1.0
    assert scored.faithfulness == 0.5  # the salary line is in a passage, the car is not
    assert refused.refused
    assert refused.refusal_correct
    assert not refused.judged
    assert run.controls[0].faithfulness == 0.0
    assert run.aggregates()["refusal_accuracy"] == 1.0
    assert len(run.dataset.samples) == 2
