"""Where the level guide's rows and columns come from: the passages that describe levels.

A passage describes levels when it has lines that each open with a level its document's front
matter lists (`levels: [junior, senior, lead]` and "- **Junior ML Engineer**: …"). Each such
section is one row (its skill area, from the heading); the levels are the columns, in the order
the front matter lists them. A document without such lines adds no row, whatever its front
matter says, and nothing here is a list of areas or levels written in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lodestar.components.store.catalogue import match_known, split_list
from lodestar.core.errors import UnknownRoleError
from lodestar.retrieval.passages import Passage, passage_from_record, passage_text
from lodestar.retrieval.sections import LevelLine, category_of, competency_of, in_area, level_lines

if TYPE_CHECKING:
    from lodestar.components.services import Services


@dataclass
class LevelSection:
    """One section that describes a skill area level by level: a row of the guide."""

    category: str
    area: str
    passage: Passage  # the section's first levelled chunk
    lines: dict[str, LevelLine]  # level -> that level's line
    cited: dict[str, Passage] = field(default_factory=dict)  # level -> the chunk holding it
    roles: list[str] = field(default_factory=list)
    order: int = 0  # the chunk's place in its document

    @property
    def key(self) -> str:
        """Identifies the row across builds: its document and heading."""
        return f"{self.passage.source}#{self.passage.heading}"


@dataclass
class LevelSources:
    """Every levelled section of the knowledge base, and the levels they describe, in order."""

    sections: list[LevelSection]
    levels: list[str]

    @property
    def areas(self) -> list[str]:
        """The skill areas and categories the sections cover, for messages and menus."""
        names = [s.category for s in self.sections] + [s.area for s in self.sections]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def roles(self) -> list[str]:
        """The roles the levelled documents are about."""
        return sorted({r for s in self.sections for r in s.roles})


def level_sources(services: Services) -> LevelSources:
    """Read the levelled sections from the index (every passage, not a top-k search)."""
    data = services.vector_store.client.get(include=["metadatas", "documents"])
    metas: list[Any] = list(data["metadatas"] or [])
    positions: dict[str, list[int]] = {}  # level -> its places in the front-matter lists
    sections: dict[tuple[str, str], LevelSection] = {}
    for node_id, doc, meta in zip(data["ids"], data["documents"] or [], metas, strict=True):
        heading = str(meta.get("heading", "")).strip()
        listed = [level.lower() for level in split_list(meta.get("levels"))]
        if not heading or not listed:
            continue
        text = passage_text(doc, meta)
        lines = level_lines(text, listed)
        if len({line.level for line in lines}) < 2:
            continue  # a single level's line does not describe levels
        for n, level in enumerate(listed):
            positions.setdefault(level, []).append(n)
        passage = passage_from_record(text, meta, 1.0, str(node_id))
        order = int(meta.get("chunk_index", 0) or 0)
        section = sections.setdefault(
            (passage.source, heading),
            LevelSection(
                category=category_of(heading) or passage.title,
                area=competency_of(heading),
                passage=passage,
                lines={},
                roles=split_list(meta.get("roles")),
                order=order,
            ),
        )
        if order < section.order:
            section.passage, section.order = passage, order
        # A section cut into two chunks: each level's line cites the chunk it is in.
        for line in lines:
            if line.level not in section.lines:
                section.lines[line.level] = line
                section.cited[line.level] = passage
    described = {level for s in sections.values() for level in s.lines}
    rank = {level: sum(p) / len(p) for level, p in positions.items()}
    levels = sorted(described, key=lambda level: (rank[level], level))
    ordered = sorted(sections.values(), key=lambda s: (s.passage.source, s.order))
    return LevelSources(sections=ordered, levels=levels)


def select(
    sources: LevelSources,
    *,
    role: str | None = None,
    area: str | None = None,
    levels: list[str] | None = None,
) -> tuple[list[LevelSection], list[str]]:
    """The rows and columns asked for, or a clear error naming what the documents offer."""
    if not sources.sections:
        raise UnknownRoleError(
            "no document in the knowledge base describes levels",
            hint="ingest a career-ladder document: front matter `levels: [junior, senior]` and, "
            'per skill area, lines such as "- **Junior …**: what a junior does"',
        )
    sections = sources.sections
    if role is not None:
        role = match_known(role, sources.roles, "role")
        sections = [s for s in sections if role in s.roles]
    if area is not None:
        sections = [s for s in sections if in_area(s.passage.heading, area)]
        if not sections:
            raise UnknownRoleError(
                f"unknown area {area!r}; the level guide covers: " + ", ".join(sources.areas),
                hint="pick one of the areas above (they come from the documents' headings)",
            )
    columns = sources.levels
    if levels:
        columns = [match_known(level, sources.levels, "level") for level in levels]
    return sections, columns
