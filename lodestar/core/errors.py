"""Domain errors: each carries a message a user can act on; `describe_error` is what the CLI and
the app show for any error, each rendering it its own way."""

from __future__ import annotations


class LodestarError(Exception):
    """Base class for errors that are reported to the user without a traceback."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

    def one_line(self) -> str:
        """Message and hint on one line, whitespace squeezed: for a line per problem in a list."""
        text = f"{self.message} (hint: {self.hint})" if self.hint else self.message
        return " ".join(text.split())


class ConfigurationError(LodestarError):
    """Settings that cannot work together, or a missing optional dependency."""


class ModelNotAvailableError(LodestarError):
    """A bundled model's files are missing or corrupt."""


class DocumentError(LodestarError):
    """One input file could not be read; ingestion of the others goes on."""


class IndexMismatchError(LodestarError):
    """The index was built with a different embedding model or chunking than configured now."""


class IngestLockedError(LodestarError):
    """Another ingest holds the data directory's lock."""


class IndexEmptyError(LodestarError):
    """A question was asked before anything was ingested."""


class StoreUnavailableError(LodestarError):
    """The Chroma server could not be reached."""


class LLMUnavailableError(LodestarError):
    """The language model could not be reached or refused the request."""


class GenerationError(LodestarError):
    """The model's output could not be used (e.g. invalid JSON after retries)."""


class UnknownRoleError(LodestarError):
    """An interview kit was asked for a role or level the knowledge base does not describe."""


class IndexOwnedError(LodestarError):
    """The Chroma collection is kept up to date from another data directory (another machine)."""


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """What went wrong and what to do about it, for any surface that shows an error.

    A domain error is its message and hint; anything else is its type and text, with no hint
    (each surface says in its own words how to see the details).
    """
    if isinstance(exc, LodestarError):
        return exc.message, exc.hint
    return f"{type(exc).__name__}: {exc}", None
