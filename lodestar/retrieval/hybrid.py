"""Question to ranked passages: vector + BM25 fused (llama-index QueryFusionRetriever), filtered.

Before the fused ranking, the best vector similarity decides whether the knowledge base covers
the question at all; if not, the result says so (with the closest topics it does cover) and the
answer stage never calls the LLM.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import IndexEmptyError, IndexMismatchError

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore, QueryBundle
    from llama_index.core.vector_stores.types import MetadataFilters

    from lodestar.components.services import Services
    from lodestar.components.store.chroma import IndexState


@dataclass
class Passage:
    """One retrieved passage, as shown to users and handed to the answer stage."""

    text: str
    source: str
    title: str
    heading: str
    score: float
    doc_type: str
    page: int | None = None
    node_id: str = ""
    similarity: float | None = None

    def to_json(self) -> dict[str, Any]:
        """All fields, without empty optional ones."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def location(self) -> str:
        """'title › heading' for display."""
        return " › ".join(part for part in (self.title, self.heading) if part)

    @classmethod
    def from_node(cls, hit: NodeWithScore, similarity: float | None = None) -> Passage:
        """Build from a llama-index retrieval hit."""
        meta = hit.node.metadata
        page = meta.get("page")
        return cls(
            text=hit.node.get_content(),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            heading=str(meta.get("heading", "")),
            score=round(float(hit.score or 0.0), 4),
            doc_type=str(meta.get("doc_type", "")),
            page=int(page)
            if isinstance(page, int | float) and not isinstance(page, bool)
            else None,
            node_id=hit.node.node_id,
            similarity=None if similarity is None else round(similarity, 4),
        )


@dataclass
class PassageFilters:
    """Restrict retrieval to a document type and/or a role (values from the front matter)."""

    doc_type: str | None = None
    role: str | None = None

    def to_metadata_filters(self) -> MetadataFilters | None:
        """llama-index filters understood by both Chroma and the BM25 retriever."""
        from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

        from ingest.chunking import role_key

        filters = []
        if self.doc_type:
            filters.append(MetadataFilter(key="doc_type", value=self.doc_type))
        if self.role:
            filters.append(MetadataFilter(key=role_key(self.role), value=1))
        return MetadataFilters(filters=filters) if filters else None


@dataclass
class RetrievalResult:
    """Passages for a question, or the finding that the knowledge base does not cover it."""

    question: str
    passages: list[Passage]
    covered: bool
    best_similarity: float
    closest_topics: list[str] = field(default_factory=list)
    ms: float = 0.0


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
    keyword = load_keyword_retriever(services, settings.candidates, metadata_filters, state)
    if keyword is None:
        fused = vector_hits[:k]
    else:
        fusion = one_query_fusion(
            [_fetched_retriever_class()(vector_hits), keyword],
            mode=settings.fusion,
            weights=[settings.vector_weight, 1.0 - settings.vector_weight],
            top_k=k,
        )
        fused = fusion.retrieve(bundle)
    passages = [Passage.from_node(hit, similarity.get(hit.node.node_id)) for hit in fused]
    return RetrievalResult(
        question=question,
        passages=passages,
        covered=True,
        best_similarity=round(best, 4),
        closest_topics=_topics(vector_hits),
        ms=(time.perf_counter() - started) * 1000,
    )


def one_query_fusion(retrievers: list[Any], *, mode: str, weights: list[float], top_k: int) -> Any:
    """llama-index's `QueryFusionRetriever` for one query, built without resolving an LLM."""
    return _one_query_fusion_class()(retrievers, mode=mode, weights=weights, top_k=top_k)


@cache
def _one_query_fusion_class() -> type:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES, QUERY_GEN_PROMPT

    class OneQueryFusion(QueryFusionRetriever):
        """Fusion of the retrievers' results for the one question asked.

        `QueryFusionRetriever.__init__` resolves an LLM even when `num_queries=1` never calls
        it, and resolving imports LangChain for a type check: ~0.8 s of every cold command.
        This sets the same attributes without that step (a test compares them and the fused
        ranking with the parent's); retrieval and fusion are the parent's own code.
        """

        def __init__(
            self, retrievers: list[Any], *, mode: str, weights: list[float], top_k: int
        ) -> None:
            self.num_queries = 1
            self.query_gen_prompt = QUERY_GEN_PROMPT
            self.similarity_top_k = top_k
            self.mode = FUSION_MODES(mode)
            self.use_async = False
            self._retrievers = retrievers
            self._retriever_weights = [w / sum(weights) for w in weights]
            self._llm = None  # type: ignore[assignment]  # no query generation with one query
            BaseRetriever.__init__(self)

    return OneQueryFusion


@cache
def _fetched_retriever_class() -> type:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    class FetchedRetriever(BaseRetriever):
        """Hands hits already fetched to fusion, which would otherwise query Chroma again."""

        def __init__(self, hits: list[NodeWithScore]) -> None:
            super().__init__()
            self._hits = hits

        def _retrieve(self, query_bundle: Any) -> list[NodeWithScore]:
            # Copies: fusion rescales scores in place, and `hits` keep the raw similarities.
            return [NodeWithScore(node=hit.node, score=hit.score) for hit in self._hits]

    return FetchedRetriever


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
