"""The gate with the real bundled model as generator and judge: a generator that loses the
retrieved passages fails it, the same cases answered normally pass the same checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from llama_index.core.base.llms.types import ChatMessage

from lodestar.answering.engine import AnswerEngine
from lodestar.components.llm.factory import build_llm
from lodestar.components.services import Services
from lodestar.core.settings import LLMSettings, Settings
from lodestar.evaluation.dataset import load_golden
from lodestar.evaluation.gate import load_thresholds
from lodestar.evaluation.judge import LocalJudgeLLM
from lodestar.evaluation.runner import SuiteRunner
from lodestar.evaluation.suites import load_suite
from lodestar.retrieval.passages import Passage

pytestmark = [pytest.mark.model, pytest.mark.slow]
# Factual cases with exact figures, two of them in the CI suite's judged subset.
CASES = ["g01", "g05", "g06"]
CONTENT_CHECKS = {"key_fact_recall", "faithfulness", "false_refusal_rate", "citation_validity"}


class ContextDroppingEngine(AnswerEngine):
    """A broken generator: retrieves and reports passages as usual, but the model never sees them."""

    def messages_for(
        self, question: str, supplied: Sequence[Passage], shape: Any = None
    ) -> list[ChatMessage]:
        return super().messages_for(question, [], shape)


@pytest.fixture(scope="module")
def local_llm() -> Any:
    return build_llm(Settings(llm=LLMSettings(models_dir=REPO / ".lodestar" / "models")))


def _gate(knowledge_index: Path, embed_model: Any, local_llm: Any, broken: bool) -> list[Any]:
    services = Services(Settings(data_dir=knowledge_index), embed_model=embed_model, llm=local_llm)
    engine = ContextDroppingEngine(services) if broken else None
    runner = SuiteRunner(services, lambda: LocalJudgeLLM(local_llm), engine=engine)
    cases = [c for c in load_golden() if c.id in CASES]
    run = runner.run(load_suite("ci"), cases, [])
    assert all(c.error is None for c in run.cases), [c.error for c in run.cases]
    return [c for c in load_thresholds("ci").check(run) if c.name in CONTENT_CHECKS]


def test_dropping_the_retrieved_context_fails_the_gate(
    knowledge_index: Path, embed_model: Any, local_llm: Any
) -> None:
    intact = _gate(knowledge_index, embed_model, local_llm, broken=False)
    assert {c.name for c in intact if not c.passed} == set(), intact
    broken = _gate(knowledge_index, embed_model, local_llm, broken=True)
    failed = {c.name for c in broken if not c.passed}
    assert failed & {"key_fact_recall", "faithfulness", "false_refusal_rate"}, broken
