"""Writing the level guide: a cell per skill area and level, each checked against its passage.

Per cell the model rewrites the level's line of the area's section in one or two sentences
under a JSON schema; the reply is rejected (and written again, sampling a little) when it does
not validate, is longer than two sentences, names a figure or name the line lacks (the
deterministic guard), or the grounding verifier does not find it in the line. A cell no attempt
of which holds is the line itself, quoted (`LevelCell.quoted`; the document does describe the
level, in words of its own the small model kept adding to); a cell whose area has no line for
the level says "not described".

Cells are cached in the data dir under the index fingerprint (and the model, prompts and
settings that wrote them): built once per ingest, read instantly afterwards, and saved one by
one, so an interrupted build resumes where it stopped. The prompt opens with what every cell
shares (the system prompt), then the passage the three levels of an area share, and ends with
the asked level, so llama.cpp reuses the KV cache of both.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from pydantic import BaseModel, Field, field_validator

from lodestar.answering.citations import Citation, citation_for
from lodestar.answering.context import format_passage
from lodestar.components.store.manifest import write_json_atomic
from lodestar.core.prompts import load_prompt, render_prompt
from lodestar.core.text import count_sentences
from lodestar.drafting.rejections import Rejected
from lodestar.drafting.retry import Drafter, first_accepted, with_retry_note
from lodestar.grounding.guard import guard_findings
from lodestar.grounding.statements import Statement
from lodestar.levels.guide import NOT_DESCRIBED, LevelCell, LevelGuide, LevelRow
from lodestar.levels.source import LevelSection, level_sources, select

if TYPE_CHECKING:
    from lodestar.components.services import Services
    from lodestar.retrieval.passages import Passage
    from lodestar.retrieval.sections import LevelLine

PROMPTS = ("levels_system", "levels_cell", "interview_retry", "verify_statement")
# Bumped when the way cells are written or checked changes, so cached cells are written again
# (2: retries with seeds of their own; a cell no attempt holds is the line quoted).
BUILDER_VERSION = 2
MAX_SENTENCES = 2


# Share of a cell's content words its line may lack: a cell is the line in the documents'
# terms, not an elaboration (the verifier passed "…, which outlines the steps and objectives …
# serves as a roadmap" against "can execute a plan drawn up for an engineering problem").
MAX_NOVEL = 0.25
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_COMMON = frozenset(
    [
        "also",
        "been",
        "being",
        "does",
        "from",
        "have",
        "into",
        "more",
        "most",
        "other",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "will",
        "would",
        "engineer",
        "engineers",
        "level",
        "levels",
    ]
)


def content_words(text: str) -> list[str]:
    """The words of four letters or more that carry meaning (stop words and 'engineer' out)."""
    return [w for w in _WORD.findall(text.lower()) if w not in _COMMON]


def novel_words(text: str, context: str) -> list[str]:
    """Content words of `text` whose stem (first five letters) `context` never uses."""
    stems = {w[:5] for w in content_words(context)}
    return list(dict.fromkeys(w for w in content_words(text) if w[:5] not in stems))


def _is_other_level(raw: str, section: LevelSection, level: str) -> bool:
    return any(
        other != level and line.label in raw and line.text in raw
        for other, line in section.lines.items()
    )


class CellDraft(BaseModel):
    """One cell as the model must produce it."""

    cell: str = Field(min_length=10, max_length=400)

    @field_validator("cell")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())


class CellCache:
    """The cells built for one index fingerprint, model, prompt set and settings."""

    def __init__(self, folder: Path, key: str | None) -> None:
        self.path = folder / f"{key}.json" if key else None
        self.cells: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            try:
                self.cells = json.loads(self.path.read_text(encoding="utf-8"))["cells"]
            except (ValueError, KeyError):
                self.cells = {}  # a damaged cache is rebuilt, never trusted

    def get(self, key: str) -> LevelCell | None:
        """The cached cell, or None."""
        data = self.cells.get(key)
        if data is None:
            return None
        source = Citation(**data["source"]) if data.get("source") else None
        return LevelCell(**{**data, "source": source, "cached": True})

    def put(self, key: str, cell: LevelCell) -> None:
        """Keep the cell, on disk at once (a crash loses at most the cell being written)."""
        self.cells[key] = {**asdict(cell), "cached": False}
        if self.path is not None:
            write_json_atomic(self.path, {"cells": self.cells})


def cache_key(services: Services, fingerprint: str | None) -> str | None:
    """What a cached cell depends on; None when the index has no published fingerprint."""
    if not fingerprint:
        return None
    settings = services.settings
    parts = {
        "builder": BUILDER_VERSION,
        "fingerprint": fingerprint,
        "model": services.configured_llm_id,
        "prompts": [load_prompt(name).template for name in PROMPTS],
        "levels": settings.levels.model_dump(),
        "verifier": [settings.answer.verifier, settings.answer.verify_threshold],
    }
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def cell_key(section: LevelSection, level: str) -> str:
    """A cell's identity in the cache: its section, level and the line it is written from."""
    line = section.lines.get(level)
    digest = hashlib.sha256((line.text if line else "").encode()).hexdigest()[:12]
    return f"{section.key}|{level}|{digest}"


class LevelGuideBuilder:
    """Reads the levelled sections, fills the cells the cache holds, then writes the rest.

    Iterate it to see each written cell as it is checked (CLI progress, the app); `guide`
    always holds the matrix, with cells not yet written marked "not described" and `pending`.
    """

    def __init__(
        self,
        services: Services,
        *,
        role: str | None = None,
        area: str | None = None,
        levels: list[str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.services = services
        self.cfg = services.settings.levels
        self.clock = clock
        self.started = clock()
        sections, columns = select(level_sources(services), role=role, area=area, levels=levels)
        fingerprint = services.index_state().fingerprint
        self.cache = CellCache(services.paths.levels, cache_key(services, fingerprint))
        self.guide = LevelGuide(
            levels=columns, rows=[], model=services.configured_llm_id, fingerprint=fingerprint
        )
        if self.cache.path is None:
            self.guide.notes.append("the index has no fingerprint yet, so nothing was cached")
        self.pending: list[tuple[LevelRow, LevelSection, str]] = []
        for section in sections:
            row = LevelRow(
                category=section.category,
                area=section.area,
                source=section.passage.source,
                heading=section.passage.heading,
                roles=section.roles,
            )
            for level in columns:
                cached = self.cache.get(cell_key(section, level))
                if cached is not None:
                    row.cells[level] = cached
                elif level not in section.lines:
                    row.cells[level] = LevelCell(
                        level=level, reason=f"the section has no line for {level}"
                    )
                else:
                    row.cells[level] = LevelCell(level=level, reason="not written yet")
                    self.pending.append((row, section, level))
            self.guide.rows.append(row)
        self.drafter = Drafter(services)  # its LLM is loaded only when a cell must be written
        # Told the place in line while a cell waits for the model (Services.model_turn).
        self.on_wait: Callable[[int], None] | None = None

    def __iter__(self) -> Iterator[LevelCell]:
        while self.pending:
            row, section, level = self.pending.pop(0)
            with self.services.model_turn("level cell", self.on_wait):
                cell = self._write(section, level)
            row.cells[level] = cell
            self.cache.put(cell_key(section, level), cell)
            self.guide.seconds = round(self.clock() - self.started, 2)
            yield cell
        self.guide.seconds = round(self.clock() - self.started, 2)

    def run(self) -> LevelGuide:
        """Build every cell the cache lacks and return the guide."""
        for _ in self:
            pass
        return self.guide

    def _write(self, section: LevelSection, level: str) -> LevelCell:
        started = self.clock()
        line = section.lines[level]
        passage = section.cited[level]
        # Only the asked level's line: shown the others, the model mixed them in ("Kanban,
        # Scrum" from the junior line in the senior cell).
        focused = "\n".join(
            raw for raw in passage.text.splitlines() if not _is_other_level(raw, section, level)
        )
        prompt = render_prompt(
            "levels_cell",
            context=format_passage(1, passage, focused),
            area=section.area,
            level=level,
            line=line.text,
        )
        system = ChatMessage(role=MessageRole.SYSTEM, content=render_prompt("levels_system"))
        # What the cell is checked against: the section's own words about the area (its
        # opening line names "these disciplines") and the asked level's line, not the others'.
        context = f"{passage.location}\n{focused}"

        def attempt(number: int, rejections: Sequence[Rejected]) -> tuple[str, str]:
            # the retry note goes after the passage and the level: the shared prefix is untouched
            content = with_retry_note(prompt, rejections)
            messages = [system, ChatMessage(role=MessageRole.USER, content=content)]
            text = self._draft(messages, number)
            return text, self._check(text, context, messages)

        attempts = first_accepted(attempt, self.cfg.max_attempts)
        if attempts.result is not None:
            text, reason = attempts.result
            return LevelCell(
                level=level,
                text=text,
                source=citation_for(1, passage),
                line=line.text,
                reason=reason,
                attempts=attempts.made,
                seconds=round(self.clock() - started, 2),
            )
        return self._unwritten(level, line, passage, attempts.problems, started)

    def _unwritten(
        self, level: str, line: LevelLine, passage: Passage, problems: list[str], started: float
    ) -> LevelCell:
        """The cell no written attempt held up for: the line quoted when it is short enough,
        "not described" otherwise."""
        if count_sentences(line.text) <= MAX_SENTENCES:
            # The document does describe the level: its own line is the cell, word for word.
            quote = line.text[:1].upper() + line.text[1:]
            return LevelCell(
                level=level,
                text=quote if quote.rstrip()[-1:] in ".!?" else quote + ".",
                source=citation_for(1, passage),
                line=line.text,
                reason="quoted from the document: no written cell held up ("
                + "; ".join(problems)
                + ")",
                attempts=self.cfg.max_attempts,
                seconds=round(self.clock() - started, 2),
                quoted=True,
            )
        return LevelCell(
            level=level,
            text=NOT_DESCRIBED,
            line=line.text,
            reason=f"no cell its passage supports in {self.cfg.max_attempts} attempts ("
            + "; ".join(problems)
            + ")",
            attempts=self.cfg.max_attempts,
            seconds=round(self.clock() - started, 2),
        )

    def _draft(self, messages: list[ChatMessage], attempt: int) -> str:
        draft, _ = self.drafter.draft(
            messages, CellDraft, name="level_cell", max_tokens=self.cfg.max_tokens, attempt=attempt
        )
        text = draft.cell
        if "?" in text:
            raise Rejected("the cell must state what the level does, not ask a question.")
        if count_sentences(text) > MAX_SENTENCES:
            raise Rejected("the cell must be one or two sentences.")
        return text

    def _check(self, text: str, context: str, messages: list[ChatMessage]) -> str:
        """How the cell was found in its level's line; Rejected when it is not."""
        missing = guard_findings(text, context)
        if missing:
            raise Rejected(
                f"the cell names {', '.join(dict.fromkeys(missing))}, which the passage does not."
            )
        added = novel_words(text, context)
        if len(added) > MAX_NOVEL * len(content_words(text)):
            raise Rejected(
                "the cell adds words the passage does not use ("
                + ", ".join(added[:6])
                + "); keep to its own terms."
            )
        verdict = self.drafter.verifier.check_against(
            Statement(text=text, cites=[1]), [1], [context], messages
        )
        if not verdict.supported:
            raise Rejected("the cell says something the passage does not say of this level.")
        return verdict.reason
