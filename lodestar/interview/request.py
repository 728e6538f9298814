"""A request for interview questions, told apart from a question about interviewing.

"Give me four interview questions for a senior ML Engineering Manager" asks for a kit: questions
to put to a candidate, written by the kit writer (each grounded in a passage, with signals of a
strong answer), not an answer *about* the role. "What should I probe when interviewing a lead?"
asks for advice and stays with the answer engine. The role, level, count and skill area are read
from the words, against the roles and levels the knowledge base's front matter names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lodestar.core.errors import UnknownRoleError
from lodestar.retrieval.sections import as_ml, role_named

if TYPE_CHECKING:
    from lodestar.components.services import Services
    from lodestar.interview.writer import KitWriter

DEFAULT_COUNT = 5
MAX_COUNT = 20
# The level a kit is written for when the request names none (when the knowledge base has it).
DEFAULT_LEVEL = "senior"

_NUMBERS = {
    "a couple of": 2,
    "a few": 3,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
_COUNT = r"(?P<count>\d{1,2}|" + "|".join(re.escape(w) for w in _NUMBERS) + r")"
# "interview questions", "an interview kit", "questions to ask a candidate", "questions to put to"
_KIT_WORDS = re.compile(
    r"\binterview(?:ing)?\s+(?:questions?|kit)\b"
    r"|\bquestions?\s+(?:to|I\s+(?:can|could|should))\s+(?:ask|put\s+to|pose\s+to)\b"
    r"|\bquestions?\s+(?:to|that)\s+(?:assess|evaluate|test|probe|screen|gauge)\b"
    r"|\bquestions?\s+for\s+(?:a|an|the|my)?\s*(?:candidate|interview)",
    re.IGNORECASE,
)
# A request: an imperative or "I need / can you", or "what/which questions should I ask".
_ASKS_FOR = re.compile(
    r"^\s*(?:please\s+)?(?:give|write|suggest|list|draft|prepare|create|generate|make|propose|"
    r"share|provide|send|show)\b"
    r"|\b(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:give|write|suggest|list|draft|"
    r"prepare|create|generate|make|propose|share|provide|come\s+up\s+with)\b"
    r"|\bI\s+(?:need|want|would\s+like|'d\s+like)\b"
    r"|^\s*(?:what|which)\s+(?:\w+\s+){0,3}questions?\s+(?:should|could|can|would|do)\s+I\b"
    r"|^\s*(?:what|which)\s+(?:\w+\s+){0,3}questions?\s+(?:would|could|might|will|can)\s+"
    r"(?:separate|distinguish|tell|show|reveal|test|assess)\b",
    re.IGNORECASE,
)
_AREA = re.compile(
    r"(?:\b(?:about|on|covering|around|focused\s+on|focusing\s+on)\s+"
    # "to assess production ML experience", "to evaluate a candidate's people skills",
    # "to assess how a candidate handles model lifecycle management"
    r"|\b(?:assess|evaluate|test|gauge|probe)\s+(?:(?:a|an|the|their|his|her|this|"
    r"candidate'?s?)\s+)*(?:how\s+(?:\w+\s+){0,3}?(?:handles?|approaches?|manages?|deals?\s+"
    r"with|thinks?\s+about)\s+)?)"
    r"(?:their\s+|the\s+|his\s+|her\s+)?(?P<area>[A-Za-z][\w\s/&'-]{2,60}?)"
    r"(?=\s+(?:for|to|when|who|at|with|in)\b|\s*[?.!,;]|\s*$)",
    re.IGNORECASE,
)
# Words that say what kind of thing an area is, not which: "production ML experience" is
# about production ML, "people skills" about people.
_AREA_KIND = re.compile(
    r"\s+(?:experience|skills?|knowledge|abilit(?:y|ies)|expertise|attitude)$", re.IGNORECASE
)


@dataclass
class KitRequest:
    """What a request for interview questions names (role None: it names none we know)."""

    role: str | None
    level: str
    count: int
    area: str | None = None
    notes: list[str] = field(default_factory=list)
    known_roles: list[str] = field(default_factory=list)


def is_kit_request(text: str) -> bool:
    """Whether `text` asks for interview questions to put to a candidate."""
    return bool(_KIT_WORDS.search(text) and _ASKS_FOR.search(text))


def read_kit_request(text: str, roles: list[str], levels: list[str]) -> KitRequest | None:
    """The kit `text` asks for, read against the knowledge base's roles and levels; None when
    it does not ask for interview questions."""
    if not is_kit_request(text):
        return None
    plain = as_ml(text)
    role, rest = _named_role(plain, roles)
    notes: list[str] = []
    level = _named_level(rest, levels)
    if level is None:
        level = DEFAULT_LEVEL if DEFAULT_LEVEL in levels else (levels[0] if levels else "")
        notes.append(f"no level was named, so the kit is written for {level}")
    count = _count(plain)
    if count > MAX_COUNT:
        notes.append(f"{count} questions were asked for; a kit holds at most {MAX_COUNT}")
        count = MAX_COUNT
    area = _area(rest)
    return KitRequest(role=role, level=level, count=count, area=area, notes=notes)


def _named_role(text: str, roles: list[str]) -> tuple[str | None, str]:
    """The longest known role the text names, and the text without it (for the level)."""
    named = role_named(text, roles)
    if named is None:
        return None, text
    role, found = named
    return role, text[: found.start()] + " " + text[found.end() :]


def _named_level(text: str, levels: list[str]) -> str | None:
    """The level named first ("separate a lead ML engineer from a senior one" is for lead)."""
    found = [
        (m.start(), level)
        for level in levels
        if (m := re.search(rf"(?<!\w){re.escape(level)}(?:-level)?(?!\w)", text, re.IGNORECASE))
    ]
    return min(found)[1] if found else None


def _count(text: str) -> int:
    found = re.search(rf"(?<!\w){_COUNT}\s+(?:\w+\s+){{0,3}}questions?\b", text, re.IGNORECASE)
    if found is None:
        return DEFAULT_COUNT
    word = found.group("count").lower()
    return max(1, int(word) if word.isdigit() else _NUMBERS[word])


def _area(text: str) -> str | None:
    found = _AREA.search(text)
    if found is None:
        return None
    area = " ".join(found.group("area").split())
    area = _AREA_KIND.sub("", area) if len(area.split()) > 1 else area
    # "for a senior ML Engineering Manager on the team" names no skill area
    if area.lower() in {"team", "a team", "my team", "role", "job", "candidate", "candidates"}:
        return None
    return area


def kit_request_for(text: str, services: Services) -> KitRequest | None:
    """The kit `text` asks for, read against this knowledge base; None for any other question
    (and for an index without roles, which could not hold a kit)."""
    if not is_kit_request(text):
        return None
    from lodestar.interview.plan import known_roles_and_levels

    roles, levels = known_roles_and_levels(services)
    if not roles or not levels:
        return None
    request = read_kit_request(text, roles, levels)
    if request is not None:
        request.known_roles = roles
    return request


def which_role(roles: list[str]) -> str:
    """The reply to a request for interview questions that names no role the index knows."""
    return (
        "Which role are the interview questions for? The knowledge base describes: "
        + ", ".join(roles)
        + '. Ask again with one of them, e.g. "Give me four interview questions for a senior '
        + f'{roles[0]}".'
    )


def kit_writer_for(services: Services, request: KitRequest) -> KitWriter:
    """The kit writer for `request` (its role must be known); an area no section is about is
    dropped with a note, and the kit covers the role's competencies instead."""
    from lodestar.interview.writer import KitWriter

    assert request.role is not None
    try:
        writer = KitWriter(services, request.role, request.level, request.count, area=request.area)
    except UnknownRoleError:
        if request.area is None:
            raise
        writer = KitWriter(services, request.role, request.level, request.count)
        writer.kit.notes.append(
            f"no section of the knowledge base is about {request.area!r} for {request.role}; "
            "the questions cover the role's competencies"
        )
    writer.kit.notes[:0] = request.notes
    return writer
