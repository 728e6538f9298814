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

from lodestar.grounding.guard import guard_findings
from lodestar.retrieval.sections import MIN_SIGNAL_WORDS, passage_clauses

# A signal must tell the panel something the question does not: "keeps models reliable" under
# "How do you keep models reliable?" only says the question back.
MIN_NEW_WORDS = 2
_FILLER_WORDS = (
    "a an the and or of to in on for with by at from as is are be been being it its their his "
    "her they them this that these those who which what how when where why you your can could "
    "would should will do does did has have had not no into over about across within such up "
    "strong good clear ability able shows show demonstrates demonstrate understanding "
    "understands experience knowledge"
)
_FILLER = frozenset(_FILLER_WORDS.split())


def _stem(word: str) -> str:
    """A word's first five letters after a plain English ending ("keeps", "kept" aside)."""
    for ending in ("ing", "ies", "ed", "es", "s", "ly"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    return word[:5]


def new_words(signal: str, question: str) -> list[str]:
    """The signal's words that the question does not already say (fillers aside; "reliably"
    and "reliable" count as one word)."""
    asked = {_stem(w) for w in re.findall(r"[\w'’-]+", question.lower())}
    return [
        w
        for w in re.findall(r"[\w'’-]+", signal.lower())
        if w not in _FILLER and _stem(w) not in asked
    ]


def adds_to(question: str, signal: str) -> bool:
    """Whether a signal says at least MIN_NEW_WORDS things the question does not."""
    return len(new_words(signal, question)) >= MIN_NEW_WORDS


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
    asked: str = "",
) -> list[str]:
    """Up to `need` clauses of `context` to add to the `kept` signals: the most like the question
    (unit vector `question`, text `asked`) first, none repeating a kept signal or the question,
    none the guard objects to."""
    if need <= 0:
        return []
    taken = [k.lower() for k in kept]
    clauses = [
        c
        for c in passage_clauses(context)
        if not any(c.lower() in t or t in c.lower() for t in taken)
        and adds_to(asked, c)
        and not guard_findings(c, context)
    ]
    if not clauses:
        return []
    vectors = np.asarray(embed(clauses), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12
    order = np.argsort(-(vectors @ question), kind="stable")
    return [clauses[i] for i in order[:need]]
