"""Structure-aware chunking: split on headings first, then by the embedder's own tokens.

Every passage keeps the document's title and its heading path as metadata; only a short
"title › heading" prefix goes into the embedded text, so a small passage ("5-20 engineers")
still says what it is about, while the rest of the metadata stays out of the vectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import (
    BaseNode,
    Document,
    MetadataMode,
    NodeRelationship,
    TextNode,
    TransformComponent,
)
from pydantic import ConfigDict, PrivateAttr

from ingest.loaders import PAGE_MARKER_RE
from lodestar.components.store.catalogue import role_key
from lodestar.core.text import LOCATION_SEPARATOR, location

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
# Metadata copied from the document onto each passage (flat values only: Chroma needs that).
_DOC_KEYS = ("title", "doc_type", "path", "file_name", "source", "source_name", "based_on")


@dataclass
class Section:
    """A run of text under one heading path, with the PDF page it starts on."""

    headings: list[str]
    text: str
    page: int | None


def split_sections(text: str, title: str) -> list[Section]:
    """Split Markdown into sections at headings (ignoring code fences), tracking page markers."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    buffer: list[str] = []
    page: int | None = None
    section_page: int | None = None
    in_fence = False

    def flush() -> None:
        body = "\n".join(buffer).strip()
        if body:
            headings = [h for _, h in stack]
            if headings and headings[0].strip().lower() == title.strip().lower():
                headings = headings[1:]
            sections.append(Section(headings, body, section_page))
        buffer.clear()

    for line in text.split("\n"):
        marker = PAGE_MARKER_RE.match(line)
        if marker:
            # A passage never spans pages, so each one can cite the page it is on.
            flush()
            page = section_page = int(marker.group(1))
            continue
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading.group(2).strip()))
            section_page = page
            continue
        if not "\n".join(buffer).strip():
            section_page = page
        buffer.append(line)
    flush()
    return sections


class SectionChunker(TransformComponent):
    """Turn Documents into passages of at most `chunk_tokens` embedder tokens each."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chunk_tokens: int
    overlap_tokens: int
    max_prefix_tokens: int
    tokenizer: Callable[[str], Sequence[Any]]
    _splitter: SentenceSplitter = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        """Build the sentence splitter once, measuring length with the embedder's tokenizer."""
        self._splitter = SentenceSplitter(
            chunk_size=self.chunk_tokens,
            chunk_overlap=self.overlap_tokens,
            tokenizer=self.tokenizer,
        )

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        """Chunk each document; passage ids are `<doc id>#<n>`, stable across runs."""
        out: list[BaseNode] = []
        for node in nodes:
            if isinstance(node, Document):
                out.extend(self.chunk_document(node))
            else:
                out.append(node)
        return out

    def chunk_document(self, doc: Document) -> list[TextNode]:
        """Split one document into passages carrying title, heading path and roles."""
        meta = doc.metadata
        title = str(meta.get("title", ""))
        base = {k: meta[k] for k in _DOC_KEYS if k in meta}
        base.update(_list_metadata(meta))
        source = doc.as_related_node_info()
        passages: list[TextNode] = []
        for section in split_sections(doc.get_content(MetadataMode.NONE), title):
            heading = LOCATION_SEPARATOR.join(section.headings)
            context = self._prefix(title, heading)
            for piece in self._splitter.split_text(section.text):
                metadata = dict(base, heading=heading, context=context)
                if section.page is not None:
                    metadata["page"] = section.page
                metadata["chunk_index"] = len(passages)
                passage = TextNode(
                    id_=f"{doc.doc_id}#{len(passages)}",
                    text=piece,
                    metadata=metadata,
                    metadata_template="{value}",
                    text_template="{metadata_str}\n\n{content}",
                    relationships={NodeRelationship.SOURCE: source},
                )
                # Only "title › heading" reaches the embedder and the LLM.
                hidden = [key for key in metadata if key != "context"]
                passage.excluded_embed_metadata_keys = hidden
                passage.excluded_llm_metadata_keys = hidden
                passages.append(passage)
        return passages

    def _prefix(self, title: str, heading: str) -> str:
        prefix = location(title, heading)
        while prefix and len(self.tokenizer(prefix)) > self.max_prefix_tokens:
            prefix = prefix[: int(len(prefix) * 0.8)].rstrip() + "…"
        return prefix


def _list_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Flatten list metadata for Chroma: a joined string plus one flag (1) per role.

    The flag is an int, not a bool: llama-index's MetadataFilter accepts no booleans.
    """
    flat: dict[str, Any] = {}
    roles = [str(r) for r in meta.get("roles", []) or []]
    levels = [str(level).lower() for level in meta.get("levels", []) or []]
    flat["roles"] = "; ".join(roles)
    flat["levels"] = "; ".join(levels)
    for role in roles:
        flat[role_key(role)] = 1
    return flat
