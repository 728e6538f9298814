"""Grounding: every statement of an answer checked against the passages it cites.

One module below both the answer engine and the evaluation: the statement splitter, the
name/number guard, the evidence line and the yes/no judgement live here.

A statement is checked in two steps. The deterministic guard comes first: a figure or a name that
its passages never mention makes it unsupported, whatever a model would say. Then the model is
asked whether the passage supports it, and its probability of "yes" is compared with a calibrated
threshold (`eval/judge_calibration.jsonl`, dev half; see `lodestar eval --calibrate`).

Two designs of that question exist; `lodestar eval --calibrate --design` measures both:

- `context`: the question follows the answer in the answer's own chat (same system prompt, same
  passages), so llama.cpp reuses its KV cache and a statement costs only its own tokens;
- `statement`: a separate fact-checking prompt with only the cited passages and the passage line
  most similar to the statement pointed out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from lodestar.core.errors import GenerationError
from lodestar.core.prompts import render_prompt

Design = Literal["context", "statement"]
Embed = Callable[[list[str]], Sequence[Sequence[float]]]

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\[(\"'A-Z0-9$])")
_NOT_A_CLAIM = re.compile(
    r"knowledge base does not cover|(does not|doesn't|do not|don't) (cover|contain|mention|say|"
    r"provide|include)|no information|^(here are|in summary|to summari[sz]e|sources?:)",
    re.IGNORECASE,
)
MIN_CLAIM_WORDS = 4
# Markdown emphasis and code marks, and enumeration labels ("**Question 2**:", "Step 3."): layout,
# not claims, so the guard must not read "Compare" in "**Compare …**" as a name or "2" as a figure.
_EMPHASIS = re.compile(r"(\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w))")
_LABEL = re.compile(
    r"^(?:question|step|tip|point|option|idea|area|priority)\s*\d+\s*[:.)-]\s*", re.IGNORECASE
)
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        [
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ],
        start=2,
    )
} | {"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100"}
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
# A capitalised word that does not start a sentence: a name, tool, company, place or title.
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][A-Za-z0-9+&-]{2,}")


@dataclass
class Statement:
    """One sentence of an answer and the passages it cites (1-based)."""

    text: str
    cites: list[int] = field(default_factory=list)
    line: int = 0  # the answer line it came from, to put a checked answer back together
    written: str = ""  # the sentence as written, citations where the model put them


def _citation_numbers(text: str) -> list[int]:
    """The passage numbers a text cites, in order, repeats kept ("[1] … [2, 3]": 1, 2, 3)."""
    return [int(n) for group in _CITATION.findall(text) for n in group.split(",")]


def split_statements(answer: str, min_words: int = MIN_CLAIM_WORDS) -> list[Statement]:
    """The answer's checkable sentences, citations lifted out; intros, refusals and fragments
    (fewer than `min_words` words) dropped. The same answer always gives the same statements."""
    statements: list[Statement] = []
    for number, raw in enumerate(answer.splitlines()):
        line = _BULLET.sub("", raw).strip()
        if not line or line.endswith(":"):
            continue
        in_line: list[Statement] = []
        line = _LABEL.sub("", _EMPHASIS.sub("", line)).strip()
        for sentence in _SENTENCE_END.split(line):
            cites = _citation_numbers(sentence)
            text = re.sub(r"\s+([.,;:])", r"\1", _CITATION.sub("", sentence)).strip()
            if not re.search(r"[A-Za-z0-9]", text):
                # "… teams. [2]": the citation belongs to the sentence before
                if in_line and cites:
                    in_line[-1].cites.extend(c for c in cites if c not in in_line[-1].cites)
                continue
            if len(text.split()) < min_words or _NOT_A_CLAIM.search(text):
                continue
            written = re.sub(r"\s+([.,;:])", r"\1", sentence).strip()
            in_line.append(
                Statement(text=text, cites=list(dict.fromkeys(cites)), line=number, written=written)
            )
        # Our answers are bullets that end with their citation: it covers the bullet's sentences.
        closing = in_line[-1].cites if in_line else []
        for statement in in_line:
            statement.cites = statement.cites or list(closing)
        statements.extend(in_line)
    return statements


def missing_terms(statement: str, context: str) -> list[str]:
    """Numbers and names in the statement that the context never mentions.

    A statement with one cannot be supported by the context, whatever the judge says: the small
    judge once accepted "the ML Engineering Manager profile requires experience with Snowflake"
    against passages that never name Snowflake. Short all-capital abbreviations (ML, AI, US) are
    left to the judge, since the context may spell them out.
    """
    flat = context.lower()
    numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(context)}
    missing = [
        n for n in _NUMBER.findall(statement) if n.replace(",", "").rstrip(".") not in numbers
    ]
    # Figures written as words ("two groups of three") are figures too: the word or its digits.
    for match in _NUMBER_WORD.finditer(statement):
        word = match.group(0).lower()
        if not re.search(rf"\b{word}\b", flat) and _NUMBER_WORDS[word] not in numbers:
            missing.append(match.group(0))
    for name in _NAME.findall(statement):
        if name.isupper() and len(name) <= 3:
            continue
        word = name.lower()
        if word not in flat and word.rstrip("s") not in flat:
            missing.append(name)
    return missing


# Quantifiers a small judge reads past: "all" where the passage says "many" is the commonest
# unsupported statement it accepts (eval/judge_calibration.jsonl, dev half). Words in one group
# stand for each other.
_QUANTIFIERS = (
    ("all", "every", "each"),
    ("always",),
    ("never",),
    ("none",),
    ("only",),
    ("highest",),
    ("lowest",),
    ("at least",),
    ("any",),
)


def missing_quantifiers(statement: str, context: str) -> list[str]:
    """Quantifiers ("all", "only", "at least", …) in the statement that the context never uses."""

    def uses(text: str, words: Sequence[str]) -> bool:
        return any(re.search(rf"\b{word}\b", text, re.IGNORECASE) for word in words)

    return [
        f"'{group[0]}'"
        for group in _QUANTIFIERS
        if uses(statement, group) and not uses(context, group)
    ]


def guard_findings(statement: str, context: str) -> list[str]:
    """Why the statement cannot be supported by the context, deterministically (empty: no
    reason found, the judge decides)."""
    return [*missing_terms(statement, context), *missing_quantifiers(statement, context)]


def context_lines(context: str) -> list[str]:
    """The context's lines and sentences, list markers removed: the evidence candidates."""
    lines: list[str] = []
    for line in context.splitlines():
        line = _BULLET.sub("", line).strip().lstrip("#").strip()
        if line:
            lines.extend(part for part in _SENTENCE_END.split(line) if part.strip())
    return lines


def _most_similar(statement: str, texts: Sequence[str], embed: Embed) -> int:
    """Index of the text most similar to the statement (cosine of the embedder's vectors)."""
    vectors = np.asarray(embed([statement, *texts]), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1) + 1e-12
    return int(((vectors[1:] @ vectors[0]) / (norms[1:] * norms[0])).argmax())


def evidence_line(statement: str, context: str, embed: Embed) -> str:
    """The context line most similar to the statement (by the embedder)."""
    lines = context_lines(context)
    if len(lines) <= 1:
        return lines[0] if lines else context
    return lines[_most_similar(statement, lines, embed)]


def closest_passage(statement: str, passages: Sequence[str], embed: Embed) -> int:
    """The number (1-based) of the passage most similar to the statement."""
    return _most_similar(statement, passages, embed) + 1


def statement_messages(statement: str, context: str, evidence: str) -> list[ChatMessage]:
    """The stand-alone fact-checking prompt (design `statement`)."""
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=render_prompt("judge_system")),
        ChatMessage(
            role=MessageRole.USER,
            content=render_prompt(
                "judge_statement", context=context.strip(), evidence=evidence, statement=statement
            ),
        ),
    ]


def in_context_messages(
    answer_messages: Sequence[ChatMessage],
    statement: str,
    cites: Sequence[int],
    evidence: str = "",
) -> list[ChatMessage]:
    """The check as a follow-up to the answer prompt (design `context`): llama.cpp reuses the
    prompt it has already read, so a check costs only its own tokens.

    The answer itself is not repeated: asked about its own words, the model agreed with nearly
    everything (P(yes) 0.70-0.88 on every kind of calibration item).
    """
    return [
        *answer_messages,
        ChatMessage(
            role=MessageRole.USER,
            content=render_prompt(
                "verify_statement", statement=statement, where=_cited(cites), evidence=evidence
            ),
        ),
    ]


def _cited(cites: Sequence[int]) -> str:
    return ", ".join(f"[{n}]" for n in cites) if cites else "the passages"


def answerability_messages(
    answer_messages: Sequence[ChatMessage], question: str
) -> list[ChatMessage]:
    """ "Do these passages answer the question?", asked after the prompt the model has read."""
    return [
        *answer_messages,
        ChatMessage(role=MessageRole.USER, content=render_prompt("answerable", question=question)),
    ]


class YesNoJudge(Protocol):
    """Anything that gives P("yes") for a chat that ends in a yes/no question."""

    def __call__(self, messages: Sequence[ChatMessage]) -> float: ...


def yes_no_judge(llm: Any) -> YesNoJudge:
    """P(yes) from the configured LLM: read from the logits for the local model, and from a
    one-word greedy reply (1.0 or 0.0) for remote ones, which expose no logits through
    llama-index's chat interface."""
    scorer = getattr(llm, "yes_probability", None)
    if callable(scorer):
        return scorer

    def reply_judge(messages: Sequence[ChatMessage]) -> float:
        reply = llm.chat(list(messages), max_tokens=3, temperature=0.0).message.content or ""
        word = reply.strip().strip(".!\"'").lower()
        if word.startswith("yes"):
            return 1.0
        if word.startswith("no"):
            return 0.0
        raise GenerationError(
            f"the model replied {reply[:60]!r} to a yes/no check, not yes or no",
            hint="the verifier needs a model that follows short instructions; or set "
            "LODESTAR_ANSWER__VERIFY=false",
        )

    return reply_judge


@dataclass
class Verdict:
    """What the verifier decided about one statement."""

    statement: str
    cites: list[int]
    supported: bool
    score: float | None
    reason: str
    guard: bool = False  # unsupported by the deterministic guard (a figure or name missing)
    line: int = 0
    written: str = ""  # the sentence as written (Statement.written), to show it as it was

    def to_json(self) -> dict[str, Any]:
        """Plain data for `ask --json` (`line` and `written` are internal)."""
        data = asdict(self)
        data.pop("line")
        data.pop("written")
        return data


@dataclass
class Grounding:
    """Every statement's verdict, or the error that stopped the check."""

    verdicts: list[Verdict]
    ms: float = 0.0
    error: str | None = None

    @property
    def supported(self) -> int:
        """Statements found supported."""
        return sum(v.supported for v in self.verdicts)

    @property
    def verified(self) -> bool:
        """True only when the check ran to the end and every statement is supported."""
        return self.error is None and bool(self.verdicts) and self.supported == len(self.verdicts)

    def summary(self, shown: int | None = None) -> dict[str, Any]:
        """The `verified` block of `ask --json`."""
        return {
            "checked": self.error is None,
            "statements": len(self.verdicts),
            "supported": self.supported,
            "shown": shown,
            "verified": self.verified,
            "error": self.error,
            "ms": round(self.ms, 1),
        }


class GroundingVerifier:
    """Checks an answer's statements against its passages with a yes/no judge and the guard."""

    def __init__(
        self,
        judge: YesNoJudge,
        *,
        threshold: float,
        design: Design = "context",
        embed: Embed | None = None,
        min_words: int = 1,
    ) -> None:
        self.judge = judge
        self.threshold = threshold
        self.design = design
        self.embed = embed
        self.min_words = min_words

    def check(
        self,
        statement: Statement,
        passages: Sequence[str],
        *,
        answer_messages: Sequence[ChatMessage] = (),
    ) -> Verdict:
        """One statement against the passages it cites.

        An uncited statement is checked against the passage most like it. A statement whose
        figures or names its passage lacks is checked once more against the most similar other
        passage that holds all of them (small models often cite the neighbouring passage); if
        that one supports it, the citation is corrected. Every statement shown
        then carries a citation that was checked.
        """
        cites = [n for n in statement.cites if 1 <= n <= len(passages)]
        if not cites and self.embed is None:
            return self.check_against(statement, [], passages, answer_messages)
        if not cites:
            first = self.check_against(
                statement, [self._closest(statement.text, passages)], passages, answer_messages
            )
            first.reason += ", citation added" if first.supported else ""
        else:
            first = self.check_against(statement, cites, passages, answer_messages)
        # Only a statement whose figures or names are missing from its passage gets a second
        # passage: a second chance for what the judge rejected would double its false accepts
        # (it accepted an invented on-call rota that way).
        if first.supported or not first.guard or self.embed is None:
            return first
        others = [
            n
            for n in range(1, len(passages) + 1)
            if n not in first.cites and not guard_findings(statement.text, passages[n - 1])
        ]
        if not others:
            return first
        k = others[self._closest(statement.text, [passages[n - 1] for n in others]) - 1]
        second = self.check_against(statement, [k], passages, answer_messages)
        if not second.supported:
            return first
        second.reason += f", citation {_cited(first.cites)} corrected to [{k}]"
        return second

    def _closest(self, statement: str, passages: Sequence[str]) -> int:
        assert self.embed is not None
        return closest_passage(statement, passages, self.embed)

    def check_against(
        self,
        statement: Statement,
        cites: list[int],
        passages: Sequence[str],
        answer_messages: Sequence[ChatMessage],
    ) -> Verdict:
        """The guard, then the judge, against the passages `cites` (all of them when empty)."""
        context = "\n\n".join(passages[n - 1] for n in cites) if cites else "\n\n".join(passages)
        where = _cited(cites) if cites else "any passage"
        missing = guard_findings(statement.text, context)
        if missing:
            return Verdict(
                statement=statement.text,
                cites=cites,
                supported=False,
                score=0.0,
                reason=f"{', '.join(dict.fromkeys(missing))} not in {where}",
                guard=True,
                line=statement.line,
                written=statement.written,
            )
        if statement.text.rstrip().endswith("?"):
            # A question (an interview kit's, say) claims nothing for the judge to check; the
            # guard above has already checked its figures and names against the passage.
            return Verdict(
                statement=statement.text,
                cites=cites,
                supported=True,
                score=None,
                reason=f"a question: its figures and names are in {where}",
                line=statement.line,
                written=statement.written,
            )
        evidence = evidence_line(statement.text, context, self.embed) if self.embed else ""
        if self.design == "context":
            messages = in_context_messages(answer_messages, statement.text, cites, evidence)
        else:
            messages = statement_messages(statement.text, context, evidence)
        score = float(self.judge(messages))
        supported = score >= self.threshold
        verb = "supported by" if supported else "not supported by"
        return Verdict(
            statement=statement.text,
            cites=cites,
            supported=supported,
            score=round(score, 4),
            reason=f"{verb} {where} (P(yes) {score:.2f}, threshold {self.threshold:g})",
            line=statement.line,
            written=statement.written,
        )

    def verify(
        self,
        answer: str,
        passages: Sequence[str],
        answer_messages: Sequence[ChatMessage] = (),
    ) -> Grounding:
        """Every statement of `answer`; an exception becomes `error`, never a verified result."""
        started = time.perf_counter()
        verdicts: list[Verdict] = []
        try:
            for statement in split_statements(answer, self.min_words):
                verdicts.append(self.check(statement, passages, answer_messages=answer_messages))
        except Exception as exc:  # reported on the result: an unchecked answer is never verified
            return Grounding(
                verdicts=verdicts,
                ms=(time.perf_counter() - started) * 1000,
                error=f"{type(exc).__name__}: {exc}",
            )
        return Grounding(verdicts=verdicts, ms=(time.perf_counter() - started) * 1000)


UNVERIFIED_MARK = "(unverified)"


def displayed_answer(
    answer: str, grounding: Grounding, mode: Literal["drop", "mark"]
) -> tuple[str, int]:
    """The answer as shown, and how many statements it shows.

    Statements the guard rejected (a figure or name no passage contains) are always removed:
    nothing shown may carry one. Statements the judge did not support are removed (`drop`) or
    kept with a mark (`mark`). Each line keeps its bullet; a kept statement keeps its citations.
    An intro line (ending in ':') is kept when a statement after it is; other lines without a
    statement (a refusal sentence) are not, since they would contradict the verified content.
    """
    if grounding.error is not None:
        return answer, len(split_statements(answer, 1))
    by_line: dict[int, list[Verdict]] = {}
    for verdict in grounding.verdicts:
        by_line.setdefault(verdict.line, []).append(verdict)
    out: list[str] = []
    shown = 0
    pending_intro: str | None = None
    for number, raw in enumerate(answer.splitlines()):
        if number not in by_line:
            stripped = raw.strip()
            if stripped.endswith(":") and not _CITATION.search(stripped):
                pending_intro = raw.rstrip()
            continue
        kept = []
        for verdict in by_line[number]:
            if verdict.supported:
                kept.append(_with_cites(verdict))
            elif mode == "mark" and not verdict.guard:
                kept.append(f"{_with_cites(verdict)} {UNVERIFIED_MARK}")
        if not kept:
            continue
        shown += len(kept)
        if pending_intro is not None:
            out.append(pending_intro)
            pending_intro = None
        bullet = _BULLET.match(raw)
        out.append((bullet.group(0) if bullet else "") + " ".join(kept))
    return "\n".join(out), shown


def _with_cites(verdict: Verdict) -> str:
    """The statement with its citations: where the model put them when they are still the
    statement's ("mentioned in [1] and [2]."), else before its closing punctuation ("… teams
    [2]."), as after a citation was corrected."""
    if not verdict.cites:
        return verdict.statement
    written = _citation_numbers(verdict.written)
    if written and sorted(set(written)) == sorted(verdict.cites):
        return " ".join(verdict.written.split())
    body = verdict.statement.rstrip()
    end = body[-1] if body[-1] in ".!?;" else ""
    body = body[: len(body) - len(end)].rstrip()
    return f"{body} {''.join(f'[{n}]' for n in verdict.cites)}{end}"


def grounding_from_json(answer: str, verdicts: Sequence[dict[str, Any]]) -> Grounding:
    """A Grounding back from `ask --json`'s `grounding` list and the raw answer it checked."""
    statements = split_statements(answer, 1)
    if len(statements) != len(verdicts):
        raise ValueError("the verdicts do not belong to this answer")
    return Grounding(
        verdicts=[
            Verdict(**{**v, "line": s.line, "written": s.written})
            for v, s in zip(verdicts, statements, strict=True)
        ]
    )


def ungrounded_terms(shown: str, passages: Sequence[str], refused: bool = False) -> list[str]:
    """Figures and names in a displayed answer that no supplied passage contains (must be none).

    A refusal's own text (the closest topics are document titles) is not an answer's claim.
    """
    if refused:
        return []
    context = "\n\n".join(passages)
    return [term for s in split_statements(shown, 1) for term in missing_terms(s.text, context)]
