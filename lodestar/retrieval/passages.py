"""What retrieval hands on: a passage, the filters a search takes, and a question's result.

A passage is built either from a llama-index hit (`Passage.from_node`) or from a record read
straight from the Chroma collection (`passage_from_record`, for the kits and the level guide,
which read every section of a document rather than a top-k list).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lodestar.components.store.catalogue import role_key
from lodestar.core.text import location

if TYPE_CHECKING:
    from llama_index.core.schema import NodeWithScore
    from llama_index.core.vector_stores.types import MetadataFilters


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
        return location(self.title, self.heading)

    @classmethod
    def from_node(cls, hit: NodeWithScore, similarity: float | None = None) -> Passage:
        """Build from a llama-index retrieval hit."""
        meta = hit.node.metadata
        return cls(
            text=hit.node.get_content(),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            heading=str(meta.get("heading", "")),
            score=round(float(hit.score or 0.0), 4),
            doc_type=str(meta.get("doc_type", "")),
            page=_page(meta),
            node_id=hit.node.node_id,
            similarity=None if similarity is None else round(similarity, 4),
        )


def passage_text(document: str | None, meta: Any) -> str:
    """The passage text as retrieval returns it (llama-index keeps the node in `_node_content`)."""
    content = meta.get("_node_content")
    if content:
        try:
            return str(json.loads(content).get("text") or document or "")
        except ValueError:
            pass
    return document or ""


def passage_from_record(text: str, meta: Any, relevance: float, node_id: str) -> Passage:
    """A Passage from a collection record (`relevance` is both its score and its similarity)."""
    return Passage(
        text=text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        heading=str(meta.get("heading", "")),
        score=round(relevance, 4),
        doc_type=str(meta.get("doc_type", "")),
        page=_page(meta),
        node_id=node_id,
        similarity=round(relevance, 4),
    )


def _page(meta: Any) -> int | None:
    """The PDF page a passage is on, when its metadata holds one (a bool is not a page)."""
    page = meta.get("page")
    return int(page) if isinstance(page, int | float) and not isinstance(page, bool) else None


@dataclass
class PassageFilters:
    """Restrict retrieval to a document type and/or a role (values from the front matter)."""

    doc_type: str | None = None
    role: str | None = None

    @classmethod
    def chosen(
        cls, doc_type: str | None, role: str | None, *, all_label: str | None = None
    ) -> PassageFilters | None:
        """Filters for what a person chose (None or `all_label` means any); None if nothing."""
        doc_type = None if doc_type == all_label else doc_type
        role = None if role == all_label else role
        return cls(doc_type=doc_type, role=role) if doc_type or role else None

    def to_metadata_filters(self) -> MetadataFilters | None:
        """llama-index filters understood by both Chroma and the BM25 retriever."""
        from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

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
