"""Language models behind one llama-index `LLM` interface: local llama.cpp, OpenAI, OpenAI-like.

The local model runs in-process through llama-cpp-python's chat completion, which applies the
chat template stored in the GGUF file and supports JSON-schema-constrained output and grammars.
Remote errors are turned into clear messages by the chat gateway (`gateway.py`).
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Generator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import Field, PrivateAttr

from lodestar.components.llm.turns import TurnQueue
from lodestar.core.errors import ConfigurationError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from lodestar.core.settings import Settings

LOCAL_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Keyword arguments callers may pass through chat()/stream_chat() to the local model.
_LOCAL_KWARGS = ("response_format", "grammar", "max_tokens", "temperature", "stop", "seed")


class LlamaCppChat(CustomLLM):
    """A GGUF model run in-process by llama.cpp, as a llama-index chat LLM."""

    model_path: str = Field(description="Path to the .gguf file.")
    model_name: str = Field(default=LOCAL_MODEL_NAME)
    context_window: int = Field(default=4096)
    max_tokens: int = Field(default=320)
    temperature: float = Field(default=0.0)
    seed: int = Field(default=42)
    threads: int | None = Field(default=None)
    _llama: Any = PrivateAttr()
    _turns: TurnQueue = PrivateAttr(default_factory=TurnQueue)

    def model_post_init(self, context: Any, /) -> None:
        """Load the model (memory-mapped; under a second for the bundled 1.1 GB file)."""
        from lodestar.components.llm.llama_runtime import load_llama

        self._llama = load_llama(
            self.model_path, n_ctx=self.context_window, n_threads=self.threads, seed=self.seed
        )
        # Free the native model before interpreter teardown, when llama.cpp's bindings are gone.
        atexit.register(self._llama.close)

    def turn(
        self, label: str = "", on_wait: Callable[[int], None] | None = None
    ) -> AbstractContextManager[None]:
        """Hold the model for a whole answer (or kit question, level cell), in arrival order.

        One llama.cpp context serves one request at a time: calls made inside the turn reuse
        each other's prompt cache, and other threads' requests wait their turn (`turns.py`).
        """
        return self._turns.turn(label, on_wait)

    @property
    def metadata(self) -> LLMMetadata:
        """Context window and output budget, for llama-index's prompt helpers."""
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            model_name=self.model_name,
            is_chat_model=True,
        )

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in this model's vocabulary."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": self.seed,
        }
        request.update({k: kwargs[k] for k in _LOCAL_KWARGS if k in kwargs})
        if isinstance(request.get("grammar"), str):
            from llama_cpp import LlamaGrammar

            request["grammar"] = LlamaGrammar.from_string(request["grammar"], verbose=False)
        return request

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One chat completion."""
        with self.turn("chat"):  # a llama.cpp context serves one request at a time
            result = self._llama.create_chat_completion(**self._request(messages, kwargs))
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=result
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream a chat completion token by token."""
        request = self._request(messages, kwargs)

        def gen() -> Generator[ChatResponse, None, None]:
            text = ""
            with self.turn("stream"):
                for chunk in self._llama.create_chat_completion(stream=True, **request):
                    delta = chunk["choices"][0]["delta"].get("content") or ""
                    if delta:
                        text += delta
                        yield ChatResponse(
                            message=ChatMessage(role=MessageRole.ASSISTANT, content=text),
                            delta=delta,
                        )

        return gen()

    def forget_prompt_cache(self) -> None:
        """Read the next prompt from scratch: llama.cpp otherwise reuses the longest prefix it
        still holds (benchmarks compare cold prompts)."""
        with self.turn("reset"):
            self._llama.reset()

    def yes_probability(self, messages: Sequence[ChatMessage]) -> float:
        """P(the reply starts with "yes") against "no", read from the next-token logits.

        A one-word verdict sampled greedily throws away how sure the model was; a small judge is
        far better calibrated when its yes/no is thresholded on this probability.
        """
        import numpy as np

        yes_no = self._yes_no_tokens()
        with self.turn("judge"):
            self._llama.create_chat_completion(
                **self._request(messages, {"max_tokens": 1, "temperature": 0.0})
            )
            # logits of the last position evaluated: the prompt's end (one token is sampled but
            # not evaluated)
            logits = np.ctypeslib.as_array(
                self._llama._ctx.get_logits(), shape=(self._llama.n_vocab(),)
            ).astype(np.float64)
        yes = np.logaddexp.reduce(logits[yes_no[0]])
        no = np.logaddexp.reduce(logits[yes_no[1]])
        return float(1.0 / (1.0 + np.exp(no - yes)))

    def _yes_no_tokens(self) -> tuple[list[int], list[int]]:
        def first_tokens(*words: str) -> list[int]:
            ids = {self._llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}
            return sorted(ids)

        return first_tokens("yes", "Yes", " yes", " Yes"), first_tokens("no", "No", " no", " No")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Completion as a single user turn."""
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(text=response.message.content or "")

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Streaming completion as a single user turn."""
        stream = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return (CompletionResponse(text=r.message.content or "", delta=r.delta) for r in stream)


def local_model_path(settings: Settings) -> Path:
    """The .gguf the `local` backend loads: bundled (joined once), the tiny test model, or a path."""
    from lodestar.components.llm.bundled import ensure_bundled_model, tiny_model_path

    model = settings.llm.model
    if settings.llm.uses_default_model or model is None:  # (`is None` narrows the type)
        return ensure_bundled_model(settings.models_dir)
    if model == "tiny":
        return tiny_model_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise ConfigurationError(
            f"local model file {path} does not exist",
            hint="unset LODESTAR_LLM__MODEL to use the bundled model",
        )
    return path


def _remote_options(settings: Settings) -> dict[str, Any]:
    """Sampling, timeout and retry options shared by the OpenAI and OpenAI-like clients."""
    cfg = settings.llm
    return {
        "temperature": cfg.temperature,
        "max_tokens": cfg.max_answer_tokens,
        "timeout": cfg.timeout_s,
        "max_retries": cfg.max_retries,
    }


def build_llm(settings: Settings) -> LLM:
    """The configured LLM; optional backends are imported only when chosen."""
    cfg = settings.llm
    match cfg.backend:
        case "local":
            path = local_model_path(settings)
            return LlamaCppChat(
                model_path=str(path),
                model_name=LOCAL_MODEL_NAME if cfg.uses_default_model else path.stem,
                context_window=cfg.context_window,
                max_tokens=cfg.max_answer_tokens,
                temperature=cfg.temperature,
                seed=cfg.seed,
                threads=cfg.threads,
            )
        case "openai":
            from llama_index.llms.openai import OpenAI

            return OpenAI(
                model=cfg.model or DEFAULT_OPENAI_MODEL,
                api_key=cfg.api_key,
                api_base=cfg.api_base,
                **_remote_options(settings),
            )
        case "openai_like":
            from llama_index.llms.openai_like import OpenAILike

            if not cfg.api_base or not cfg.model:
                raise ConfigurationError(
                    "the openai_like backend needs a base URL and a model name",
                    hint="set LODESTAR_LLM__API_BASE (e.g. http://127.0.0.1:8080/v1) and "
                    "LODESTAR_LLM__MODEL",
                )
            return OpenAILike(
                model=cfg.model,
                api_base=cfg.api_base,
                api_key=cfg.api_key or "not-needed",
                is_chat_model=True,
                context_window=cfg.context_window,
                **_remote_options(settings),
            )
    raise ConfigurationError(f"unknown LLM backend {cfg.backend!r}")
