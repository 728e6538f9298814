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

import asyncio
import math
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import InstructorBaseRagasLLM
from ragas.metrics.collections.base import BaseMetric
from ragas.metrics.result import MetricResult

from lodestar.grounding.evidence import evidence_line
from lodestar.grounding.guard import guard_findings
from lodestar.grounding.judge import statement_messages
from lodestar.grounding.statements import split_statements


class StatementVerdict(BaseModel):
    """The judge's reply for one statement."""

    verdict: Literal["yes", "no"]


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

        def embed(texts: list[str]) -> list[list[float]]:
            return self.embeddings.embed_texts(texts)

        return await asyncio.to_thread(evidence_line, statement, context, embed)

    async def judge(self, statement: str, context: str) -> tuple[bool, float | None]:
        """The verdict on `statement` against `context`, and P(yes) when the judge gives one.

        A statement with a number or a name the context never mentions is unsupported without
        asking the judge (P(yes) reported as 0).
        """
        if guard_findings(statement, context):
            return False, 0.0
        messages = statement_messages(statement, context, await self.evidence(statement, context))
        scorer = getattr(self.llm, "ayes_probability", None)
        if scorer is not None:
            probability = float(await scorer(messages))
            return probability >= self.threshold, probability
        prompt = "\n\n".join(m.content or "" for m in messages)
        votes: Counter[str] = Counter()
        for _ in range(self.repeats):
            reply: StatementVerdict = await self.llm.agenerate(prompt, StatementVerdict)
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
