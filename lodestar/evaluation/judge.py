"""The judge: the LLM that scores answers, behind ragas's own LLM and embedding interfaces.

`local` runs the bundled model in-process, every reply constrained by a llama.cpp grammar built
from the JSON schema ragas asks for, so it always parses; `openai` and `openai_like` go through
ragas's `llm_factory` with an OpenAI client. All judges decode greedily (temperature 0, fixed
seed): the same input gets the same verdict.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from ragas.embeddings.base import BaseRagasEmbedding
from ragas.llms.base import InstructorBaseRagasLLM

from lodestar.core.errors import ConfigurationError, GenerationError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.llms import LLM

    from lodestar.components.llm.factory import LlamaCppChat
    from lodestar.core.settings import Settings
    from lodestar.grounding.judge import YesNoJudge

Reply = TypeVar("Reply", bound=BaseModel)


class LocalJudgeLLM(InstructorBaseRagasLLM):
    """The bundled model as a ragas structured-output LLM, plus a scored yes/no verdict.

    Structured replies are constrained by a llama.cpp grammar built from the JSON schema ragas
    asks for, so they always parse. `ayes_probability` is what the faithfulness metric uses: the
    model's probability of "yes" against "no", compared with a calibrated threshold.
    """

    def __init__(self, llm: LlamaCppChat, max_tokens: int = 512) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    def generate(self, prompt: str, response_model: type[Reply]) -> Reply:
        """One reply that validates as `response_model`."""
        from llama_index.core.base.llms.types import ChatMessage, MessageRole

        schema = response_model.model_json_schema()
        reply = self.llm.chat(
            [ChatMessage(role=MessageRole.USER, content=prompt)],
            response_format={"type": "json_object", "schema": schema},
            max_tokens=self.max_tokens,
            temperature=0.0,
        )
        text = reply.message.content or ""
        try:
            return response_model.model_validate_json(text)
        except ValueError as exc:
            raise GenerationError(
                f"the judge's reply is not a valid {response_model.__name__}: {text[:200]!r}"
            ) from exc

    async def agenerate(self, prompt: str, response_model: type[Reply]) -> Reply:
        """`generate` on a worker thread (llama.cpp calls block)."""
        return await asyncio.to_thread(self.generate, prompt, response_model)

    async def ayes_probability(self, messages: Sequence[ChatMessage]) -> float:
        """P("yes") for a chat ending in a yes/no question, on a worker thread."""
        return await asyncio.to_thread(self.llm.yes_probability, messages)

    def __repr__(self) -> str:
        return f"LocalJudgeLLM({self.llm.model_name})"


class LlamaIndexRagasEmbedding(BaseRagasEmbedding):
    """The embedder Lodestar already loaded, as a ragas embedding (no second model load)."""

    def __init__(self, embed_model: BaseEmbedding) -> None:
        super().__init__()
        self.embed_model = embed_model

    def embed_text(self, text: str, **kwargs: Any) -> list[float]:
        """One text's vector."""
        return list(self.embed_model.get_text_embedding(text))

    async def aembed_text(self, text: str, **kwargs: Any) -> list[float]:
        """One text's vector, off the event loop."""
        return await asyncio.to_thread(self.embed_text, text)

    def embed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        """Vectors for several texts, in one batch."""
        return [list(v) for v in self.embed_model.get_text_embedding_batch(texts)]

    async def aembed_texts(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        """Vectors for several texts, off the event loop."""
        return await asyncio.to_thread(self.embed_texts, texts)


def judge_yes_no(judge: InstructorBaseRagasLLM) -> YesNoJudge:
    """The judge as a P(yes) scorer for the grounding verifier: the local judge's probability
    of "yes", a remote judge's structured yes/no verdict as 1 or 0."""
    if isinstance(judge, LocalJudgeLLM):
        return judge.llm.yes_probability

    def vote(messages: Sequence[ChatMessage]) -> float:
        from lodestar.evaluation.metrics.faithfulness import StatementVerdict

        prompt = "\n\n".join(m.content or "" for m in messages)
        reply: StatementVerdict = judge.generate(prompt, StatementVerdict)
        return 1.0 if reply.verdict == "yes" else 0.0

    return vote


def judge_label(settings: Settings) -> str:
    """Which judge a report was scored with, e.g. `local:qwen2.5-coder-1.5b-instruct-q4_k_m`."""
    from lodestar.components.llm.factory import DEFAULT_OPENAI_MODEL, LOCAL_MODEL_NAME

    cfg = settings.eval
    match cfg.judge:
        case "local":
            return f"local:{LOCAL_MODEL_NAME}"
        case "openai":
            return f"openai:{cfg.judge_model or DEFAULT_OPENAI_MODEL}"
    return f"openai_like:{cfg.judge_model}@{cfg.judge_api_base}"


def build_judge(settings: Settings, generator: LLM) -> InstructorBaseRagasLLM:
    """The configured judge as a ragas LLM.

    The local judge shares the `generator`'s in-process model when the generator is the bundled
    model too (one 1.1 GB load), and loads it otherwise.
    """
    cfg = settings.eval
    match cfg.judge:
        case "local":
            from lodestar.components.llm.factory import LlamaCppChat, build_llm

            llm = generator
            if not isinstance(llm, LlamaCppChat) or not settings.llm.uses_default_model:
                local = settings.model_copy(
                    update={
                        "llm": settings.llm.model_copy(update={"backend": "local", "model": None})
                    }
                )
                llm = build_llm(local)
            assert isinstance(llm, LlamaCppChat)
            return LocalJudgeLLM(llm)
        case "openai" | "openai_like":
            from openai import AsyncOpenAI
            from ragas.llms.base import llm_factory

            from lodestar.components.llm.factory import DEFAULT_OPENAI_MODEL

            if cfg.judge == "openai_like" and not (cfg.judge_api_base and cfg.judge_model):
                raise ConfigurationError(
                    "the openai_like judge needs a base URL and a model name",
                    hint="set LODESTAR_EVAL__JUDGE_API_BASE and LODESTAR_EVAL__JUDGE_MODEL "
                    "(e.g. `lodestar serve-model` at http://127.0.0.1:8088/v1)",
                )
            key = cfg.judge_api_key or os.environ.get("OPENAI_API_KEY")
            if cfg.judge == "openai" and not key:
                raise ConfigurationError(
                    "the openai judge needs an API key",
                    hint="set OPENAI_API_KEY or LODESTAR_EVAL__JUDGE_API_KEY",
                )
            client = AsyncOpenAI(
                base_url=cfg.judge_api_base,
                api_key=key or "not-needed",
                timeout=settings.llm.timeout_s,
                max_retries=settings.llm.max_retries,
            )
            model = cfg.judge_model or DEFAULT_OPENAI_MODEL
            return llm_factory(model, provider="openai", client=client, temperature=0.0, seed=0)
    raise ConfigurationError(f"unknown judge {cfg.judge!r}")
