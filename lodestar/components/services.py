"""The components one process uses, built lazily from Settings by their small factories.

Services holds them so that the stages share one embedder, one Chroma client and one LLM; it
builds nothing itself: the embedder comes from components.embedding.factory, the store from
components.store, the LLM from components.llm.factory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.components.embedding import factory as embedding
from lodestar.components.store.chroma import get_collection, open_chroma_client, open_vector_store
from lodestar.components.store.manifest import IndexPaths, IndexState
from lodestar.core.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.llms import LLM
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from lodestar.components.store.keyword_index import KeywordIndexCache


class Services:
    """Lazily built clients for one process; pass it (or its parts) to the pipeline stages."""

    def __init__(
        self,
        settings: Settings,
        *,
        embed_model: BaseEmbedding | None = None,
        llm: LLM | None = None,
    ) -> None:
        """Build nothing yet; `embed_model` / `llm` replace the configured ones (tests, UI).

        The offline environment (lodestar.core.offline) is set by each entry point, not here.
        """
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

    def model_turn(
        self, label: str = "", on_wait: Callable[[int], None] | None = None
    ) -> AbstractContextManager[None]:
        """Hold the model for a whole answer, kit question or level cell, in arrival order.

        The in-process model serves one request at a time, so a turn keeps its prompt cache
        for the work's calls and others wait in line (`on_wait(n)`: n turns ahead; raise in
        it to leave the line). A model server schedules its own requests: no line here.
        """
        turn = getattr(self.llm, "turn", None)
        return turn(label, on_wait) if callable(turn) else nullcontext()

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
        model = default if cfg.uses_default_model else cfg.model
        return f"{cfg.backend}:{model}"

    @cached_property
    def keyword_cache(self) -> KeywordIndexCache:
        """The BM25 index this process has loaded (kept in step with the collection)."""
        from lodestar.components.store.keyword_index import KeywordIndexCache

        return KeywordIndexCache(self.paths, self.vector_store)

    def index_state(self) -> IndexState:
        """What the collection says about the index now (re-read on every call)."""
        collection = get_collection(self.chroma_client, self.settings.chroma.collection)
        return IndexState.read(collection)

    @property
    def embedding_id(self) -> str:
        """Identity of the configured embedder, recorded in the index manifest."""
        return embedding.embedding_id(self.settings.embedding)

    @cached_property
    def embed_model(self) -> BaseEmbedding:
        """The configured embedding model (bundled MiniLM by default, loaded from disk)."""
        if self._embed_override is not None:
            return self._embed_override
        return embedding.build_embed_model(self.settings.embedding)

    def prepare_embedder(self) -> Path | None:
        """Export the local model for ONNX Runtime if it is not yet (setup); its file, or None."""
        return embedding.prepare_embedder(self.settings.embedding)

    def embed_question(self, text: str) -> list[float]:
        """Embed one question, on a single intra-op thread (see embedding.embed_question)."""
        return embedding.embed_question(self.embed_model, self.settings.embedding, text)

    @cached_property
    def embed_dimension(self) -> int:
        """Vector size of the embedder, measured once."""
        return len(self.embed_model.get_text_embedding("dimension probe"))

    @cached_property
    def tokenizer(self) -> Callable[[str], Sequence[Any]]:
        """Counts tokens the way the embedder does, so passages fit its input window."""
        return embedding.build_tokenizer(self.settings.embedding)

    @cached_property
    def chroma_client(self) -> ClientAPI:
        """The Chroma client (embedded in the data dir, or a server)."""
        return open_chroma_client(self.settings)

    @cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's view of the passages collection."""
        return open_vector_store(self.settings, self.chroma_client)
