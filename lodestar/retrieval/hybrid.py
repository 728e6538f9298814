"""Question to ranked passages: vector + BM25 fused (llama-index QueryFusionRetriever), filtered.

Before the fused ranking, the best vector similarity decides whether the knowledge base covers
the question at all; if not, the result says so (with the closest topics it does cover) and the
answer stage never calls the LLM.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import IndexEmptyError, IndexMismatchError
from lodestar.retrieval.fusion import fuse
from lodestar.retrieval.passages import Passage, PassageFilters, RetrievalResult

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore, QueryBundle
    from llama_index.core.vector_stores.types import MetadataFilters

    from lodestar.components.services import Services
    from lodestar.components.store.manifest import IndexState


def _vector_hits(
    store: Any, bundle: QueryBundle, top_k: int, filters: MetadataFilters | None
) -> list[NodeWithScore]:
    """The store's nearest passages, as llama-index's vector retriever returns them.

    Chroma keeps each passage's text, so the query result is the whole answer; querying the
    store directly skips building a `VectorStoreIndex`, whose embedder check imports
    LangChain (~0.7 s of every cold command).
    """
    from llama_index.core.schema import NodeWithScore
    from llama_index.core.vector_stores.types import VectorStoreQuery

    result = store.query(
        VectorStoreQuery(
            query_embedding=bundle.embedding,
            similarity_top_k=top_k,
            filters=filters,
            query_str=bundle.query_str,
        )
    )
    similarities = result.similarities or [None] * len(result.nodes or [])
    return [
        NodeWithScore(node=node, score=score)
        for node, score in zip(result.nodes or [], similarities, strict=True)
    ]


def retrieve(
    question: str,
    services: Services,
    k: int | None = None,
    filters: PassageFilters | None = None,
) -> RetrievalResult:
    """Hybrid retrieval with the "not covered" check; `k` passages in fused order."""
    from llama_index.core.schema import QueryBundle

    from lodestar.components.store.keyword_index import load_keyword_retriever

    started = time.perf_counter()
    settings = services.settings.retrieval
    k = k or settings.top_k
    store = services.vector_store
    state = services.index_state()
    _check_embedder(state, services)
    metadata_filters = filters.to_metadata_filters() if filters else None
    query = question
    if settings.expand_query:
        query = f"{question}\n{_hypothetical_answer(question, services)}"
    # Embed once, search once: fusion below reuses these vector hits.
    bundle = QueryBundle(query, embedding=services.embed_question(query))
    vector_hits = _vector_hits(store, bundle, settings.candidates, metadata_filters)
    # Counted only when nothing came back: one Chroma round trip less per question.
    if not vector_hits and store.client.count() == 0:
        raise IndexEmptyError(
            f"the index in {services.settings.data_dir} is empty",
            hint="run `lodestar ingest` first (it reads the knowledge dir by default)",
        )
    similarity = {hit.node.node_id: _cosine(hit.score) for hit in vector_hits}
    best = max(similarity.values(), default=0.0)
    if best < settings.min_similarity:
        return RetrievalResult(
            question=question,
            passages=[],
            covered=False,
            best_similarity=round(best, 4),
            closest_topics=_topics(vector_hits),
            ms=(time.perf_counter() - started) * 1000,
        )
    keyword = load_keyword_retriever(
        services.keyword_cache, state, settings.candidates, metadata_filters
    )
    fused = fuse(
        vector_hits,
        keyword,
        bundle,
        mode=settings.fusion,
        vector_weight=settings.vector_weight,
        top_k=k,
    )
    passages = [Passage.from_node(hit, similarity.get(hit.node.node_id)) for hit in fused]
    return RetrievalResult(
        question=question,
        passages=passages,
        covered=True,
        best_similarity=round(best, 4),
        closest_topics=_topics(vector_hits),
        ms=(time.perf_counter() - started) * 1000,
    )


def retrieve_passages(question: str, services: Services, k: int | None = None) -> list[Passage]:
    """Just the passages (empty when the question is not covered)."""
    return retrieve(question, services, k).passages


def _check_embedder(state: IndexState, services: Services) -> None:
    """Questions must be embedded by the model that embedded the passages (any machine)."""
    if state.embedding and state.embedding != services.embedding_id:
        raise IndexMismatchError(
            f"the index was built with the embedding model {state.embedding}, but this machine "
            f"is configured for {services.embedding_id}; its questions would not match",
            hint="set LODESTAR_EMBEDDING__BACKEND/__MODEL to the index's model, or rebuild the "
            "index with `lodestar ingest --rebuild`",
        )


def _hypothetical_answer(question: str, services: Services) -> str:
    """A short made-up answer whose wording is closer to the documents' than the question's."""
    from llama_index.core.base.llms.types import ChatMessage, MessageRole

    from lodestar.core.prompts import render_prompt

    prompt = render_prompt("expand", question=question)
    reply = services.llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=60)
    return (reply.message.content or "").strip()


def _cosine(score: float | None) -> float:
    """Cosine similarity from llama-index's Chroma score, which is exp(-cosine distance)."""
    return 1.0 + math.log(score) if score and score > 0 else -1.0


def _topics(hits: list[NodeWithScore], limit: int = 3) -> list[str]:
    topics: list[str] = []
    for hit in hits:
        title = str(hit.node.metadata.get("title", "")).strip()
        if title and title not in topics:
            topics.append(title)
        if len(topics) == limit:
            break
    return topics
