"""Answer metrics without a judge: key-fact presence and citation validity."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from lodestar.evaluation.dataset import contains_fact
from lodestar.grounding.statements import split_statements

if t.TYPE_CHECKING:
    from lodestar.answering.result import Answer


def key_fact_recall(answer: str, key_facts: list[str]) -> float | None:
    """Share of the case's key facts the answer states (None when the case has none)."""
    if not key_facts:
        return None
    return sum(contains_fact(answer, fact) for fact in key_facts) / len(key_facts)


@dataclass
class CitationReport:
    """Whether an answer's citations are usable: none dangling, every statement cited."""

    dangling: list[int]
    statements: int
    cited_statements: int

    @property
    def valid(self) -> bool:
        """No dangling citation and every factual statement cited."""
        return not self.dangling and self.cited_statements == self.statements


def check_answer_citations(answer: Answer) -> CitationReport:
    """Citation validity of a generated answer (the engine removes and reports dangling ones)."""
    statements = split_statements(answer.answer)
    supplied = len(answer.supplied)
    dangling = sorted(
        {n for s in statements for n in s.cites if not 1 <= n <= supplied}
        | set(answer.removed_citations)
    )
    cited = sum(1 for s in statements if any(1 <= n <= supplied for n in s.cites))
    return CitationReport(dangling=dangling, statements=len(statements), cited_statements=cited)
