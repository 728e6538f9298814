"""Signals quoted from the passage, for a question whose own signals did not hold up.

A signal is what the documents say such a person does or knows. When fewer of the model's
signals survive their check than a question needs, the rest are taken from the passage itself:
its lines, sentences and clauses (the asked level's line, for a passage that describes levels),
the ones most like the question first. Quoted, they are grounded by construction; they still go
through the deterministic figure-and-name guard. Writing the signals again instead was the most
common cause of a second and third attempt (the small model repeats its short or off-level
phrases), and each attempt costs seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from lodestar.core.text import CAPITAL, split_sentences
from lodestar.grounding.guard import guard_findings

# "ensures" is not a signal a panel can listen for; "estimates project timelines" is.
MIN_SIGNAL_WORDS = 3
# A quoted clause longer than this is a paragraph, not something to listen for.
MAX_QUOTED_WORDS = 24
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LABEL = re.compile(r"^\*\*[^*]{1,60}\*\*\s*:?\s*")


def passage_clauses(text: str) -> list[str]:
    """The passage's quotable pieces, in order: each line without its bullet and bold label,
    cut into sentences, then at semicolons, then at ", and" when both sides are long enough to
    stand alone; only pieces of MIN_SIGNAL_WORDS to MAX_QUOTED_WORDS words."""
    pieces: list[str] = []
    for raw in text.splitlines():
        line = _LABEL.sub("", _BULLET.sub("", raw.strip())).strip()
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
        if MIN_SIGNAL_WORDS <= words <= MAX_QUOTED_WORDS and capitalised * 2 <= words:
            clauses.append(piece)
    return list(dict.fromkeys(clauses))


def _split_and(part: str) -> list[str]:
    head, sep, tail = part.partition(", and ")
    if sep and len(head.split()) >= 4 and len(tail.split()) >= 4:
        return [head, *_split_and(tail)]
    return [part]


_NEGATION = re.compile(r"(?:\bnot|\bno|\bnever|\bwithout|n't)\W*$", re.IGNORECASE)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w'’-]+", text.lower()))


def quoted_from(signal: str, context: str) -> bool:
    """Whether a signal is the passage's own words, word for word (case and punctuation aside),
    and not cut from after a negation ("afraid to pivot" out of "is not afraid to pivot")."""
    said = _words(signal)
    if len(said.split()) < MIN_SIGNAL_WORDS:
        return False
    for piece in re.split(r"[.;:!?\n]", context):  # within one sentence or clause
        source = f" {_words(piece)} "
        start = source.find(f" {said} ")
        while start >= 0:
            if not _NEGATION.search(source[: start + 1]):
                return True
            start = source.find(f" {said} ", start + 1)
    return False


def quoted_signals(
    question: np.ndarray,
    context: str,
    kept: Sequence[str],
    need: int,
    embed: Callable[[list[str]], list[list[float]]],
) -> list[str]:
    """Up to `need` clauses of `context` to add to the `kept` signals: the most like the question
    (unit vector `question`) first, none repeating a kept signal, none the guard objects to."""
    if need <= 0:
        return []
    taken = [k.lower() for k in kept]
    clauses = [
        c
        for c in passage_clauses(context)
        if not any(c.lower() in t or t in c.lower() for t in taken)
        and not guard_findings(c, context)
    ]
    if not clauses:
        return []
    vectors = np.asarray(embed(clauses), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12
    order = np.argsort(-(vectors @ question), kind="stable")
    return [clauses[i] for i in order[:need]]
