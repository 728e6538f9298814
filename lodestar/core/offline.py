"""Process environment that keeps every default code path offline."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def llama_index_tiktoken_cache() -> Path | None:
    """The tiktoken encodings (cl100k_base, o200k_base) that llama-index-core ships."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return cache if cache.is_dir() else None


def configure_offline_environment() -> None:
    """Set the variables that stop libraries from reaching for the network.

    Called once at each entry point (CLI, app, tests), never at import time. Values a user has
    set already are kept. NLTK_DATA is deliberately left alone: llama-index finds its own bundled
    NLTK cache and setting the variable would hide it.
    """
    cache = llama_index_tiktoken_cache()
    if cache is not None:
        # llama-index sets this only while it loads a tokenizer; openai and ragas need it too.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
