"""Reading a passage by its place in a document: the skill area its heading names, and the
lines of a section that describe one level each.

A section that describes levels ("**Junior ML Engineer**: …, **Senior ML Engineer**: …") has
one line per level; the interview kits cut such a passage down to the asked level's line, and
the level guide makes each such section a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lodestar.core.text import CAPITAL, LOCATION_SEPARATOR, split_sentences

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


# "ensures" is not a signal a panel can listen for; "estimates project timelines" is.
MIN_SIGNAL_WORDS = 3
# A quoted clause longer than this is a paragraph, not something to listen for.
MAX_QUOTED_WORDS = 24
# Fewer words than this either side of ", and" (or in the list item before it) do not stand alone.
_STANDS_ALONE = 4
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LABEL = re.compile(r"^\*\*([^*]{1,60})\*\*\s*:?\s*")


def passage_clauses(text: str, max_words: int = MAX_QUOTED_WORDS) -> list[str]:
    """The passage's quotable pieces, in order: each line without its bullet and bold label,
    cut into sentences, then at semicolons, then at ", and" when both sides are long enough to
    stand alone; only pieces of MIN_SIGNAL_WORDS to `max_words` words."""
    pieces: list[str] = []
    for raw in text.splitlines():
        line = labelled_line(raw)[1]
        if not line or line.startswith("#") or line.startswith("_"):
            continue
        for sentence in split_sentences(line, next_start=CAPITAL):
            for part in sentence.split(";"):
                pieces.extend(_split_and(part))
    clauses = []
    for piece in pieces:
        piece = " ".join(piece.split()).strip(" ,.;:")
        words = len(piece.split())
        capitalised = sum(w[:1].isupper() for w in piece.split())
        # "MLflow, Kubeflow, Airflow, DVC" is a list of names, not something a person does
        if MIN_SIGNAL_WORDS <= words <= max_words and capitalised * 2 <= words:
            clauses.append(piece)
    return list(dict.fromkeys(clauses))


def labelled_line(line: str) -> tuple[str, str]:
    """A line's bold label and its words after bullet and label, spaced as one line:
    "- **Experience**: no less than 5 years" is ("Experience", "no less than 5 years")."""
    text = _BULLET.sub("", line.strip())
    label = _LABEL.match(text)
    if label is None:
        return "", " ".join(text.split())
    return label.group(1).strip(), " ".join(text[label.end() :].split())


def _split_and(part: str) -> list[str]:
    """`part` cut at each ", and" between two pieces long enough to stand alone, but not at one
    that brings in a list's last item ("built gradually, through experience, reflection, and
    real care" is one piece: cut there, it ends mid-list)."""
    pieces: list[str] = []
    start = 0
    for found in re.finditer(r", and ", part):
        head, tail = part[start : found.start()], part[found.end() :]
        item = head.rsplit(",", 1)[-1]  # the piece's last item, if it is a list
        if min(len(head.split()), len(tail.split()), len(item.split())) >= _STANDS_ALONE:
            pieces.append(head)
            start = found.end()
    return [*pieces, part[start:]]


def names_another_role(heading: str, role: str, roles: list[str]) -> bool:
    """Whether a "title › heading" is about one of the other known roles and not `role`: the
    most specific part of it that names a known role decides ("Senior Machine Learning Engineer
    LLM: Key Responsibilities" is not about a Staff Machine Learning Scientist, nor "ML
    Engineering Team Lead: Salary Ranges" about an ML Engineer, nor a section headed for one role
    in a document whose title names several about the others)."""

    def named(name: str, part: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", part, re.IGNORECASE) is not None

    for part in reversed(heading.split(LOCATION_SEPARATOR)):
        if any(named(known, part) for known in roles):
            return not named(role, part)
    return False


_MACHINE_LEARNING = re.compile(r"\bmachine\s+learning\b", re.IGNORECASE)


def role_named(text: str, roles: list[str]) -> tuple[str, re.Match[str]] | None:
    """The longest of `roles` that `text` names, as a whole phrase, and where ("machine
    learning" and "ML" alike, a plural too: "lead machine learning engineers" names ML Engineer).
    The match is in `text` with "machine learning" written "ML" (`as_ml(text)`)."""
    plain = as_ml(text)
    for role in sorted(roles, key=len, reverse=True):
        found = re.search(rf"(?<!\w){re.escape(as_ml(role))}s?(?!\w)", plain, re.IGNORECASE)
        if found:
            return role, found
    return None


def as_ml(text: str) -> str:
    """`text` with "machine learning" written "ML"."""
    return _MACHINE_LEARNING.sub("ML", text)
