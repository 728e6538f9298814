"""`lodestar chat`: a conversation in the terminal, with the models loaded once.

Each question is answered as `lodestar ask` answers it (sources first, streamed, verified);
follow-ups are condensed with the conversation so far, as in the app. While the first question
is being typed, the engine warms up on a thread (models, index, system prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console

from lodestar.answering.conversation import Conversation
from lodestar.cli.common import print_error
from lodestar.cli.interview import answer_kit_request
from lodestar.cli.terminal import print_passages, show_answer
from lodestar.core.errors import LodestarError
from lodestar.interview.request import kit_request_for

if TYPE_CHECKING:
    from lodestar.answering.engine import AnswerEngine
    from lodestar.retrieval.passages import PassageFilters

HELP = (
    "Ask a question; follow-ups use the conversation so far.\n"
    "  /new      start a new conversation\n"
    "  /sources  the passages the last answer read, in full\n"
    "  /help     this help\n"
    "  Ctrl-D or /quit to leave; Ctrl-C stops an answer"
)


def run_chat(
    engine: AnswerEngine,
    out: Console,
    err: Console,
    *,
    read: Callable[[], str],
    filters: PassageFilters | None = None,
    warm_up: Callable[[], object] | None = None,
) -> Conversation:
    """Read questions with `read` until end of input or /quit; answer each one."""
    conversation = Conversation()
    err.print(f"[dim]{HELP}[/dim]\n")
    if warm_up is not None:
        warm_up()
    while True:
        try:
            line = read().strip()
        except (EOFError, KeyboardInterrupt):
            out.print()
            return conversation
        if not line:
            continue
        if line.startswith("/"):
            if not _command(line, conversation, out, err):
                return conversation
            continue
        try:
            request = kit_request_for(line, engine.services)
            if request is not None:
                answer_kit_request(engine.services, request)
                continue
            stream = engine.stream(line, history=conversation.turns, filters=filters)
            conversation.record(line, show_answer(stream, out, err))
        except KeyboardInterrupt:
            err.print("\n[yellow]answer stopped[/yellow]")
        except LodestarError as exc:
            print_error(exc, console=err)
        out.print()


def _command(line: str, conversation: Conversation, out: Console, err: Console) -> bool:
    """Run a /command; False means leave."""
    name = line.split()[0].lower()
    match name:
        case "/quit" | "/exit":
            return False
        case "/new":
            conversation.clear()
            err.print("[dim]New conversation.[/dim]")
        case "/sources":
            print_passages(conversation.last, out)
        case "/help":
            err.print(f"[dim]{HELP}[/dim]")
        case _:
            err.print(f"[yellow]unknown command {name}[/yellow]; /help lists them")
    return True
