"""Fusing the vector and the keyword rankings for one question with llama-index's own fusion.

The classes are built on first use (`functools.cache`), so importing this module does not
import llama-index.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore, QueryBundle


def fuse(
    vector_hits: list[NodeWithScore],
    keyword: Any,
    bundle: QueryBundle,
    *,
    mode: str,
    vector_weight: float,
    top_k: int,
) -> list[NodeWithScore]:
    """The vector hits fused with the `keyword` retriever's ranking (`vector_weight` to the
    vector side), `top_k` of them; the vector hits alone when there is no keyword retriever."""
    if keyword is None:
        return vector_hits[:top_k]
    fusion = one_query_fusion(
        [fetched_retriever_class()(vector_hits), keyword],
        mode=mode,
        weights=[vector_weight, 1.0 - vector_weight],
        top_k=top_k,
    )
    return fusion.retrieve(bundle)


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
def fetched_retriever_class() -> type:
    """A retriever class over hits already fetched: fusion then does not search the store again."""
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
