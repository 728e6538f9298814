"""How each attempt at a reply samples: the configured way first, then afresh with a seed of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lodestar.core.settings import LLMSettings


def sampling_for(llm: LLMSettings, attempt: int) -> dict[str, Any]:
    """How attempt `attempt` (1, 2, …) at a reply samples: the configured way first, then a
    little temperature and a seed of its own, so a retry cannot repeat the last reply (with the
    model's fixed seed, a retry whose prompt equals the last one's sampled it word for word)."""
    if attempt == 1:
        return {"temperature": llm.temperature}
    return {"temperature": 0.7, "seed": llm.seed + attempt}
