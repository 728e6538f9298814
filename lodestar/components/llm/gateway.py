"""One way to talk to the configured chat model: a text reply, a stream of deltas, or any other
call (a yes/no judge), with remote errors turned into one clear `LLMUnavailableError`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from llama_index.core.base.llms.types import ChatMessage

from lodestar.core.errors import LLMUnavailableError, LodestarError

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from lodestar.core.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


class ChatGateway:
    """The configured LLM behind chat calls whose failures read as Lodestar errors."""

    def __init__(self, llm: LLM, settings: Settings) -> None:
        self.llm = llm
        self.settings = settings

    def text(self, messages: list[ChatMessage], **kwargs: Any) -> str:
        """One non-streaming reply, with remote errors translated."""
        reply = self.guarded(self.llm.chat)(messages, **kwargs)
        return reply.message.content or ""

    def stream(self, messages: list[ChatMessage], **kwargs: Any) -> Iterator[str]:
        """The reply's text deltas as they are generated, with remote errors translated."""
        try:
            for chunk in self.llm.stream_chat(messages, **kwargs):
                if chunk.delta:
                    yield chunk.delta
        except LodestarError:
            raise
        except Exception as exc:
            raise self.translate(exc) from exc

    def guarded(self, call: Callable[P, R]) -> Callable[P, R]:
        """`call` (a yes/no judge on this LLM, say) with remote errors translated."""

        @wraps(call)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return call(*args, **kwargs)
            except LodestarError:
                raise
            except Exception as exc:
                raise self.translate(exc) from exc

        return run

    def translate(self, exc: Exception) -> Exception:
        """The clear error for a remote failure, or `exc` itself when it is not one."""
        return describe_remote_error(exc, self.settings) or exc


def describe_remote_error(exc: Exception, settings: Settings) -> LLMUnavailableError | None:
    """One clear message for an OpenAI-SDK error, or None if `exc` is not one."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a dependency
        return None
    where = settings.llm.api_base or "the OpenAI API"
    hint = "check LODESTAR_LLM__API_BASE / LODESTAR_LLM__MODEL, or use the bundled model (backend local)"
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailableError(f"the model server at {where} timed out", hint=hint)
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailableError(f"cannot connect to the model server at {where}", hint=hint)
    if isinstance(exc, openai.AuthenticationError):
        return LLMUnavailableError(
            f"the model server at {where} rejected the API key (401)",
            hint="set LODESTAR_LLM__API_KEY (or OPENAI_API_KEY)",
        )
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailableError(
            f"the model server at {where} is rate-limiting requests (429), even after retries",
            hint="wait and try again, or raise LODESTAR_LLM__MAX_RETRIES",
        )
    if isinstance(exc, openai.NotFoundError):
        return LLMUnavailableError(
            f"the model server at {where} does not know model {settings.llm.model!r} (404)",
            hint=hint,
        )
    if isinstance(exc, openai.APIStatusError):
        return LLMUnavailableError(
            f"the model server at {where} answered {exc.status_code}: {exc.message}", hint=hint
        )
    if isinstance(exc, openai.OpenAIError):
        return LLMUnavailableError(f"model request failed: {exc}", hint=hint)
    return None
