"""Faithfulness as a ragas metric: split the answer into statements, verify each one alone.

ragas's own Faithfulness asks the judge to list an answer's claims and to rule on all of them in
one JSON reply. With the bundled 1.5B model as judge that gave 0 to every statement of real
answers, lines copied from the context included. What measures best with a small judge (see
`lodestar eval --calibrate` and the README) is one statement per call, the context with its most
relevant line pointed out, and the probability of a one-word verdict. Statements are the
answer's sentences (our answers are short cited bullets), split deterministically, so the same
answer always yields the same statements.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import InstructorBaseRagasLLM
from ragas.metrics.collections.base import BaseMetric
from ragas.metrics.result import MetricResult

from lodestar.prompts import render_prompt

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\[(\"'A-Z0-9$])")
_NOT_A_CLAIM = re.compile(
    r"knowledge base does not cover|(does not|doesn't) (cover|contain|mention|say)|"
    r"^(here are|in summary|to summari[sz]e|sources?:)",
    re.IGNORECASE,
)
MIN_CLAIM_WORDS = 4
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
# A capitalised word that does not start a sentence: a name, tool, company, place or title.
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][A-Za-z0-9+&-]{2,}")


@dataclass
class Statement:
    """One sentence of an answer and the passages it cites (1-based)."""

    text: str
    cites: list[int] = field(default_factory=list)


class StatementVerdict(BaseModel):
    """The judge's reply for one statement."""

    verdict: Literal["yes", "no"]


def split_statements(answer: str) -> list[Statement]:
    """The answer's checkable sentences, citations lifted out; intros, refusals and fragments dropped."""
    statements: list[Statement] = []
    for line in answer.splitlines():
        line = _BULLET.sub("", line).strip()
        if not line or line.endswith(":"):
            continue
        in_line: list[Statement] = []
        for sentence in _SENTENCE_END.split(line):
            cites = [int(n) for group in _CITATION.findall(sentence) for n in group.split(",")]
            text = re.sub(r"\s+([.,;:])", r"\1", _CITATION.sub("", sentence)).strip()
            if not re.search(r"[A-Za-z0-9]", text):
                # "… teams. [2]": the citation belongs to the sentence before
                if in_line and cites:
                    in_line[-1].cites.extend(c for c in cites if c not in in_line[-1].cites)
                continue
            if len(text.split()) < MIN_CLAIM_WORDS or _NOT_A_CLAIM.search(text):
                continue
            in_line.append(Statement(text=text, cites=list(dict.fromkeys(cites))))
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
    for name in _NAME.findall(statement):
        if name.isupper() and len(name) <= 3:
            continue
        word = name.lower()
        if word not in flat and word.rstrip("s") not in flat:
            missing.append(name)
    return missing


def context_lines(context: str) -> list[str]:
    """The context's lines and sentences, list markers removed: the evidence candidates."""
    lines: list[str] = []
    for line in context.splitlines():
        line = _BULLET.sub("", line).strip().lstrip("#").strip()
        if line:
            lines.extend(part for part in _SENTENCE_END.split(line) if part.strip())
    return lines


class StatementFaithfulness(BaseMetric):
    """Share of an answer's statements the judge finds supported by the retrieved contexts.

    Each statement is checked against the passages it cites first (short prompts are what a small
    judge reads reliably); one that fails there, or cites nothing, is checked against all the
    contexts, so a claim supported anywhere in what the model read counts, as in ragas's
    Faithfulness. The judge sees the context with its line most similar to the statement
    (by the embedder) pointed out. A judge that can score its verdict (the local one) is
    thresholded on P(yes); others give a yes/no verdict, `repeats` times, majority wins. An answer
    with no statements (a refusal) scores NaN, as in ragas.
    """

    llm: InstructorBaseRagasLLM
    embeddings: BaseRagasEmbedding

    def __init__(
        self,
        llm: InstructorBaseRagasLLM,
        embeddings: BaseRagasEmbedding,
        *,
        name: str = "faithfulness",
        threshold: float = 0.5,
        repeats: int = 1,
    ) -> None:
        self.llm = llm
        self.embeddings = embeddings
        self.threshold = threshold
        self.repeats = repeats
        super().__init__(name=name)

    async def evidence(self, statement: str, context: str) -> str:
        """The context line most similar to the statement."""
        lines = context_lines(context)
        if len(lines) <= 1:
            return lines[0] if lines else context
        vectors = np.asarray(await self.embeddings.aembed_texts([statement, *lines]))
        norms = np.linalg.norm(vectors, axis=1) + 1e-12
        similarity = (vectors[1:] @ vectors[0]) / (norms[1:] * norms[0])
        return lines[int(similarity.argmax())]

    async def judge(self, statement: str, context: str) -> tuple[bool, float | None]:
        """The verdict on `statement` against `context`, and P(yes) when the judge gives one.

        A statement with a number or a name the context never mentions is unsupported without
        asking the judge (P(yes) reported as 0).
        """
        if missing_terms(statement, context):
            return False, 0.0
        system = render_prompt("judge_system")
        user = render_prompt(
            "judge_statement",
            context=context.strip(),
            evidence=await self.evidence(statement, context),
            statement=statement,
        )
        scorer = getattr(self.llm, "ayes_probability", None)
        if scorer is not None:
            probability = float(await scorer(system, user))
            return probability >= self.threshold, probability
        votes: Counter[str] = Counter()
        for _ in range(self.repeats):
            reply: StatementVerdict = await self.llm.agenerate(
                f"{system}\n\n{user}", StatementVerdict
            )
            votes[reply.verdict] += 1
        return votes["yes"] > votes["no"], None

    async def verify(self, statement: str, context: str) -> bool:
        """Whether the judge finds `statement` supported by `context`."""
        supported, _ = await self.judge(statement, context)
        return supported

    async def ascore(  # type: ignore[override]
        self, user_input: str, response: str, retrieved_contexts: list[str]
    ) -> MetricResult:
        """Score one answer; `traces["output"]` lists each statement with its verdict."""
        statements = split_statements(response)
        if not statements or not retrieved_contexts:
            return MetricResult(value=math.nan, reason="no statements to check")
        verdicts: list[dict[str, Any]] = []
        for statement in statements:
            cited = [
                retrieved_contexts[n - 1]
                for n in statement.cites
                if 1 <= n <= len(retrieved_contexts)
            ]
            supported = bool(cited) and await self.verify(statement.text, "\n\n".join(cited))
            if not supported and len(cited) < len(retrieved_contexts):
                supported = await self.verify(statement.text, "\n\n".join(retrieved_contexts))
            verdicts.append(
                {"statement": statement.text, "cites": statement.cites, "supported": supported}
            )
        supported_count = sum(v["supported"] for v in verdicts)
        return MetricResult(
            value=supported_count / len(verdicts),
            reason=f"{supported_count}/{len(verdicts)} statements supported",
            traces={"output": verdicts},
        )
