"""Planning a kit before writing it: one passage per competency, for the role and the level.

The role's passages come straight from the index (every section of every document about the
role, not a top-k list), ranked by how much they say about skills and responsibilities, then
picked greedily so that each adds a competency unlike the ones already chosen (maximal marginal
relevance over the passages' own embeddings). A section that describes levels ("**Junior ML
Engineer**: …, **Senior ML Engineer**: …") is cut down to the asked level's line; the level
below's line is kept aside for the kit to quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lodestar.core.errors import GenerationError, UnknownRoleError
from lodestar.retrieval.hybrid import Passage

if TYPE_CHECKING:
    from lodestar.components.services import Services

# "- **Senior ML Engineer**: can do a thorough requirement analysis …"
_LEVEL_LINE = re.compile(r"^\s*(?:[-*]\s+)?\*\*(?P<label>[^*]{2,60})\*\*\s*:?\s*(?P<text>.+)$")
# Section names that say where a passage sits, not what skill it is about.
_GENERIC_TAIL = re.compile(r"^(overview|introduction|summary)$", re.IGNORECASE)
PLAN_QUERY = "{role} {level}: responsibilities, required experience, skills and competencies"
# How much a passage's likeness to one already chosen counts against it (MMR's 1 - lambda).
DIVERSITY = 0.3


@dataclass
class LevelLine:
    """What one level's line of a levelled section says."""

    level: str
    label: str
    text: str


@dataclass
class PlannedQuestion:
    """A competency to ask about and the passage (trimmed to the level) it is drawn from."""

    competency: str
    passage: Passage
    context: str  # the passage text the model reads and the signals are checked against
    target: LevelLine | None = None  # the asked level's line, when the passage describes levels
    below: LevelLine | None = None  # the level below's line
    relevance: float = 0.0


@dataclass
class KitPlan:
    """The competencies a kit will cover, in order, and why the plan may be short."""

    role: str
    level: str
    questions: list[PlannedQuestion]
    reserve: list[PlannedQuestion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def known_roles_and_levels(services: Services) -> tuple[list[str], list[str]]:
    """Roles and levels named in the knowledge base's front matter."""
    data = services.vector_store.client.get(include=["metadatas"])
    roles: set[str] = set()
    levels: set[str] = set()
    for meta in data["metadatas"] or []:
        roles.update(split_list(meta.get("roles")))
        levels.update(split_list(meta.get("levels")))
    return sorted(roles), sorted(levels)


def match_known(value: str, known: list[str], kind: str) -> str:
    """`value` as the knowledge base spells it, or an error listing the known ones."""
    for candidate in known:
        if candidate.lower() == value.strip().lower():
            return candidate
    raise UnknownRoleError(
        f"unknown {kind} {value!r}; the knowledge base describes: " + ", ".join(known),
        hint=f"pick one of the {kind}s above (they come from the documents' front matter)",
    )


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


def plan_kit(
    services: Services,
    role: str,
    level: str,
    count: int,
    reserve: int = 0,
    area: str | None = None,
) -> KitPlan:
    """Up to `count` passages about the role at the level, each on a different competency, and
    up to `reserve` more, next in line, to stand in for a question that cannot be written;
    with `area`, only sections about that skill area or category (see `in_area`)."""
    from ingest.chunking import role_key

    roles, levels = known_roles_and_levels(services)
    role = match_known(role, roles, "role")
    level = match_known(level, levels, "level")
    data = services.vector_store.client.get(
        where={role_key(role): 1}, include=["metadatas", "documents", "embeddings"]
    )
    metas: list[Any] = list(data["metadatas"] or [])
    if not metas:
        raise GenerationError(f"no passages about {role} were found to base questions on")
    texts = [
        passage_text(doc, meta) for doc, meta in zip(data["documents"] or [], metas, strict=True)
    ]
    vectors = _unit(np.asarray(data["embeddings"], dtype=np.float64))
    notes: list[str] = []
    at_level = [i for i, m in enumerate(metas) if level in split_list(m.get("levels"))]
    if not at_level:
        notes.append(
            f"no document about {role} lists the level {level}; all its passages were used"
        )
        at_level = list(range(len(metas)))
    query = _unit(np.asarray([services.embed_question(PLAN_QUERY.format(role=role, level=level))]))[
        0
    ]
    relevance = vectors @ query
    # One candidate per section: its most relevant chunk.
    best: dict[tuple[str, str], int] = {}
    for i in at_level:
        if not str(metas[i].get("heading", "")).strip():
            continue  # a document's opening lines introduce it; they name no skill area
        where = f"{metas[i].get('title', '')} › {metas[i].get('heading', '')}"
        if names_another_role(where, role, roles):
            continue  # a section (or a document) about another role that mentions this one
        key = (str(metas[i].get("source", "")), str(metas[i].get("heading", "")))
        if key not in best or relevance[i] > relevance[best[key]]:
            best[key] = i
    if area is not None:
        known = sorted({competency_of(k[1]) for k in best} | {category_of(k[1]) for k in best})
        best = {k: i for k, i in best.items() if in_area(k[1], area)}
        if not best:
            raise UnknownRoleError(
                f"unknown area {area!r} for {role} ({level}); its sections cover: "
                + ", ".join(a for a in known if a),
                hint="pick one of the areas above (they come from the documents' headings)",
            )
    candidates = sorted(best.values(), key=lambda i: -relevance[i])
    chosen: list[int] = []
    competencies: set[str] = set()
    while candidates and len(chosen) < count + reserve:

        def score(i: int) -> float:
            likeness = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
            return float(relevance[i]) - DIVERSITY * likeness

        pick = max(candidates, key=score)
        candidates.remove(pick)
        name = competency_of(str(metas[pick].get("heading", ""))).lower()
        if name in competencies:
            continue
        competencies.add(name)
        chosen.append(pick)
    planned = []
    for i in chosen:
        passage = passage_from_meta(texts[i], metas[i], float(relevance[i]), str(data["ids"][i]))
        context, target, below = focus_on_level(passage.text, level, levels)
        planned.append(
            PlannedQuestion(
                competency=competency_of(passage.heading),
                passage=passage,
                context=context,
                target=target,
                below=below,
                relevance=round(float(relevance[i]), 4),
            )
        )
    spare = planned[count:]
    planned = planned[:count]
    if len(planned) < count:
        scope = f"{role} ({level})" + (f" in {area}" if area else "")
        notes.append(
            f"the knowledge base describes {len(planned)} distinct competencies for {scope}; "
            f"{count} were asked for"
        )
    return KitPlan(role=role, level=level, questions=planned, reserve=spare, notes=notes)


def names_another_role(heading: str, role: str, roles: list[str]) -> bool:
    """Whether a "title › heading" names one of the other known roles and not `role` ("Senior
    Machine Learning Engineer LLM: Key Responsibilities" is not about a Staff Machine Learning
    Scientist, nor "ML Engineering Team Lead: Salary Ranges" about an ML Engineer)."""

    def named(name: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", heading, re.IGNORECASE) is not None

    return not named(role) and any(named(other) for other in roles if other != role)


def split_list(value: Any) -> list[str]:
    """A front-matter list as the index stores it ("junior;senior;lead")."""
    return [v.strip() for v in str(value or "").split(";") if v.strip()]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)


def passage_text(document: str | None, meta: Any) -> str:
    """The passage text as retrieval returns it (llama-index keeps the node in `_node_content`)."""
    import json

    content = meta.get("_node_content")
    if content:
        try:
            return str(json.loads(content).get("text") or document or "")
        except ValueError:
            pass
    return document or ""


def passage_from_meta(text: str, meta: Any, relevance: float, node_id: str) -> Passage:
    """A Passage from a collection record."""
    page = meta.get("page")
    return Passage(
        text=text,
        source=str(meta.get("source", "")),
        title=str(meta.get("title", "")),
        heading=str(meta.get("heading", "")),
        score=round(relevance, 4),
        doc_type=str(meta.get("doc_type", "")),
        page=int(page) if isinstance(page, int | float) and not isinstance(page, bool) else None,
        node_id=node_id,
        similarity=round(relevance, 4),
    )
