"""Reading a passage by its place in a document: the skill area its heading names, and the
lines of a section that describe one level each.

A section that describes levels ("**Junior ML Engineer**: …, **Senior ML Engineer**: …") has
one line per level; the interview kits cut such a passage down to the asked level's line, and
the level guide makes each such section a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "- **Senior ML Engineer**: can do a thorough requirement analysis …"
_LEVEL_LINE = re.compile(r"^\s*(?:[-*]\s+)?\*\*(?P<label>[^*]{2,60})\*\*\s*:?\s*(?P<text>.+)$")
# Section names that say where a passage sits, not what skill it is about.
_GENERIC_TAIL = re.compile(r"^(overview|introduction|summary)$", re.IGNORECASE)


@dataclass
class LevelLine:
    """What one level's line of a levelled section says."""

    level: str
    label: str
    text: str


def competency_of(heading: str) -> str:
    """The skill area a section is about, from its heading: "Responsibilities: Team Leadership"
    is Team Leadership, "Project Management: Overview" is Project Management."""
    last = heading.split("›")[-1].strip()
    parts = [p.strip() for p in last.split(":") if p.strip()]
    if not parts:
        return last or "General"
    if len(parts) > 1 and _GENERIC_TAIL.match(parts[-1]):
        return parts[0]
    return parts[-1]


def category_of(heading: str) -> str:
    """The skill category a section belongs to: "Project Management" for "Project Management:
    Planning", the parent heading for a nested one, "" when the heading names none."""
    parts = [p.strip() for p in heading.split("›") if p.strip()]
    if not parts:
        return ""
    head = [p.strip() for p in parts[-1].split(":") if p.strip()]
    if len(head) > 1:
        return head[0]
    return parts[-2] if len(parts) > 1 else ""


def in_area(heading: str, area: str) -> bool:
    """Whether a section is about `area`: its skill area or category, or a part of its heading."""
    wanted = " ".join(area.lower().split())
    return wanted in (competency_of(heading).lower(), category_of(heading).lower()) or (
        len(wanted) >= 3 and wanted in heading.lower()
    )


def level_lines(text: str, levels: list[str]) -> list[LevelLine]:
    """The lines of a passage that describe one level each, in the passage's order."""
    found: list[LevelLine] = []
    known = {level.lower() for level in levels}
    for line in text.splitlines():
        m = _LEVEL_LINE.match(line)
        if not m:
            continue
        first = m.group("label").split()[0].lower()
        if first in known:
            found.append(
                LevelLine(level=first, label=m.group("label").strip(), text=m.group("text").strip())
            )
    return found


def focus_on_level(
    text: str, level: str, levels: list[str]
) -> tuple[str, LevelLine | None, LevelLine | None]:
    """The passage without the lines of other levels, and the asked level's and the level
    below's lines (None when the passage does not describe the asked level).

    The level below's line is left out of the text too: shown it, the small model took its
    signals from it about as often as from the asked level's line. The kit quotes it as the
    source's own words instead (`KitQuestion.below`)."""
    lines = level_lines(text, levels)
    order = [line.level for line in lines]
    if level not in order:
        return text, None, None
    i = order.index(level)
    target = lines[i]
    below = lines[i - 1] if i > 0 else None
    keep = {target.text}
    kept: list[str] = []
    for raw in text.splitlines():
        m = _LEVEL_LINE.match(raw)
        if (
            m
            and m.group("label").split()[0].lower() in order
            and m.group("text").strip() not in keep
        ):
            continue
        kept.append(raw)
    return "\n".join(kept).strip(), target, below
