"""Planning a kit before writing it: one passage per competency, for the role and the level.

The role's passages come straight from the index (every section of every document about the
role, not a top-k list), ranked by how much they say about skills and responsibilities, then
picked greedily so that each adds a competency unlike the ones already chosen (maximal marginal
relevance over the passages' own embeddings). A section that describes levels ("**Junior ML
Engineer**: …, **Senior ML Engineer**: …") is cut down to the asked level's line; the level
below's line is kept aside for the kit to quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lodestar.components.store.catalogue import match_known, read_catalogue, role_key, split_list
from lodestar.core.errors import GenerationError, UnknownRoleError
from lodestar.core.text import location
from lodestar.retrieval.passages import Passage, passage_from_record, passage_text
from lodestar.retrieval.sections import (
    LevelLine,
    category_of,
    competency_of,
    focus_on_level,
    in_area,
    names_another_role,
)

if TYPE_CHECKING:
    from lodestar.components.services import Services

PLAN_QUERY = "{role} {level}: responsibilities, required experience, skills and competencies"
# How much a passage's likeness to one already chosen counts against it (MMR's 1 - lambda).
DIVERSITY = 0.3


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
    found = read_catalogue(services.vector_store.client)
    return found.roles, found.levels


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
    best = _best_per_section(metas, at_level, relevance, role, roles)
    if area is not None:
        best = _in_area(best, area, f"{role} ({level})")
    chosen = _pick_diverse(
        sorted(best.values(), key=lambda i: -relevance[i]),
        metas,
        relevance,
        vectors,
        count + reserve,
    )
    planned = [
        _planned(texts[i], metas[i], float(relevance[i]), str(data["ids"][i]), level, levels)
        for i in chosen
    ]
    spare = planned[count:]
    planned = planned[:count]
    if len(planned) < count:
        scope = f"{role} ({level})" + (f" in {area}" if area else "")
        notes.append(
            f"the knowledge base describes {len(planned)} distinct competencies for {scope}; "
            f"{count} were asked for"
        )
    return KitPlan(role=role, level=level, questions=planned, reserve=spare, notes=notes)


def _planned(
    text: str, meta: Any, relevance: float, node_id: str, level: str, levels: list[str]
) -> PlannedQuestion:
    """The question planned on one passage, its text cut down to the asked level's line."""
    passage = passage_from_record(text, meta, relevance, node_id)
    context, target, below = focus_on_level(passage.text, level, levels)
    return PlannedQuestion(
        competency=competency_of(passage.heading),
        passage=passage,
        context=context,
        target=target,
        below=below,
        relevance=round(relevance, 4),
    )


def _best_per_section(
    metas: list[Any], at_level: list[int], relevance: np.ndarray, role: str, roles: list[str]
) -> dict[tuple[str, str], int]:
    """One candidate per section about the role: its most relevant chunk (source, heading)."""
    best: dict[tuple[str, str], int] = {}
    for i in at_level:
        if not str(metas[i].get("heading", "")).strip():
            continue  # a document's opening lines introduce it; they name no skill area
        where = location(metas[i].get("title", ""), metas[i].get("heading", ""), keep_empty="both")
        if names_another_role(where, role, roles):
            continue  # a section (or a document) about another role that mentions this one
        key = (str(metas[i].get("source", "")), str(metas[i].get("heading", "")))
        if key not in best or relevance[i] > relevance[best[key]]:
            best[key] = i
    return best


def _in_area(best: dict[tuple[str, str], int], area: str, scope: str) -> dict[tuple[str, str], int]:
    """The candidates whose sections are about `area`, or an error naming the areas there are."""
    known = sorted({competency_of(k[1]) for k in best} | {category_of(k[1]) for k in best})
    best = {k: i for k, i in best.items() if in_area(k[1], area)}
    if not best:
        raise UnknownRoleError(
            f"unknown area {area!r} for {scope}; its sections cover: "
            + ", ".join(a for a in known if a),
            hint="pick one of the areas above (they come from the documents' headings)",
        )
    return best


def _pick_diverse(
    candidates: list[int],
    metas: list[Any],
    relevance: np.ndarray,
    vectors: np.ndarray,
    limit: int,
) -> list[int]:
    """Up to `limit` candidates picked greedily by maximal marginal relevance, one per
    competency (`candidates` in order of relevance)."""
    chosen: list[int] = []
    competencies: set[str] = set()
    while candidates and len(chosen) < limit:

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
    return chosen


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)
