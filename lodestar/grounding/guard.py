"""The deterministic guard: figures, names and quantifiers a statement uses that its passages
never mention make it unsupported, whatever a model would say."""

from __future__ import annotations

import re
from collections.abc import Sequence

from lodestar.grounding.statements import split_statements

_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        [
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        ],
        start=2,
    )
} | {"twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100"}
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
# A capitalised word that does not start a sentence: a name, tool, company, place or title.
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][A-Za-z0-9+&-]{2,}")


def missing_terms(statement: str, context: str) -> list[str]:
    """Numbers and names in the statement that the context never mentions.

    A statement with one cannot be supported by the context, whatever the judge says: the small
    judge once accepted "the ML Engineering Manager profile requires experience with Snowflake"
    against passages that never name Snowflake. Short all-capital abbreviations (ML, AI, US) are
    left to the judge, since the context may spell them out.
    """
    flat = context.lower()
    numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(context)}
    missing = [
        n for n in _NUMBER.findall(statement) if n.replace(",", "").rstrip(".") not in numbers
    ]
    # Figures written as words ("two groups of three") are figures too: the word or its digits.
    for match in _NUMBER_WORD.finditer(statement):
        word = match.group(0).lower()
        if not re.search(rf"\b{word}\b", flat) and _NUMBER_WORDS[word] not in numbers:
            missing.append(match.group(0))
    for name in _NAME.findall(statement):
        if name.isupper() and len(name) <= 3:
            continue
        word = name.lower()
        if word not in flat and word.rstrip("s") not in flat:
            missing.append(name)
    return missing


# Quantifiers a small judge reads past: "all" where the passage says "many" is the commonest
# unsupported statement it accepts (eval/judge_calibration.jsonl, dev half). Words in one group
# stand for each other.
_QUANTIFIERS = (
    ("all", "every", "each"),
    ("always",),
    ("never",),
    ("none",),
    ("only",),
    ("highest",),
    ("lowest",),
    ("at least",),
    ("any",),
)


def missing_quantifiers(statement: str, context: str) -> list[str]:
    """Quantifiers ("all", "only", "at least", …) in the statement that the context never uses."""

    def uses(text: str, words: Sequence[str]) -> bool:
        return any(re.search(rf"\b{word}\b", text, re.IGNORECASE) for word in words)

    return [
        f"'{group[0]}'"
        for group in _QUANTIFIERS
        if uses(statement, group) and not uses(context, group)
    ]


def guard_findings(statement: str, context: str) -> list[str]:
    """Why the statement cannot be supported by the context, deterministically (empty: no
    reason found, the judge decides)."""
    return [*missing_terms(statement, context), *missing_quantifiers(statement, context)]


def ungrounded_terms(shown: str, passages: Sequence[str], refused: bool = False) -> list[str]:
    """Figures and names in a displayed answer that no supplied passage contains (must be none).

    A refusal's own text (the closest topics are document titles) is not an answer's claim.
    """
    if refused:
        return []
    context = "\n\n".join(passages)
    return [term for s in split_statements(shown, 1) for term in missing_terms(s.text, context)]
