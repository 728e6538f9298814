"""The passages the model reads: packed into the token budget, numbered, located, and with
instruction-like sentences taken out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict

from lodestar.answering.injection import neutralize_instructions
from lodestar.retrieval.passages import Passage


def pack_passages(
    passages: Sequence[Passage], budget: int, count_tokens: Callable[[str], int]
) -> list[Passage]:
    """Passages in rank order while the rendered context fits `budget`; the first always (trimmed).

    A passage that does not fit is skipped and a shorter one after it may still be packed.
    """
    packed: list[Passage] = []
    for passage in passages:
        if count_tokens(render_context([*packed, passage])) > budget:
            if not packed:
                packed.append(_trim(passage, budget, count_tokens))
            continue
        packed.append(passage)
    return packed


def render_context(passages: Sequence[Passage]) -> str:
    """The passages as the model reads them: numbered from 1, separated by blank lines."""
    return "\n\n".join(format_passage(n, p) for n, p in enumerate(passages, start=1))


def _trim(passage: Passage, budget: int, count_tokens: Callable[[str], int]) -> Passage:
    words = passage.text.split()
    while words and count_tokens(format_passage(1, passage, " ".join(words))) > budget:
        words = words[: int(len(words) * 0.9)]
    return Passage(**{**asdict(passage), "text": " ".join(words)})


def format_passage(n: int, passage: Passage, text: str | None = None) -> str:
    """How a passage appears in the prompt: numbered, located, instruction-like text removed."""
    body, _ = neutralize_instructions(text if text is not None else passage.text)
    return f"[{n}] {passage.location}\n{body.strip()}"
