"""Question to ranked passages from the index."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lodestar.errors import IndexEmptyError

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore

    from lodestar.services import Services


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

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form (`lodestar retrieve --json`)."""
        data = asdict(self)
        if data["page"] is None:
            del data["page"]
        return data

    @classmethod
    def from_node(cls, hit: NodeWithScore) -> Passage:
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
            page=int(page) if isinstance(page, int | float) and page != "" else None,
            node_id=hit.node.node_id,
        )


def retrieve_passages(question: str, services: Services, k: int | None = None) -> list[Passage]:
    """The `k` passages most similar to `question` (vector search over the Chroma index)."""
    from llama_index.core import VectorStoreIndex

    store = services.vector_store
    if store.client.count() == 0:
        raise IndexEmptyError(
            f"the index in {services.settings.data_dir} is empty",
            hint="run `lodestar ingest` first (it reads the knowledge dir by default)",
        )
    index = VectorStoreIndex.from_vector_store(store, embed_model=services.embed_model)
    retriever = index.as_retriever(similarity_top_k=k or services.settings.retrieval.top_k)
    return [Passage.from_node(hit) for hit in retriever.retrieve(question)]
