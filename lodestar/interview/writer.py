"""Writing a planned kit, one question at a time, each checked before it is shown.

Per planned competency the model writes a question, 2-3 signals of a strong answer and a
follow-up under a JSON schema (on the local model, with the question's opening fixed by the
grammar). A reply is rejected (and written again, sampling a little, with a seed of its own)
when it does not validate, when its question or follow-up mentions the passage or names a
figure or name the passage lacks, or when its question rewords an earlier one (embedding
similarity; a repeat gives way to the plan's next competency). Its signals go
through the grounding check (the deterministic guard, then the yes/no verifier against the
passage); when fewer than `min_signals` survive, the rest are quoted from the passage
(`interview/signals.py`); only when it has too few clauses are the signals asked for again. A
question that fails all its attempts is skipped with a note; the others are kept.

The prompt starts with what every question of a kit shares (the system prompt with the role and
level) and ends with the passage, so llama.cpp reuses the shared prefix's KV cache; a signal's
check follows the question's own chat and costs only its own tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from lodestar.answering.citations import citation_for
from lodestar.answering.context import format_passage
from lodestar.core.errors import LodestarError
from lodestar.core.prompts import render_prompt
from lodestar.drafting.rejections import Rejected
from lodestar.drafting.retry import Drafter, first_accepted, with_retry_note
from lodestar.grounding.guard import guard_findings
from lodestar.grounding.statements import Statement
from lodestar.interview.drafts import (
    AskedQuestionDraft,
    Duplicate,
    NotAsked,
    QuestionDraft,
    SignalsDraft,
    WeakSignals,
    check_wording,
    without_passage_tail,
)
from lodestar.interview.kit import InterviewKit, KitQuestion, SkippedQuestion, comparable_question
from lodestar.interview.plan import KitPlan, PlannedQuestion, plan_kit
from lodestar.interview.signals import MIN_SIGNAL_WORDS, adds_to, quoted_from, quoted_signals

if TYPE_CHECKING:
    from lodestar.components.services import Services

KitEvent = KitQuestion | SkippedQuestion


class KitWriter:
    """Plans a kit, then yields each question as it validates; `kit` always holds what was made.

    Iterate it to stream (CLI, app); an exception or Ctrl-C leaves the questions made so far in
    `kit`, for the caller to write out.
    """

    def __init__(
        self,
        services: Services,
        role: str,
        level: str,
        count: int = 8,
        clock: Callable[[], float] = time.perf_counter,
        area: str | None = None,
    ) -> None:
        if not 1 <= count <= 20:
            raise LodestarError("count must be between 1 and 20")
        self.services = services
        self.drafter = Drafter(services)
        self.cfg = services.settings.interview
        self.clock = clock
        self.started = clock()
        self.plan: KitPlan = plan_kit(
            services, role, level, count, reserve=self.cfg.reserve, area=area
        )
        self.kit = InterviewKit(
            role=self.plan.role,
            level=self.plan.level,
            asked=count,
            backend=services.settings.llm.backend,
            model=services.llm_id,
            notes=list(self.plan.notes),
        )
        self._question_vectors: list[np.ndarray] = []
        # Told the place in line while a question waits for the model (Services.model_turn).
        self.on_wait: Callable[[int], None] | None = None

    def __iter__(self) -> Iterator[KitEvent]:
        system = ChatMessage(
            role=MessageRole.SYSTEM,
            content=render_prompt("interview_system", role=self.kit.role, level=self.kit.level),
        )
        queue = list(self.plan.questions)
        reserve = list(self.plan.reserve)
        n = 0
        while queue:
            planned = queue.pop(0)
            n += 1
            with self.services.model_turn("kit question", self.on_wait):
                event = self._write(n, planned, system)
            if isinstance(event, SkippedQuestion) and reserve:
                queue.append(reserve.pop(0))
                event.replaced_by = queue[-1].competency
            self.kit.seconds = round(self.clock() - self.started, 2)
            if isinstance(event, KitQuestion):
                event.source.n = self.kit.made + 1
                self.kit.questions.append(event)
                if self.kit.first_question_s is None:
                    self.kit.first_question_s = self.kit.seconds
            else:
                self.kit.notes.append(event.note)
            yield event

    def run(self) -> InterviewKit:
        """Write the whole kit."""
        for _ in self:
            pass
        return self.kit

    def _write(self, n: int, planned: PlannedQuestion, system: ChatMessage) -> KitEvent:
        started = self.clock()
        prompt = render_prompt(
            "interview",
            context=format_passage(1, planned.passage, planned.context),
            level=self.kit.level,
            role=self.kit.role,
            focus=_focus(planned, self.kit.level),
        )
        # constrain the question's opening where the backend enforces the schema, and elsewhere
        # on levelled passages (the likeliest to be asked about in the third person)
        asked = self.services.settings.llm.backend == "local" or planned.target is not None

        def attempt(number: int, rejections: Sequence[Rejected]) -> tuple[KitQuestion, np.ndarray]:
            self.kit.attempts += 1
            if rejections and isinstance(rejections[-1], WeakSignals):
                return self._rewrite_signals(rejections[-1], planned, number)
            constrained = asked or any(isinstance(r, NotAsked) for r in rejections)
            return self._draft(prompt, rejections, planned, system, number, constrained)

        attempts = first_accepted(attempt, self.cfg.max_attempts)
        if attempts.result is None:
            made = attempts.made
            return SkippedQuestion(
                n=n,
                competency=planned.competency,
                reason=f"no valid question in {made} attempt{'s' if made > 1 else ''} ("
                + "; ".join(r.problem.rstrip(" .;") for r in attempts.rejections)
                + ")",
            )
        question, vector = attempts.result
        self._question_vectors.append(vector)
        question.attempts = attempts.made
        question.rejected = attempts.problems
        question.seconds = round(self.clock() - started, 2)
        return question

    def _draft(
        self,
        prompt: str,
        rejections: Sequence[Rejected],
        planned: PlannedQuestion,
        system: ChatMessage,
        attempt: int,
        asked: bool = False,
    ) -> tuple[KitQuestion, np.ndarray]:
        """Write the whole question (again, told why the last ones were rejected); `asked`: with
        the question's opening constrained to one addressed to the candidate."""
        content = with_retry_note(prompt, rejections)  # after the passage: shared prefix intact
        messages = [system, ChatMessage(role=MessageRole.USER, content=content)]
        model = AskedQuestionDraft if asked else QuestionDraft
        parsed, reply = self.drafter.draft(
            messages,
            model,
            name="interview_question",
            max_tokens=self.cfg.max_tokens,
            attempt=attempt,
        )
        draft: QuestionDraft = without_passage_tail(parsed)
        vector = self._check_question(draft, planned)
        return self._with_signals(draft, vector, planned, messages, reply), vector

    def _rewrite_signals(
        self, weak: WeakSignals, planned: PlannedQuestion, attempt: int
    ) -> tuple[KitQuestion, np.ndarray]:
        """Keep a question whose only fault was its signals and ask for the signals alone: a
        reply a third as long, in the same chat (its prefix is still in llama.cpp's cache)."""
        messages = [
            *weak.messages,
            ChatMessage(role=MessageRole.ASSISTANT, content=weak.reply),
            ChatMessage(
                role=MessageRole.USER, content=render_prompt("interview_signals", avoid=str(weak))
            ),
        ]
        parsed, _ = self.drafter.draft(
            messages,
            SignalsDraft,
            name="interview_signals",
            max_tokens=self.cfg.max_tokens // 2,
            attempt=attempt,
        )
        draft = weak.draft.model_copy(update={"signals": parsed.signals})
        # Checked in the question's own chat, as the first signals were.
        return self._with_signals(
            draft, weak.vector, planned, weak.messages, weak.reply
        ), weak.vector

    def _check_question(self, draft: QuestionDraft, planned: PlannedQuestion) -> np.ndarray:
        """Reject a question not asked to the candidate, naming what the passage does not, or
        rewording an earlier one; its embedding otherwise."""
        allowed = "\n".join(
            [planned.passage.location, planned.context, self.kit.role, self.kit.level]
        )
        check_wording(draft, allowed)
        vector = _unit(
            np.asarray(
                self.services.embed_question(comparable_question(draft.question, self.kit.role))
            )
        )
        for earlier, seen in zip(self.kit.questions, self._question_vectors, strict=True):
            if float(vector @ seen) >= self.cfg.duplicate_similarity:
                raise Duplicate(
                    f'the question repeats an earlier one ("{earlier.question}")',
                    f"ask about {planned.competency} instead.",
                )
        return vector

    def _with_signals(
        self,
        draft: QuestionDraft,
        vector: np.ndarray,
        planned: PlannedQuestion,
        messages: list[ChatMessage],
        reply: str,
    ) -> KitQuestion:
        signals = self._supported_signals(draft, planned, messages)
        quoted = quoted_signals(
            vector,
            _signal_context(planned),
            signals,
            self.cfg.min_signals - len(signals),
            self.services.embed_model.get_text_embedding_batch,
            asked=draft.question,
        )
        signals += quoted
        if len(signals) < self.cfg.min_signals:
            dropped = "; ".join(f'"{s}"' for s in draft.signals if s not in signals)
            raise WeakSignals(
                f"only {len(signals)} of its signals are stated in the passage (not {dropped}).",
                draft=draft,
                vector=vector,
                messages=messages,
                reply=reply,
            )
        return KitQuestion(
            question=draft.question,
            competency=planned.competency,
            level=self.kit.level,
            signals=signals,
            signals_quoted=len(quoted),
            follow_up=draft.follow_up,
            source=citation_for(1, planned.passage),
            below=planned.below.text if planned.below else None,
            below_level=planned.below.level if planned.below else None,
        )

    def _supported_signals(
        self, draft: QuestionDraft, planned: PlannedQuestion, messages: list[ChatMessage]
    ) -> list[str]:
        """The signals the guard and the verifier find in the passage (the asked level's line,
        when the passage describes levels), in order, without repeats, one-word ones or ones
        that only say the question back."""
        context = f"{planned.passage.location}\n{_signal_context(planned)}"
        verifier = self.drafter.verifier
        kept: list[str] = []
        for signal in dict.fromkeys(draft.signals):
            if len(signal.split()) < MIN_SIGNAL_WORDS or guard_findings(signal, context):
                continue
            if not adds_to(draft.question, signal):
                continue
            if quoted_from(signal, context):  # the passage's own words: no model call needed
                kept.append(signal)
                continue
            verdict = verifier.check_against(
                Statement(text=signal, cites=[1]), [1], [context], messages
            )
            if verdict.supported:
                kept.append(signal)
        return kept


def build_interview_kit(
    services: Services,
    role: str,
    level: str,
    count: int = 8,
    on_question: Callable[[KitEvent], None] | None = None,
    area: str | None = None,
) -> InterviewKit:
    """Plan the kit and write it; `on_question` sees each question (or skip) as it is done."""
    writer = KitWriter(services, role, level, count, area=area)
    for event in writer:
        if on_question:
            on_question(event)
    return writer.kit


def _focus(planned: PlannedQuestion, level: str) -> str:
    if planned.target is None:
        return ""
    return render_prompt("interview_level", level=level, target=planned.target.text)


def _signal_context(planned: PlannedQuestion) -> str:
    """What a question's signals must come from: the asked level's line when the passage
    describes levels, the passage otherwise."""
    return planned.target.text if planned.target else planned.context


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (float(np.linalg.norm(vector)) + 1e-12)
