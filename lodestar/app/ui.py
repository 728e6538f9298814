"""What the Streamlit app needs from the library, so that `app.py` only renders.

The app builds its heavy objects once (`st.cache_resource`) through `build_services`, the same
factory the CLI uses; tests replace `build_services` to run the app with deterministic fakes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import LodestarError
from lodestar.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from lodestar.components.services import Services

ALL = "All"


def build_services(settings: Settings | None = None) -> Services:
    """The app's services: the configured embedder, index and LLM (built lazily)."""
    from lodestar.components.services import Services
    from lodestar.core.logs import configure_logging

    settings = settings or get_settings()
    # Once per server process (app.py caches the services): library warnings go to the log.
    configure_logging(settings.data_dir)
    return Services(settings)


def backend_label(settings: Settings) -> str:
    """Backend and model as configured, without loading the model."""
    from lodestar.components.llm.factory import DEFAULT_OPENAI_MODEL, LOCAL_MODEL_NAME

    cfg = settings.llm
    match cfg.backend:
        case "local":
            return f"local · {cfg.model if cfg.model not in (None, '', 'bundled') else LOCAL_MODEL_NAME} (bundled, offline)"
        case "openai":
            return f"openai · {cfg.model or DEFAULT_OPENAI_MODEL}"
        case _:
            return f"{cfg.backend} · {cfg.model or '?'} at {cfg.api_base or '?'}"


@dataclass
class FilterOptions:
    """Values the knowledge base's front matter offers for filtering and interview kits."""

    doc_types: list[str]
    roles: list[str]
    levels: list[str]


def filter_options(services: Services) -> FilterOptions:
    """Document types, roles and levels present in the index."""
    data = services.vector_store.client.get(include=["metadatas"])
    doc_types: set[str] = set()
    roles: set[str] = set()
    levels: set[str] = set()
    for meta in data["metadatas"] or []:
        if meta.get("doc_type"):
            doc_types.add(str(meta["doc_type"]))
        roles.update(r.strip() for r in str(meta.get("roles", "")).split(";") if r.strip())
        levels.update(v.strip() for v in str(meta.get("levels", "")).split(";") if v.strip())
    return FilterOptions(sorted(doc_types), sorted(roles), sorted(levels))


def passage_filters(doc_type: str | None, role: str | None) -> Any:
    """PassageFilters from the sidebar's choices ("All" means no filter)."""
    from lodestar.retrieval.hybrid import PassageFilters

    doc_type = None if doc_type in (None, ALL) else doc_type
    role = None if role in (None, ALL) else role
    return PassageFilters(doc_type=doc_type, role=role) if doc_type or role else None


def history(messages: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs of the conversation's answered turns, for follow-ups."""
    turns: list[tuple[str, str]] = []
    for message in messages:
        answer = message.get("answer")
        if message.get("role") == "assistant" and answer and not answer.get("refused"):
            turns.append((answer["question"], answer["answer"]))
    return turns


def explain(exc: BaseException) -> tuple[str, str]:
    """A message and what to do about it, for any error shown in the app."""
    if isinstance(exc, LodestarError):
        return exc.message, exc.hint or ""
    return (
        f"Unexpected error: {type(exc).__name__}: {exc}",
        "Run the same question with `lodestar ask` and LODESTAR_DEBUG=1 to see the details.",
    )


_CITATION = re.compile(r"\[(\d+)\]")


def display_citations(text: str) -> str:
    """Answer text for Markdown: `[1]` as a bold marker, an unverified statement badged."""
    from lodestar.grounding.verifier import UNVERIFIED_MARK

    text = _CITATION.sub(lambda m: f"**[{m.group(1)}]**", text)
    return text.replace(UNVERIFIED_MARK, ":orange-badge[unverified]")


def grounding_line(answer: dict[str, Any]) -> tuple[str, str]:
    """The verification summary of an answer, and its tone (`ok`, `partial`, `off`, `error`)."""
    verified = answer.get("verified") or {}
    if not verified.get("checked"):
        if verified.get("error"):
            return "error", f"Not verified: the check failed ({verified['error']})"
        return "off", "Not verified (verification is switched off)"
    total, supported = verified.get("statements", 0), verified.get("supported", 0)
    text = f"{supported} of {total} statements verified against their passages"
    removed = total - (verified.get("shown") or 0)
    if removed > 0:
        text += f"; {removed} removed as unsupported"
    elif supported < total:
        text += f"; {total - supported} marked unverified"
    return ("ok" if verified.get("verified") else "partial"), text


def kit_summary(kit: dict[str, Any]) -> str:
    """Asked for, made, time and model of a kit, for the caption above it."""
    text = (
        f"{kit['made']} of {kit['asked']} questions made in {kit['seconds']:.0f} s · {kit['model']}"
    )
    if kit.get("stopped"):
        text += f" · stopped early: {kit['stopped']}"
    return text


def slug(text: str) -> str:
    """File-name friendly form of a role or level."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "kit"


def level_table(guide: Any) -> list[dict[str, str]]:
    """The level guide as table rows: the skill area, then each level's cell with its number."""
    table = []
    for row in guide.rows:
        entry = {"skill area": row.name}
        for level in guide.levels:
            cell = row.cells[level]
            n = guide.citation_number(cell)
            entry[level] = f"{cell.text} [{n}]" if n else cell.text
        table.append(entry)
    return table


def level_summary(guide: Any) -> str:
    """Areas, levels and cells not described, for the caption above the guide."""
    return (
        f"{len(guide.rows)} skill areas × {len(guide.levels)} levels · "
        f"{guide.not_described} of {len(guide.cells)} cells not described · {guide.model}"
    )


def kit_for_cell(row: Any, level: str, role: str | None) -> dict[str, Any]:
    """The interview kit a level-guide cell asks for: its area and level, for the chosen role
    (or the first role its document is about)."""
    return {"role": role or row.roles[0], "level": level, "area": row.area, "count": 1}
