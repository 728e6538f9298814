"""A checked answer as the user sees it: unsupported statements dropped or marked, and a
Grounding read back from `ask --json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from lodestar.core.text import CITATION, cited_numbers
from lodestar.grounding.statements import BULLET, split_statements
from lodestar.grounding.verifier import Grounding, Verdict

UNVERIFIED_MARK = "(unverified)"


def displayed_answer(
    answer: str, grounding: Grounding, mode: Literal["drop", "mark"]
) -> tuple[str, int]:
    """The answer as shown, and how many statements it shows.

    Statements the guard rejected (a figure or name no passage contains) are always removed:
    nothing shown may carry one. Statements the judge did not support are removed (`drop`) or
    kept with a mark (`mark`). Each line keeps its bullet; a kept statement keeps its citations.
    An intro line (ending in ':') is kept when a statement after it is; other lines without a
    statement (a refusal sentence) are not, since they would contradict the verified content.
    """
    if grounding.error is not None:
        return answer, len(split_statements(answer, 1))
    by_line: dict[int, list[Verdict]] = {}
    for verdict in grounding.verdicts:
        by_line.setdefault(verdict.line, []).append(verdict)
    out: list[str] = []
    shown = 0
    pending_intro: str | None = None
    for number, raw in enumerate(answer.splitlines()):
        if number not in by_line:
            stripped = raw.strip()
            if stripped.endswith(":") and not CITATION.search(stripped):
                pending_intro = raw.rstrip()
            continue
        kept = []
        for verdict in by_line[number]:
            if verdict.supported:
                kept.append(_with_cites(verdict))
            elif mode == "mark" and not verdict.guard:
                kept.append(f"{_with_cites(verdict)} {UNVERIFIED_MARK}")
        if not kept:
            continue
        shown += len(kept)
        if pending_intro is not None:
            out.append(pending_intro)
            pending_intro = None
        bullet = BULLET.match(raw)
        out.append((bullet.group(0) if bullet else "") + " ".join(kept))
    return "\n".join(out), shown


def _with_cites(verdict: Verdict) -> str:
    """The statement with its citations: where the model put them when they are still the
    statement's ("mentioned in [1] and [2]."), else before its closing punctuation ("… teams
    [2]."), as after a citation was corrected."""
    if not verdict.cites:
        return verdict.statement
    written = cited_numbers(verdict.written)
    if written and sorted(set(written)) == sorted(verdict.cites):
        return " ".join(verdict.written.split())
    body = verdict.statement.rstrip()
    end = body[-1] if body[-1] in ".!?;" else ""
    body = body[: len(body) - len(end)].rstrip()
    return f"{body} {''.join(f'[{n}]' for n in verdict.cites)}{end}"


def grounding_from_json(answer: str, verdicts: Sequence[dict[str, Any]]) -> Grounding:
    """A Grounding back from `ask --json`'s `grounding` list and the raw answer it checked."""
    statements = split_statements(answer, 1)
    if len(statements) != len(verdicts):
        raise ValueError("the verdicts do not belong to this answer")
    return Grounding(
        verdicts=[
            Verdict(**{**v, "line": s.line, "written": s.written})
            for v, s in zip(verdicts, statements, strict=True)
        ]
    )
