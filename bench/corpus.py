"""Deterministic synthetic corpora built from knowledge/: a handbook of any size in passages.

Document `i` is a variant of knowledge document `i mod 16`: the same front matter (with a numbered
title), the same headings, and in each section the same number of text units (paragraphs, bullet
items, sentences), shuffled and with about a third swapped for units from other documents' sections.
The vocabulary, lengths and structure are therefore those of the real knowledge base, variants
differ from each other (so BM25 and vectors are not degenerate), and document `i` never depends on
the corpus size: the 1k corpus is a prefix of the 10k one, which is a prefix of the 100k one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from llama_index.core.schema import Document, TextNode

from ingest.chunking import SectionChunker, split_sections
from ingest.loaders import load_document
from ingest.pipeline import load_source_document

SOURCE_NAME = "handbook"  # the folder name, so passage ids are the same at every size
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass
class _Template:
    front_matter: dict[str, object]
    title: str
    sections: list[tuple[str, list[str]]]  # heading path as Markdown lines, text units


def _units(body: str) -> list[str]:
    """Bullet items stay whole; paragraphs are split into sentences."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and all(re.match(r"^([-*]|\d+\.)\s", line) for line in lines):
            units.extend(lines)
        elif lines:
            units.extend(_SENTENCE.split(" ".join(lines)))
    return [u for u in units if u]


def load_templates(knowledge: Path) -> list[_Template]:
    """Parse every knowledge document into front matter, headings and text units."""
    templates = []
    for path in sorted(knowledge.glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", raw, re.DOTALL)
        meta = yaml.safe_load(match.group(1)) if match else {}
        doc = load_document(path, doc_id=path.name, relpath=path.name, max_bytes=10**8)
        title = str(doc.metadata.get("title", path.stem))
        sections = [
            (
                "\n\n".join(f"{'#' * (n + 2)} {h}" for n, h in enumerate(section.headings)),
                _units(section.text),
            )
            for section in split_sections(doc.text, title)
        ]
        templates.append(_Template(meta or {}, title, [s for s in sections if s[1]]))
    return templates


def synthetic_document(i: int, templates: Sequence[_Template]) -> tuple[str, str]:
    """Document `i` as (relative path, Markdown text); a pure function of `i` and knowledge/."""
    rng = random.Random(f"lodestar-bench-{i}")
    base = templates[i % len(templates)]
    pool = [unit for t in templates for _, units in t.sections for unit in units]
    title = f"{base.title} (handbook variant {i})"
    meta = dict(base.front_matter, title=title)
    meta.pop("summary", None)
    parts = ["---", yaml.safe_dump(meta, sort_keys=True).strip(), "---", "", f"# {title}", ""]
    for headings, units in base.sections:
        body = list(units)
        rng.shuffle(body)
        for n in range(len(body)):
            if rng.random() < 0.33:
                body[n] = rng.choice(pool)
        if headings:
            parts += [headings, ""]
        for unit in body:
            parts += [unit, ""]
    return f"variant-{i:06d}.md", "\n".join(parts)


def write_corpus(
    root: Path, knowledge: Path, target_chunks: int, chunker: SectionChunker
) -> tuple[Path, int, int]:
    """Write documents into root/handbook/ until they hold `target_chunks` passages.

    Returns the folder, the number of documents and the number of passages (counted by loading
    each file and chunking it exactly as `lodestar ingest` does).
    """
    folder = root / SOURCE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    templates = load_templates(knowledge)
    docs = chunks = 0
    while chunks < target_chunks:
        relpath, text = synthetic_document(docs, templates)
        path = folder / relpath
        path.write_text(text, encoding="utf-8")
        chunks += len(chunker.chunk_document(_load(path, folder)))
        docs += 1
    return folder, docs, chunks


def corpus_nodes(
    folder: Path, chunker: SectionChunker, source_name: str = SOURCE_NAME
) -> list[TextNode]:
    """The passages `lodestar ingest` would make of every file in a corpus folder, in order."""
    nodes: list[TextNode] = []
    for path in sorted(folder.glob("*.md")):
        nodes.extend(chunker.chunk_document(_load(path, folder, source_name)))
    return nodes


def _load(path: Path, folder: Path, source_name: str = SOURCE_NAME) -> Document:
    return load_source_document(path, folder, source_name, max_bytes=10**8)
