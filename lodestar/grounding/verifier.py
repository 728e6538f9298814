"""The verifier: each statement of an answer checked by the guard, then by the yes/no judge, against
the passages it cites; the verdicts and the `verified` summary of `ask --json`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.types import ChatMessage

from lodestar.grounding.evidence import Embed, closest_passage, evidence_line
from lodestar.grounding.guard import guard_findings
from lodestar.grounding.judge import YesNoJudge, cited, in_context_messages, statement_messages
from lodestar.grounding.overlap import content_words, copied_run, copied_share
from lodestar.grounding.statements import Statement, split_statements

if TYPE_CHECKING:
    from lodestar.core.settings import AnswerSettings

Design = Literal["context", "statement"]


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
        trust_copies: bool = True,
    ) -> None:
        self.judge = judge
        self.trust_copies = trust_copies
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

        A statement that copies a passage's words in order, with every figure and name, is
        supported by that passage without a model call (`copied_verdict`); when it copies
        another passage than the one it cites, its citation is corrected.
        An uncited statement is checked against the passage most like it. A statement whose
        figures or names its passage lacks is checked once more against the most similar other
        passage that holds all of them (small models often cite the neighbouring passage); if
        that one supports it, the citation is corrected. Every statement shown
        then carries a citation that was checked.
        """
        cites = [n for n in statement.cites if 1 <= n <= len(passages)]
        copied = copied_verdict(statement, cites, passages) if self.trust_copies else None
        if copied is not None:
            return copied
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
        second.reason += f", citation {cited(first.cites)} corrected to [{k}]"
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
        where = cited(cites) if cites else "any passage"
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


# A copy shorter than this many content words ("Python [2]") is left to the judge.
MIN_COPIED_WORDS = 4
# Below this share of its words copied from its cited passage, a statement that copies another
# passage whole was cited on the wrong one.
MISCITED_BELOW = 0.5


def copied_verdict(
    statement: Statement, cites: list[int], passages: Sequence[str]
) -> Verdict | None:
    """Supported without the judge when the statement is a passage's own words: all its content
    words one unbroken run of the passage's, in order, and no figure or name missing. The cited
    passage first; another passage only when the cited ones share under half its words (the
    citation is then corrected). None when no passage is copied: the judge decides.

    Word overlap alone cannot decide support (an attribution swap reuses the passage's words:
    9 of 18 overlap-accepted items in the calibration set's dev half were unsupported); an
    unbroken, ordered copy of the whole statement accepted 4 dev and 1 test item, all supported.
    """
    if len(content_words(statement.text)) < MIN_COPIED_WORDS:
        return None

    def copies(n: int) -> bool:
        passage = passages[n - 1]
        return copied_run(statement.text, passage) >= 1.0 and not guard_findings(
            statement.text, passage
        )

    found = next((n for n in cites if copies(n)), None)
    change = ""
    if found is None and all(
        copied_share(statement.text, passages[n - 1]) < MISCITED_BELOW for n in cites
    ):
        found = next((n for n in range(1, len(passages) + 1) if n not in cites and copies(n)), None)
        change = f", citation {cited(cites)} corrected" if cites else ", citation added"
    if found is None:
        return None
    return Verdict(
        statement=statement.text,
        cites=[found],
        supported=True,
        score=None,
        reason=f"copies passage [{found}]'s words{change}",
        line=statement.line,
        written=statement.written,
    )


def answer_verifier(
    judge: YesNoJudge, settings: AnswerSettings, embed: Embed | None
) -> GroundingVerifier:
    """The verifier answers are checked with: the configured design and calibrated threshold."""
    return GroundingVerifier(
        judge, threshold=settings.verify_threshold, design=settings.verifier, embed=embed
    )
