"""Run a suite: answer every golden case with the real engine, score it, score the controls.

Deterministic metrics run on every case. The judged metrics (faithfulness, answer relevancy and,
in the full suite, ragas's LLM context precision and recall) run on the suite's judged cases.
Every run also scores the planted control answers, so a judge that says "yes" to everything
fails the gate.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ragas.dataset_schema import EvaluationDataset

from lodestar.answering.engine import AnswerEngine
from lodestar.answering.result import Answer
from lodestar.evaluation.dataset import CalibrationItem, ControlAnswer, GoldenCase
from lodestar.evaluation.judge import LlamaIndexRagasEmbedding, judge_yes_no
from lodestar.evaluation.kits import KitCase, evaluate_kits
from lodestar.evaluation.metrics.answers import check_answer_citations, key_fact_recall
from lodestar.evaluation.metrics.contexts import retrieval_hit, score_contexts
from lodestar.evaluation.metrics.faithfulness import StatementFaithfulness
from lodestar.evaluation.metrics.kits import KitScores, score_kit
from lodestar.evaluation.results import CaseResult, ControlResult, SuiteRun
from lodestar.evaluation.suites import Suite
from lodestar.grounding.display import displayed_answer, grounding_from_json
from lodestar.grounding.guard import ungrounded_terms
from lodestar.grounding.statements import has_table
from lodestar.grounding.verifier import GroundingVerifier
from lodestar.interview.request import KitRequest, kit_request_for, kit_writer_for
from lodestar.retrieval.hybrid import retrieve

if TYPE_CHECKING:
    from ragas.llms.base import InstructorBaseRagasLLM

    from lodestar.components.services import Services

HIT_K = 5
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class SuiteRunner:
    """Answers golden cases with the configured generator and scores them with the judge."""

    def __init__(
        self,
        services: Services,
        judge: Callable[[], InstructorBaseRagasLLM],
        engine: AnswerEngine | None = None,
    ) -> None:
        """`judge` builds the judge on first use; `engine` replaces the answer engine (tests)."""
        self.services = services
        self.engine = engine or AnswerEngine(services)
        self._judge_factory = judge
        self._judge: InstructorBaseRagasLLM | None = None
        # The kits written for golden cases that ask for interview questions (this run's).
        self.case_kits: list[KitScores] = []

    @property
    def judge(self) -> InstructorBaseRagasLLM:
        """The judge, built on first use (a run without judged cases never loads it)."""
        if self._judge is None:
            self._judge = self._judge_factory()
        return self._judge

    @cached_property
    def embeddings(self) -> LlamaIndexRagasEmbedding:
        """Lodestar's embedder for ragas (evidence lines, answer relevancy)."""
        return LlamaIndexRagasEmbedding(self.services.embed_model)

    @cached_property
    def faithfulness_metric(self) -> StatementFaithfulness:
        """The calibrated faithfulness metric on this runner's judge (one, so its verdict cache
        serves the raw and the displayed answer)."""
        cfg = self.services.settings.eval
        return StatementFaithfulness(
            self.judge, self.embeddings, threshold=cfg.judge_threshold, repeats=cfg.judge_repeats
        )

    def faithfulness(
        self, question: str, answer: str, contexts: list[str]
    ) -> tuple[float | None, list[dict[str, Any]]]:
        """The judge's faithfulness of one answer and its verdicts (None: no statements)."""
        scored = _run(
            self.faithfulness_metric.ascore(
                user_input=question, response=answer, retrieved_contexts=contexts
            )
        )
        value = None if math.isnan(scored.value) else float(scored.value)
        return value, (scored.traces or {}).get("output", [])

    def run_case(self, case: GoldenCase, suite: Suite) -> CaseResult:
        """Answer one case and score it; an error is recorded on the case, not raised."""
        result = CaseResult(
            id=case.id, category=case.category, question=case.question, must_refuse=case.must_refuse
        )
        started = time.perf_counter()
        try:
            self._answer_and_score(case, suite, result)
        except Exception as exc:  # one broken case must not hide the others' scores
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = round(time.perf_counter() - started, 1)
        return result

    def _answer_and_score(self, case: GoldenCase, suite: Suite, result: CaseResult) -> None:
        request = kit_request_for(case.question, self.services)
        if request is not None and request.role is not None:
            self._kit_and_score(case, request, result)
            return
        answer = self.engine.ask(case.question)
        result.answer = answer.answer
        result.raw_answer = answer.raw_answer
        result.refused = answer.refused
        result.table = has_table(answer.answer)
        result.verified = answer.verified
        result.grounding = answer.grounding
        result.answerable = answer.answerable
        result.contexts = [c.text for c in answer.supplied]
        result.sources = [c.source for c in answer.supplied]
        result.ungrounded_terms = ungrounded_terms(answer.answer, result.contexts, answer.refused)
        self._score_facts_and_retrieval(case, result)
        if not answer.refused:
            citations = check_answer_citations(answer)
            result.citation_valid = citations.valid
            result.dangling_citations = citations.dangling
            result.statements = citations.statements
            result.cited_statements = citations.cited_statements
        # A case that must be refused but was answered, raw or shown, is where invented answers
        # live: judge it.
        judged = suite.is_judged(case.id) or case.must_refuse
        wrote = bool(answer.raw_answer) and bool(result.contexts)
        if judged and wrote:
            result.judged = True
            result.faithfulness_raw, _ = self.faithfulness(
                case.question, answer.raw_answer, result.contexts
            )
            if not answer.refused:
                result.faithfulness, result.faithfulness_verdicts = self.faithfulness(
                    case.question, answer.answer, result.contexts
                )
                result.answer_relevancy = self._relevancy(case, answer.answer, suite)
                if suite.llm_context_metrics and case.reference_answer and not case.must_refuse:
                    self._llm_context_metrics(case, result)
        self._score_modes(case, answer, result)

    def _kit_and_score(self, case: GoldenCase, request: KitRequest, result: CaseResult) -> None:
        """A request for interview questions, answered as `ask`, `chat` and the app answer it:
        by the kit writer. The kit is scored with the kit metrics (its signals judged by this
        run's judge) and, as an answer, on the case's key facts and retrieval."""
        kit = kit_writer_for(self.services, request).run()
        scores = score_kit(
            kit, self.services.embed_model.get_text_embedding_batch, self.kit_verifier()
        )
        self.case_kits.append(scores)
        result.kit = True
        result.answer = result.raw_answer = kit.to_markdown()
        result.refused = not kit.questions
        result.contexts = [q.source.text for q in kit.questions]
        result.sources = [q.source.source for q in kit.questions]
        result.ungrounded_terms = scores.ungrounded_terms
        self._score_facts_and_retrieval(case, result)

    def _score_facts_and_retrieval(self, case: GoldenCase, result: CaseResult) -> None:
        """Key facts in what is shown, and what retrieval found (answerable cases only)."""
        if case.must_refuse:
            return
        result.key_fact_recall = key_fact_recall(result.answer, case.key_facts)
        top = retrieve(case.question, self.services, HIT_K).passages
        result.hit_at_5 = retrieval_hit(top, case, HIT_K)
        result.context_recall, result.context_precision = _run(
            score_contexts(case, result.contexts)
        )

    def _score_modes(self, case: GoldenCase, answer: Answer, result: CaseResult) -> None:
        """Both display modes from the same raw answer and verdicts: which one to ship."""
        if not answer.raw_answer:  # refused before anything was generated: the same in both
            for mode in ("drop", "mark"):
                result.modes[mode] = {
                    "refused": True,
                    "key_fact_recall": None if case.must_refuse else result.key_fact_recall,
                    "citation_valid": None,
                    "faithfulness": None,
                }
            return
        if not answer.verified.get("checked"):
            return
        if answer.verified.get("quoted"):  # cells quoted word for word: nothing to drop or mark
            for mode in ("drop", "mark"):
                result.modes[mode] = {
                    "refused": False,
                    "key_fact_recall": result.key_fact_recall,
                    "citation_valid": result.citation_valid,
                    "faithfulness": result.faithfulness,
                }
            return
        grounding = grounding_from_json(answer.raw_answer, answer.grounding)
        modes: tuple[Literal["drop", "mark"], ...] = ("drop", "mark")
        for mode in modes:
            text, count = displayed_answer(answer.raw_answer, grounding, mode)
            refused = count == 0
            shown = text if not refused else ""
            faithful = None
            if result.judged and not refused:
                faithful, _ = self.faithfulness(case.question, shown, result.contexts)
            shown_answer = replace(answer, answer=shown, refused=refused)
            result.modes[mode] = {
                "refused": refused,
                "key_fact_recall": None
                if case.must_refuse
                else key_fact_recall(shown, case.key_facts),
                "citation_valid": None if refused else check_answer_citations(shown_answer).valid,
                "faithfulness": faithful,
            }

    def _relevancy(self, case: GoldenCase, answer: str, suite: Suite) -> float:
        from ragas.metrics.collections import AnswerRelevancy

        metric = AnswerRelevancy(
            llm=self.judge,
            embeddings=self.embeddings,
            strictness=suite.relevancy_questions,
        )
        return float(_run(metric.ascore(user_input=case.question, response=answer)).value)

    def _llm_context_metrics(self, case: GoldenCase, result: CaseResult) -> None:
        from ragas.metrics.collections import ContextPrecisionWithReference, ContextRecall

        precision = ContextPrecisionWithReference(llm=self.judge)
        recall = ContextRecall(llm=self.judge)
        result.llm_context_precision = float(
            _run(
                precision.ascore(
                    user_input=case.question,
                    reference=case.reference_answer,
                    retrieved_contexts=result.contexts,
                )
            ).value
        )
        result.llm_context_recall = float(
            _run(
                recall.ascore(
                    user_input=case.question,
                    retrieved_contexts=result.contexts,
                    reference=case.reference_answer,
                )
            ).value
        )

    def score_control(self, control: ControlAnswer) -> ControlResult:
        """Faithfulness of a planted answer against its planted contexts."""
        value, verdicts = self.faithfulness(control.question, control.answer, control.contexts)
        return ControlResult(
            id=control.id,
            expected=control.expected,
            faithfulness=math.nan if value is None else value,
            verdicts=verdicts,
        )

    def calibrate_judge(self, items: list[CalibrationItem]) -> dict[str, Any]:
        """The judge against hand labels on the calibration test half, at the threshold chosen
        on the dev half (LODESTAR_EVAL__JUDGE_THRESHOLD): the judge's out-of-sample accuracy."""
        from lodestar.evaluation.calibration import calibrate, statement_scorer

        test = [item for item in items if item.split == "test"]
        report = calibrate(
            test,
            statement_scorer(self.faithfulness_metric),
            judge="",
            method="statement",
            threshold=self.services.settings.eval.judge_threshold,
        )
        figures = report.split_figures().get("test", {})
        return {**figures, "threshold": report.threshold, "seconds": round(report.seconds, 1)}

    def run(
        self,
        suite: Suite,
        cases: list[GoldenCase],
        controls: list[ControlAnswer],
        on_step: Callable[[str], None] = lambda _: None,
        calibration: list[CalibrationItem] | None = None,
        kits: Sequence[KitCase] = (),
    ) -> SuiteRun:
        """Every case, then every control, then the judge on the calibration test half, then
        the interview kits; `on_step` is told each one's id as it finishes."""
        started = time.perf_counter()
        self.case_kits.clear()
        results = []
        for case in cases:
            results.append(self.run_case(case, suite))
            on_step(case.id)
        control_results = []
        for control in controls:
            control_results.append(self.score_control(control))
            on_step(control.id)
        judge_figures = self.calibrate_judge(calibration) if calibration else None
        if calibration:
            on_step("judge calibration (test half)")
        kit_scores = self.case_kits + (
            evaluate_kits(
                self.services,
                kits,
                self.kit_verifier(),
                on_kit=lambda k: on_step(f"kit {k.role} ({k.level})"),
            )
            if kits
            else []  # no kit asked for: the judge is not built for them
        )
        dataset = EvaluationDataset(
            samples=[r.sample(c) for r, c in zip(results, cases, strict=True)]
        )
        return SuiteRun(
            suite=suite.name,
            generator=self.services.llm_id,
            judge="",
            cases=results,
            controls=control_results,
            seconds=time.perf_counter() - started,
            dataset=dataset,
            calibration=judge_figures,
            kits=kit_scores,
        )

    def kit_verifier(self) -> GroundingVerifier:
        """Checks a kit's signals with this run's judge, in the stand-alone design (not the
        writer's own chat, so the check is independent of the one that kept them). Signals are
        checked with `check_against`, which judges a signal copied from its passage too: the
        answer verifier's copy rule (`copied_verdict`) is not taken here."""
        return GroundingVerifier(
            judge_yes_no(self.judge),
            threshold=self.services.settings.eval.judge_threshold,
            design="statement",
            embed=self.services.embed_model.get_text_embedding_batch,
        )
