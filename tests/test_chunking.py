"""Structure-aware chunking: heading paths, token limits, stable ids, flat metadata."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import KNOWLEDGE
from llama_index.core import Document
from llama_index.core.schema import MetadataMode

from ingest.chunking import SectionChunker, split_sections
from lodestar.components.services import Services
from lodestar.components.store.catalogue import role_key
from lodestar.core.settings import Settings
from lodestar.core.text import LOCATION_SEPARATOR


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return Services(Settings()).tokenizer


@pytest.fixture
def chunker(tokenizer: Any) -> SectionChunker:
    return SectionChunker(
        chunk_tokens=60, overlap_tokens=10, max_prefix_tokens=40, tokenizer=tokenizer
    )


def test_sections_follow_the_heading_hierarchy() -> None:
    text = (
        "# Guide\n\nIntro.\n\n## Hiring\n\nHire well.\n\n### Interviews\n\nAsk.\n\n"
        "```\n# not a heading\n```\n\n## Pay\n\nMoney.\n"
    )
    sections = split_sections(text, title="Guide")
    assert [s.headings for s in sections] == [[], ["Hiring"], ["Hiring", "Interviews"], ["Pay"]]
    assert "# not a heading" in sections[2].text


def test_page_markers_set_the_page_of_each_section() -> None:
    text = "<!-- page 1 -->\n# T\n\nalpha\n<!-- page 2 -->\nbeta\n## Next\n\ngamma\n"
    sections = split_sections(text, title="T")
    assert [(s.text.replace("\n", " "), s.page) for s in sections] == [
        ("alpha", 1),
        ("beta", 2),
        ("gamma", 2),
    ]


def _doc(text: str, **meta: Any) -> Document:
    base = {"title": "Lead Guide", "doc_type": "guide", "roles": ["ML Tech Lead", "ML Engineer"]}
    return Document(text=text, doc_id="knowledge/guide.md", metadata={**base, **meta})


def test_passages_fit_the_embedder_window(chunker: SectionChunker, tokenizer: Any) -> None:
    body = " ".join(f"Sentence number {i} talks about mentoring engineers." for i in range(80))
    passages = chunker.chunk_document(_doc(f"# Lead Guide\n\n## Mentoring\n\n{body}\n"))
    assert len(passages) > 3
    for passage in passages:
        assert len(tokenizer(passage.get_content())) <= 60
        embedded = passage.get_content(metadata_mode=MetadataMode.EMBED)
        assert embedded.startswith(f"Lead Guide{LOCATION_SEPARATOR}Mentoring\n\n")
        assert len(tokenizer(embedded)) <= 60 + 40 + 2


def test_ids_are_stable_and_metadata_is_flat(chunker: SectionChunker) -> None:
    doc = _doc("# Lead Guide\n\n## A\n\nFirst part.\n\n## B\n\nSecond part.\n")
    first = chunker.chunk_document(doc)
    second = chunker.chunk_document(doc)
    assert [p.node_id for p in first] == ["knowledge/guide.md#0", "knowledge/guide.md#1"]
    assert [p.node_id for p in second] == [p.node_id for p in first]
    meta = first[1].metadata
    assert meta["heading"] == "B"
    assert meta["roles"] == "ML Tech Lead; ML Engineer"
    assert meta[role_key("ML Tech Lead")] == 1
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())
    assert first[1].ref_doc_id == "knowledge/guide.md"
    # Only the "title › heading" prefix reaches the embedder, never paths or roles.
    assert "knowledge/guide.md" not in first[1].get_content(metadata_mode=MetadataMode.EMBED)


def test_every_knowledge_document_chunks_within_the_window(tokenizer: Any) -> None:
    from ingest.loaders import load_document

    settings = Settings()
    chunker = SectionChunker(
        chunk_tokens=settings.chunking.chunk_tokens,
        overlap_tokens=settings.chunking.overlap_tokens,
        max_prefix_tokens=settings.embedding.max_tokens - settings.chunking.chunk_tokens - 8,
        tokenizer=tokenizer,
    )
    files = sorted(KNOWLEDGE.glob("*.md"))
    assert len(files) >= 12
    for path in files:
        doc = load_document(path, doc_id=f"k/{path.name}", relpath=path.name, max_bytes=10**7)
        for passage in chunker.chunk_document(doc):
            embedded = passage.get_content(metadata_mode=MetadataMode.EMBED)
            assert len(tokenizer(embedded)) + 2 <= settings.embedding.max_tokens, passage.node_id
