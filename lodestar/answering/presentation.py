"""How an answer's verification is summed up for a person, in the terminal and in the app alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Tone = Literal["ok", "partial", "off", "error"]


def grounding_line(verified: Mapping[str, Any]) -> tuple[Tone, str]:
    """The summary of an answer's `verified` block (`Answer.verified`, or its JSON), and its tone."""
    if not verified.get("checked"):
        if verified.get("error"):
            return "error", f"Not verified: the check failed ({verified['error']})"
        return "off", "Not verified (verification is switched off)"
    total, supported = verified.get("statements", 0), verified.get("supported", 0)
    if verified.get("quoted"):
        return "ok", f"{total} cells quoted word for word from their passages"
    text = f"{supported} of {total} statements verified against their passages"
    removed = total - (verified.get("shown") or 0)
    if removed > 0:
        text += f"; {removed} removed as unsupported"
    elif supported < total:
        text += f"; {total - supported} marked unverified"
    return ("ok" if verified.get("verified") else "partial"), text
