"""The index's metadata vocabulary: how front matter is stored on passages, and what it names.

Ingestion writes a passage's roles and levels as joined strings ("junior; senior") plus one flag
per role (`role_key`); retrieval filters on those flags, and the interview kits, the level guide
and the app read the roles, levels and document types back from here, in one scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lodestar.core.errors import UnknownRoleError


@dataclass
class Catalogue:
    """Document types, roles and levels the knowledge base's front matter names, sorted."""

    doc_types: list[str]
    roles: list[str]
    levels: list[str]


def role_key(role: str) -> str:
    """Metadata key of the boolean flag that marks a passage as about `role` (for filters)."""
    return "role_" + re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_")


def split_list(value: Any) -> list[str]:
    """A front-matter list as the index stores it ("junior;senior;lead")."""
    return [v.strip() for v in str(value or "").split(";") if v.strip()]


def read_catalogue(collection: Any) -> Catalogue:
    """What the Chroma `collection`'s passages name, from every passage's metadata."""
    data = collection.get(include=["metadatas"])
    doc_types: set[str] = set()
    roles: set[str] = set()
    levels: set[str] = set()
    for meta in data["metadatas"] or []:
        if meta.get("doc_type"):
            doc_types.add(str(meta["doc_type"]))
        roles.update(split_list(meta.get("roles")))
        levels.update(split_list(meta.get("levels")))
    return Catalogue(sorted(doc_types), sorted(roles), sorted(levels))


def match_known(value: str, known: list[str], kind: str) -> str:
    """`value` as the knowledge base spells it, or an error listing the known ones."""
    for candidate in known:
        if candidate.lower() == value.strip().lower():
            return candidate
    raise UnknownRoleError(
        f"unknown {kind} {value!r}; the knowledge base describes: " + ", ".join(known),
        hint=f"pick one of the {kind}s above (they come from the documents' front matter)",
    )
