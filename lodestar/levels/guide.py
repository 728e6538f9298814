"""The level guide as it is handed over: skill areas × levels, each cell cited; md, json, csv.

`compare` keeps only what changes from one level to the next, area by area, for promotion
conversations.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any

from lodestar.answering.citations import Citation
from lodestar.core.text import location
from lodestar.grounding.guard import missing_terms
from lodestar.grounding.statements import NOT_DESCRIBED


@dataclass
class LevelCell:
    """What one level of one skill area is, in the documents' terms, and where that is said."""

    level: str
    text: str = NOT_DESCRIBED
    source: Citation | None = None  # None when not described
    line: str | None = None  # the document's own line for the level, the cell was checked on
    reason: str = ""  # how it was checked, or why it is not described
    attempts: int = 0
    seconds: float = 0.0
    cached: bool = False
    quoted: bool = False  # the document's own line, when no written cell held up

    @property
    def described(self) -> bool:
        """Whether the sources support a cell here."""
        return self.source is not None and self.text != NOT_DESCRIBED


@dataclass
class LevelRow:
    """One skill area: its category, the section it comes from, and a cell per level."""

    category: str
    area: str
    source: str
    heading: str
    roles: list[str]
    cells: dict[str, LevelCell] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """'Category › Area', or the area alone when the category is the same word."""
        return self.area if self.category in ("", self.area) else f"{self.category} › {self.area}"


@dataclass
class LevelGuide:
    """The matrix, with what it was built from and how long that took."""

    levels: list[str]
    rows: list[LevelRow]
    model: str
    fingerprint: str | None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def cells(self) -> list[LevelCell]:
        """Every cell, row by row."""
        return [row.cells[level] for row in self.rows for level in self.levels]

    @property
    def not_described(self) -> int:
        """Cells the sources do not support."""
        return sum(not cell.described for cell in self.cells)

    @property
    def quoted(self) -> int:
        """Cells that are the document's own line for the level (no written cell held up)."""
        return sum(cell.quoted for cell in self.cells)

    @property
    def generated(self) -> int:
        """Cells written by the model in this build (not read from the cache)."""
        return sum(cell.attempts > 0 and not cell.cached for cell in self.cells)

    def citations(self) -> dict[tuple[str, str], int]:
        """A number per cited passage, in order of first citation."""
        numbers: dict[tuple[str, str], int] = {}
        for cell in self.cells:
            if cell.source is not None:
                numbers.setdefault(_cite_key(cell.source), len(numbers) + 1)
        return numbers

    def citation_number(self, cell: LevelCell) -> int | None:
        """The number the cell's passage has among the guide's sources (None: not described)."""
        return self.citations().get(_cite_key(cell.source)) if cell.source else None

    def to_json(self) -> dict[str, Any]:
        """Plain data for `--format json`."""
        return {
            "levels": self.levels,
            "rows": [
                {
                    "category": row.category,
                    "area": row.area,
                    "source": row.source,
                    "heading": row.heading,
                    "roles": row.roles,
                    "cells": {
                        level: {**asdict(row.cells[level]), "described": row.cells[level].described}
                        for level in self.levels
                    },
                }
                for row in self.rows
            ],
            "not_described": self.not_described,
            "quoted": self.quoted,
            "cells": len(self.cells),
            "model": self.model,
            "fingerprint": self.fingerprint,
            "seconds": self.seconds,
            "notes": self.notes,
        }

    def to_markdown(self) -> str:
        """A table to paste into a career-ladder document, with its sources below it."""
        numbers = self.citations()
        lines = [
            "## Level guide",
            "",
            "| Skill area | " + " | ".join(level.capitalize() for level in self.levels) + " |",
            "|---" * (len(self.levels) + 1) + "|",
        ]
        for row in self.rows:
            cells = [_md_cell(row.cells[level], numbers) for level in self.levels]
            lines.append(f"| {_escape(row.name)} | " + " | ".join(cells) + " |")
        lines += ["", "Sources:", ""]
        lines += [f"[{n}] {title} ({source})" for (source, title), n in numbers.items()]
        lines += ["", *self._footer()]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """One row per skill area, a column per level and one for its source (spreadsheets)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        header = ["category", "area"]
        for level in self.levels:
            header += [level, f"{level} source"]
        writer.writerow(header)
        for row in self.rows:
            values = [row.category, row.area]
            for level in self.levels:
                cell = row.cells[level]
                values += [cell.text, _where(cell.source) if cell.source else ""]
            writer.writerow(values)
        return buffer.getvalue()

    def _footer(self) -> list[str]:
        return [
            f"_{len(self.cells)} cells, {self.not_described} not described"
            + (f", {self.quoted} quoted word for word from the source" if self.quoted else "")
            + f". Generated by Lodestar ({self.model}) from the knowledge base; each cell was "
            "checked against the passage it cites._",
            *(f"_Note: {note}._" for note in self.notes),
        ]


@dataclass
class LevelChange:
    """How one skill area changes from one level to another."""

    row: LevelRow
    before: LevelCell
    after: LevelCell


@dataclass
class LevelComparison:
    """Only the differences between two levels, area by area."""

    lower: str
    upper: str
    changes: list[LevelChange]
    same: list[str]  # areas whose cells say the same at both levels
    undescribed: list[str]  # areas described at neither level

    def to_json(self) -> dict[str, Any]:
        """Plain data for `--compare … --format json`."""
        return {
            "from": self.lower,
            "to": self.upper,
            "changes": [
                {
                    "category": c.row.category,
                    "area": c.row.area,
                    self.lower: asdict(c.before),
                    self.upper: asdict(c.after),
                }
                for c in self.changes
            ],
            "same": self.same,
            "undescribed": self.undescribed,
        }

    def to_markdown(self) -> str:
        """Area by area: what the lower level's cell says, and what the upper level's adds."""
        lines = [f"## From {self.lower} to {self.upper}", ""]
        for change in self.changes:
            lines += [
                f"### {change.row.name}",
                "",
                f"- **{self.lower.capitalize()}:** {_cell_text(change.before)}",
                f"- **{self.upper.capitalize()}:** {_cell_text(change.after)}",
                "",
            ]
        if self.same:
            lines += [f"_The same at both levels: {', '.join(self.same)}._", ""]
        if self.undescribed:
            lines += [f"_Described at neither level: {', '.join(self.undescribed)}._", ""]
        return "\n".join(lines)

    def to_csv(self) -> str:
        """One row per area that changes."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["category", "area", self.lower, self.upper, "source"])
        for c in self.changes:
            cited = c.after.source or c.before.source
            writer.writerow(
                [c.row.category, c.row.area, c.before.text, c.after.text, _where(cited)]
            )
        return buffer.getvalue()


def compare(guide: LevelGuide, lower: str, upper: str) -> LevelComparison:
    """The areas whose cells differ between `lower` and `upper` (both must be columns)."""
    changes: list[LevelChange] = []
    same: list[str] = []
    undescribed: list[str] = []
    for row in guide.rows:
        before, after = row.cells[lower], row.cells[upper]
        if not before.described and not after.described:
            undescribed.append(row.name)
        elif before.described and after.described and _norm(before.text) == _norm(after.text):
            same.append(row.name)
        else:
            changes.append(LevelChange(row=row, before=before, after=after))
    return LevelComparison(lower, upper, changes, same, undescribed)


def cell_context(cell: LevelCell) -> str:
    """What a cell may draw figures and names from: its cited passage, title and heading."""
    if cell.source is None:
        return ""
    return "\n".join([cell.source.title, cell.source.heading, cell.source.text, cell.level])


def ungrounded_cell_terms(cell: LevelCell) -> list[str]:
    """Figures and names in a cell that its cited passage does not contain: must be none."""
    if not cell.described:
        return []
    return list(dict.fromkeys(missing_terms(cell.text, cell_context(cell))))


def _cite_key(source: Citation) -> tuple[str, str]:
    return (source.source, source.location)


def _where(source: Citation | None) -> str:
    if source is None:
        return ""
    return f"{location(source.title, source.heading, keep_empty='both')} ({source.source})"


def _md_cell(cell: LevelCell, numbers: dict[tuple[str, str], int]) -> str:
    if not cell.described or cell.source is None:
        return f"_{NOT_DESCRIBED}_"
    return f"{_escape(cell.text)} [{numbers[_cite_key(cell.source)]}]"


def _cell_text(cell: LevelCell) -> str:
    if not cell.described or cell.source is None:
        return f"_{NOT_DESCRIBED}_"
    return f"{cell.text} ({location(cell.source.title, cell.source.heading, keep_empty='both')})"


def _escape(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
