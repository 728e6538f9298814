"""Writing a planned kit, one question at a time, each checked before it is shown.

Per planned competency the model writes a question, 2-3 signals of a strong answer and a
follow-up under a JSON schema (on the local model, with the question's opening fixed by the
grammar). A reply is rejected (and written again, sampling a little, with a seed of its own)
when it does not validate, when its question or follow-up mentions the passage or names a
figure or name the passage lacks, or when its question rewords an earlier one (embedding
similarity; a repeat gives way to the plan's next competency). Its signals go
through the grounding check (the deterministic guard, then the yes/no verifier against the
passage); when fewer than `min_signals` survive, the rest are quoted from the passage
(`kits/signals.py`); only when it has too few clauses are the signals asked for again. A
question that fails all its attempts is skipped with a note; the others are kept.

The prompt starts with what every question of a kit shares (the system prompt with the role and
level) and ends with the passage, so llama.cpp reuses the shared prefix's KV cache; a signal's
check follows the question's own chat and costs only its own tokens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from pydantic import BaseModel, Field, field_validator

from lodestar.answering.engine import AnswerEngine, citation_for, format_passage
from lodestar.core.errors import LodestarError
from lodestar.core.prompts import render_prompt
from lodestar.drafting.structured import Rejected, parse_reply, response_format, sampling_for
from lodestar.grounding.verifier import Statement, guard_findings, missing_terms
from lodestar.interview.kit import InterviewKit, KitQuestion, SkippedQuestion, comparable_question
from lodestar.interview.plan import KitPlan, PlannedQuestion, plan_kit
from lodestar.interview.signals import MIN_SIGNAL_WORDS, quoted_from, quoted_signals

if TYPE_CHECKING:
    from lodestar.components.services import Services

KitEvent = KitQuestion | SkippedQuestion
# A question about the role in the third person ("What does a manager need?") is not one a
# panel can ask a candidate.
_YOU = re.compile(
    r"\b(you|your|yours|yourself)\b|^(describe|tell me|walk me|explain|give|share)\b",
    re.IGNORECASE,
)


class QuestionDraft(BaseModel):
    """One question as the model must produce it (short fields: fewer tokens to generate)."""

    question: str = Field(min_length=10, max_length=300)
    signals: list[str] = Field(min_length=2, max_length=3)
    follow_up: str = Field(min_length=5, max_length=300)

    @field_validator("question", "follow_up")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("signals")
    @classmethod
    def _clean_signals(cls, value: list[str]) -> list[str]:
        return _tidy_signals(value)


def _tidy_signals(value: list[str]) -> list[str]:
    return [" ".join(s.split()).rstrip(".;") for s in value]


# How a question to the candidate opens. Left free, the small model writes about "the Lead ML
# Engineer" in the third person about one time in five (more often on passages that quote a
# level's line), whatever the prompt says; where the backend enforces the schema (llama.cpp's
# grammar) every question is written under this opening instead. The rest of the question may
# not hold a quote or a backslash, so it cannot close the JSON string and carry the other fields
# inside it, out of the grammar's reach.
OPENINGS = (
    r"^(Tell me about a time you|Tell me about a time when you|Can you tell me about a time you"
    r"|How do you|How would you|How have you|Describe how you|Describe a time you"
    r"|Walk me through how you|What would you do|Give an example of how you)"
    r' [^"\\\n]+$'
)
# "…, as described in the passage?" (the prompt says never to mention it): cut such a tail.
_PASSAGE_TAIL = re.compile(
    r",?\s+(?:as (?:described|mentioned|stated|outlined|shown)|based on|according to)"
    r"(?: in)? the (?:passage|text)\b[^?.!]{0,60}(?=[?.!]?\s*$)",
    re.IGNORECASE,
)
_MENTIONS_PASSAGE = re.compile(r"\b(?:the|this|that) (?:passage|text)\b", re.IGNORECASE)


class AskedQuestionDraft(QuestionDraft):
    """A QuestionDraft whose question must open as one asked to the candidate."""

    question: str = Field(min_length=10, max_length=300, pattern=OPENINGS)


class SignalsDraft(BaseModel):
    """Signals alone, asked for again when only a question's signals failed their check."""

    signals: list[str] = Field(min_length=2, max_length=3)

    @field_validator("signals")
    @classmethod
    def _clean_signals(cls, value: list[str]) -> list[str]:
        return _tidy_signals(value)


class NotAsked(Rejected):
    """A question about the role in the third person, not one asked to the candidate."""


class Duplicate(Rejected):
    """A question rewording one the kit already has."""


class WeakSignals(Rejected):
    """A question that passed every check but its signals': only the signals are written again."""

    def __init__(
        self,
        reason: str,
        *,
        draft: QuestionDraft,
        vector: np.ndarray,
        messages: list[ChatMessage],
        reply: str,
    ) -> None:
        super().__init__(reason)
        self.draft = draft
        self.vector = vector
        self.messages = messages
        self.reply = reply


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
        self.engine = AnswerEngine(services)
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
        problems: list[str] = []  # what the next attempt is told
        noted: list[str] = []  # what the kit's note says went wrong
        weak: WeakSignals | None = None
        # constrain the question's opening where the backend enforces the schema, and elsewhere
        # on levelled passages (the likeliest to be asked about in the third person)
        asked = self.services.settings.llm.backend == "local" or planned.target is not None
        for attempt in range(1, self.cfg.max_attempts + 1):
            self.kit.attempts += 1
            sampling = sampling_for(self.services, attempt)  # a retry samples afresh
            try:
                if weak is not None:
                    question, vector = self._rewrite_signals(weak, planned, sampling)
                else:
                    question, vector = self._draft(
                        prompt, problems, planned, system, sampling, asked
                    )
            except Rejected as exc:
                problems.append(str(exc))
                noted.append(exc.problem.rstrip(" .;"))
                weak = exc if isinstance(exc, WeakSignals) else None
                asked = asked or isinstance(exc, NotAsked)
                if isinstance(exc, Duplicate):
                    # Rewritten, the small model repeated it again in 6 of 6 tries (four kits:
                    # the passage leads back to the same question): give way to the next one.
                    break
                continue
            self._question_vectors.append(vector)
            question.attempts = attempt
            question.rejected = problems
            question.seconds = round(self.clock() - started, 2)
            return question
        return SkippedQuestion(
            n=n,
            competency=planned.competency,
            reason=f"no valid question in {attempt} attempt{'s' if attempt > 1 else ''} ("
            + "; ".join(noted)
            + ")",
        )

    def _draft(
        self,
        prompt: str,
        problems: list[str],
        planned: PlannedQuestion,
        system: ChatMessage,
        sampling: dict[str, Any],
        asked: bool = False,
    ) -> tuple[KitQuestion, np.ndarray]:
        """Write the whole question (again, told why the last one was rejected); `asked`: with
        the question's opening constrained to one addressed to the candidate."""
        content = prompt
        if problems:  # appended after the passage, so the shared prefix is untouched
            # every reason so far: told only the last, the model fixed it and broke the first
            reasons = " ".join(dict.fromkeys(problems))
            content += "\n\n" + render_prompt("interview_retry", avoid=reasons)
        messages = [system, ChatMessage(role=MessageRole.USER, content=content)]
        model = AskedQuestionDraft if asked else QuestionDraft
        reply = self.engine.chat_text(
            messages,
            response_format=response_format(self.services, model, name="interview_question"),
            max_tokens=self.cfg.max_tokens,
            **sampling,
        )
        draft: QuestionDraft = _without_passage_tail(parse_reply(model, reply))
        vector = self._check_question(draft, planned)
        return self._with_signals(draft, vector, planned, messages, reply), vector

    def _rewrite_signals(
        self, weak: WeakSignals, planned: PlannedQuestion, sampling: dict[str, Any]
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
        reply = self.engine.chat_text(
            messages,
            response_format=response_format(self.services, SignalsDraft, name="interview_signals"),
            max_tokens=self.cfg.max_tokens // 2,
            **sampling,
        )
        signals = parse_reply(SignalsDraft, reply).signals
        draft = weak.draft.model_copy(update={"signals": signals})
        # Checked in the question's own chat, as the first signals were.
        return self._with_signals(
            draft, weak.vector, planned, weak.messages, weak.reply
        ), weak.vector

    def _check_question(self, draft: QuestionDraft, planned: PlannedQuestion) -> np.ndarray:
        """Reject a question not asked to the candidate, naming what the passage does not, or
        rewording an earlier one; its embedding otherwise."""
        if not _YOU.search(draft.question):
            raise NotAsked('the question must be asked to the candidate, as "you".')
        for name, text in (("question", draft.question), ("follow_up", draft.follow_up)):
            if _MENTIONS_PASSAGE.search(text):
                raise Rejected(
                    f"the {name} mentions the passage", "ask about what it describes instead."
                )
        allowed = "\n".join(
            [planned.passage.location, planned.context, self.kit.role, self.kit.level]
        )
        for name, text in (("question", draft.question), ("follow_up", draft.follow_up)):
            missing = missing_terms(text, allowed)
            if missing:
                raise Rejected(
                    f"the {name} names {', '.join(missing)}, which the passage does not mention."
                )
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
        signals = self._supported_signals(draft.signals, planned, messages)
        quoted = quoted_signals(
            vector,
            _signal_context(planned),
            signals,
            self.cfg.min_signals - len(signals),
            self.services.embed_model.get_text_embedding_batch,
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
        self, signals: list[str], planned: PlannedQuestion, messages: list[ChatMessage]
    ) -> list[str]:
        """The signals the guard and the verifier find in the passage (the asked level's line,
        when the passage describes levels), in order, without repeats or one-word ones."""
        context = f"{planned.passage.location}\n{_signal_context(planned)}"
        verifier = self.engine.verifier()
        kept: list[str] = []
        for signal in dict.fromkeys(signals):
            if len(signal.split()) < MIN_SIGNAL_WORDS or guard_findings(signal, context):
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


def _without_passage_tail(draft: QuestionDraft) -> QuestionDraft:
    """The draft without a closing "…, as described in the passage" in its question or follow-up
    (the rest is kept; a mention elsewhere is rejected by `_check_question`)."""
    update = {}
    for name in ("question", "follow_up"):
        text = getattr(draft, name)
        cut = _PASSAGE_TAIL.sub("", text).strip()
        if cut != text and len(cut) >= 10:
            update[name] = cut if cut[-1] in "?.!" else cut + "?"
    return draft.model_copy(update=update) if update else draft


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (float(np.linalg.norm(vector)) + 1e-12)
