"""The shape an answer should take, read from the question's words (no model call).

- `lookup`: a figure, a name, a list of things ("How much…", "Which tools…", "How many years…"):
  one to three bullets that give exactly what was asked.
- `guidance`: "what should I…", "how do I…", "why…": three to seven points, from a larger passage
  budget (`AnswerSettings.guidance_context_tokens`), since the answer draws on several sections.
- `general`: anything else, two to five bullets.

The instructions are the prompts `shape_<shape>.md`.

Comparisons of two roles and requests for interview questions are answered before this is asked
(`compare.py`, `interview/request.py`).
"""

from __future__ import annotations

import re
from typing import Literal

Shape = Literal["lookup", "guidance", "general"]

# The question itself is the last sentence: "I just became a tech lead. How do I …?"
_LAST_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_GUIDANCE = re.compile(
    r"(?:\bhow\s+(?:do|should|can|could|would|might)\s+(?:i|we|you|one|they|my|our|a|an|the)\b"
    r"|\bhow\s+to\b|\bwhat\s+(?:should|can)\s+(?:i|we|you|my|our|a|an|the)\b|^why\b"
    r"|\bwhat(?:'s| is)\s+the\s+best\s+way\b|\bany\s+(?:tips|advice)\b|^should\s+(?:i|we)\b)",
    re.IGNORECASE,
)
_LOOKUP_START = re.compile(
    r"^(?:how\s+(?:much|many|long|big|large)|in\s+how\s+many|which|who|when|where)\b",
    re.IGNORECASE,
)
_LOOKUP_WORDS = re.compile(
    r"\b(?:salary|salaries|pay|pays|paid|earn|earns|range|figure|figures|years?|size|percent"
    r"|percentage|number|tools?|platforms?|frameworks?|languages?|certifications?|degree)\b",
    re.IGNORECASE,
)


def answer_shape(question: str) -> Shape:
    """`lookup`, `guidance` or `general` for a question (its last sentence decides)."""
    text = question.strip()
    asked = _LAST_SENTENCE.split(text)[-1].strip() if text else text
    if _GUIDANCE.search(asked):
        return "guidance"
    if _LOOKUP_START.search(asked):
        return "lookup"
    if re.match(r"^what\b", asked, re.IGNORECASE) and _LOOKUP_WORDS.search(asked):
        return "lookup"
    return "general"
