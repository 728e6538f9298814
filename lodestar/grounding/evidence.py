"""Evidence for a statement: the context line, or the passage, most like it (by the embedder)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lodestar.core.text import CLAIM_START, split_sentences
from lodestar.grounding.statements import BULLET

Embed = Callable[[list[str]], Sequence[Sequence[float]]]


def context_lines(context: str) -> list[str]:
    """The context's lines and sentences, list markers removed: the evidence candidates."""
    lines: list[str] = []
    for line in context.splitlines():
        line = BULLET.sub("", line).strip().lstrip("#").strip()
        if line:
            lines.extend(
                part for part in split_sentences(line, next_start=CLAIM_START) if part.strip()
            )
    return lines


def most_similar(statement: str, texts: Sequence[str], embed: Embed) -> int:
    """Index of the text most similar to the statement (cosine of the embedder's vectors)."""
    vectors = np.asarray(embed([statement, *texts]), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1) + 1e-12
    return int(((vectors[1:] @ vectors[0]) / (norms[1:] * norms[0])).argmax())


def evidence_line(statement: str, context: str, embed: Embed) -> str:
    """The context line most similar to the statement (by the embedder)."""
    lines = context_lines(context)
    if len(lines) <= 1:
        return lines[0] if lines else context
    return lines[most_similar(statement, lines, embed)]


def closest_passage(statement: str, passages: Sequence[str], embed: Embed) -> int:
    """The number (1-based) of the passage most similar to the statement."""
    return most_similar(statement, passages, embed) + 1
