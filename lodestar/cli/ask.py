"""`lodestar ask` and `lodestar chat`: answers in the terminal, one question or a conversation."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from lodestar.cli import common
from lodestar.cli.common import (
    BackendOpt,
    DataDirOpt,
    DocTypeOpt,
    KnowledgeDirOpt,
    RoleOpt,
    err,
    load_settings,
    out,
    user_errors,
    with_backend,
)

commands = typer.Typer()


@commands.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the structured result")] = False,
    k: Annotated[
        int | None, typer.Option("--k", min=1, max=50, help="Passages to retrieve")
    ] = None,
    doc_type: DocTypeOpt = None,
    role: RoleOpt = None,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Answer a question from the knowledge base, citing the passages used."""
    from lodestar.answering.engine import AnswerEngine
    from lodestar.cli.interview import answer_kit_request
    from lodestar.cli.terminal import show_answer
    from lodestar.interview.request import kit_request_for
    from lodestar.retrieval.passages import PassageFilters

    settings = with_backend(load_settings(data_dir, knowledge_dir), backend)
    filters = PassageFilters.chosen(doc_type, role)
    with user_errors():
        services = common.build_services(settings)
        services.load_in_background()  # the model loads while retrieval runs
        request = kit_request_for(question, services)
        if request is not None:
            request.role = request.role or role
            answer_kit_request(services, request, as_json=as_json)
            return
        engine = AnswerEngine(services)
        stream = engine.stream(question, k=k, filters=filters)
        if as_json:
            result = stream.answer()
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
            return
        show_answer(stream, out, err)


@commands.command()
def chat(
    doc_type: DocTypeOpt = None,
    role: RoleOpt = None,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """A conversation in the terminal: follow-ups, /new, /sources; Ctrl-D to leave."""
    from lodestar.answering.engine import AnswerEngine
    from lodestar.cli.chat import run_chat
    from lodestar.retrieval.passages import PassageFilters

    settings = with_backend(load_settings(data_dir, knowledge_dir), backend)
    filters = PassageFilters.chosen(doc_type, role)
    with user_errors():
        engine = AnswerEngine(common.build_services(settings))
        run_chat(
            engine,
            out,
            err,
            read=lambda: out.input("[bold cyan]›[/bold cyan] "),
            filters=filters,
            warm_up=engine.warm_up_in_background,
        )
