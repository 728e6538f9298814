"""An answer in a terminal, for `lodestar ask` and `lodestar chat`.

Sources first (the passages being read, as soon as retrieval has found them), then the text
as it is generated, then the verdicts, the verified answer when they changed it, the cited
sources and the timings. Answer text goes to `out`, everything about it to `err`, so that
`lodestar ask ... > answer.txt` keeps only the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from lodestar.answering.result import Answer
    from lodestar.answering.stream import AnswerStream


def show_answer(stream: AnswerStream, out: Console, err: Console) -> Answer:
    """Print a whole answer as it is made; return the checked result."""
    print_reading(stream.passages, err)
    with err.status("Reading the passages…"):
        deltas = iter(stream)
        first = next(deltas, "")
    out.print(first, end="", markup=False, highlight=False)
    for delta in deltas:
        out.print(delta, end="", markup=False, highlight=False)
    out.print()
    with err.status("Checking each statement against its passage…"):
        result = stream.answer()  # verification runs once the stream is consumed
    print_grounding(result, out, err)
    if result.removed_citations:
        err.print(
            "[yellow]note:[/yellow] removed citations to passages that were not supplied: "
            + ", ".join(f"[{n}]" for n in result.removed_citations)
        )
    print_sources(result, out)
    t = result.timings
    first_token = f"first token {t.first_token_ms / 1000:.1f}s, " if t.first_token_ms else ""
    err.print(
        f"[dim]{result.model} · retrieval {t.retrieval_ms:.0f}ms, {first_token}"
        f"total {t.total_ms / 1000:.1f}s[/dim]"
    )
    return result


def print_reading(passages: Sequence[Any], err: Console) -> None:
    """The passages the model is reading (titles), before it writes anything."""
    if not passages:
        return
    err.print(f"[dim]Reading {len(passages)} passages:[/dim]")
    for n, p in enumerate(passages, start=1):
        err.print(f"[dim]  \\[{n}] {escape(p.location)}[/dim]", highlight=False)
    err.print()


def print_sources(result: Answer, out: Console) -> None:
    """The passages the shown answer cites."""
    if not result.citations:
        return
    out.print("\n[bold]Sources[/bold]")
    for c in result.citations:
        page = f", page {c.page}" if c.page else ""
        out.print(
            f"  \\[{c.n}] {escape(c.location)} [dim]({escape(c.source)}{page})[/dim]",
            highlight=False,
        )


def print_grounding(result: Answer, out: Console, err: Console) -> None:
    """After the streamed text: the verdicts, and what is shown instead when they changed it."""
    from lodestar.answering.presentation import grounding_line

    tone, line = grounding_line(result.verified)
    color = {"ok": "green", "partial": "yellow", "off": "dim", "error": "red"}[tone]
    if result.refused and result.raw_answer:
        err.print(
            "[yellow]none of the statements above could be verified against the passages:[/yellow]"
        )
        out.print(result.answer, markup=False, highlight=False)
        return
    if result.refused:  # the refusal itself was what streamed
        return
    err.print(f"[{color}]{line}[/{color}]")
    for verdict in result.grounding:
        if not verdict["supported"]:
            err.print(
                f"  [red]✗[/red] {escape(verdict['statement'])} "
                f"[dim]({escape(verdict['reason'])})[/dim]"
            )
    verified = result.verified
    changed = verified.get("shown") != verified.get("statements") or any(
        not v["supported"] or "citation" in v["reason"] for v in result.grounding
    )
    if result.raw_answer and changed:  # something was removed, marked or re-cited
        out.print("\n[bold]Verified answer[/bold]")
        out.print(result.answer, markup=False, highlight=False)


def print_passages(result: Answer | None, out: Console) -> None:
    """Every passage the last answer read, in full, cited ones marked (`/sources` in chat)."""
    if result is None or not result.supplied:
        out.print("[dim]No passages yet: ask a question first.[/dim]")
        return
    cited = {c.n for c in result.citations}
    for c in result.supplied:
        mark = "[green]cited[/green] " if c.n in cited else ""
        page = f", page {c.page}" if c.page else ""
        out.print(
            f"\n[bold]\\[{c.n}][/bold] {mark}{escape(c.location)} "
            f"[dim]({escape(c.source)}{page})[/dim]",
            highlight=False,
        )
        out.print(c.text.strip(), markup=False, highlight=False)
