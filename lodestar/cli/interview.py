"""`lodestar interview`: an interview kit, question by question, kept on error or Ctrl-C."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lodestar.cli import common
from lodestar.cli.common import (
    BackendOpt,
    DataDirOpt,
    KnowledgeDirOpt,
    err,
    load_settings,
    print_error,
    user_errors,
    with_backend,
)

commands = typer.Typer()


@commands.command()
def interview(
    role: Annotated[str, typer.Option("--role", help='Role, e.g. "ML Engineering Manager"')],
    level: Annotated[str, typer.Option("--level", help="Level, e.g. senior")],
    count: Annotated[int, typer.Option("--count", min=1, max=20, help="Number of questions")] = 8,
    fmt: Annotated[str, typer.Option("--format", help="md or json")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
    area: Annotated[
        str | None,
        typer.Option("--area", help='Only this skill area or category, e.g. "Planning"'),
    ] = None,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Generate an interview kit for a role and level, grounded in the role profiles.

    Questions are shown as each one is checked; with -o the file is rewritten after each, so an
    error or Ctrl-C still leaves the questions made so far. Exit 0 when at least one was made.
    """
    from lodestar.interview import KitWriter

    if fmt not in ("md", "json"):
        err.print("[red]error:[/red] --format must be md or json")
        raise typer.Exit(2)
    settings = with_backend(load_settings(data_dir, knowledge_dir), backend)
    with user_errors(), err.status("Planning the interview kit…"):
        writer = KitWriter(common.build_services(settings), role, level, count, area=area)
    kit = writer.kit
    streaming = fmt == "md" and output is None
    if streaming:
        interrupted = stream_kit(writer)
    else:
        _say_plan(writer)
        interrupted = _write_questions(writer, streaming, output, fmt)
        if output:
            _write_kit(output, kit, fmt)
            err.print(f"wrote {output}")
        else:
            sys.stdout.write(_kit_text(kit, fmt))
    if kit.made == 0:
        err.print("[red]error:[/red] no question was made")
        raise typer.Exit(130 if interrupted else 1)
    if not kit.complete:
        err.print(f"[yellow]warning:[/yellow] {kit.made} of {kit.asked} questions made")
    err.print(
        f"[dim]{kit.made} questions in {kit.seconds:.0f} s (first after "
        f"{kit.first_question_s or 0:.1f} s), {kit.attempts} attempts[/dim]"
    )
    if interrupted:
        raise typer.Exit(130)


def stream_kit(writer: Any) -> bool:
    """The kit as Markdown on stdout, each question as soon as it is checked (also how `ask`
    and `chat` answer a request for interview questions); True when Ctrl-C stopped it."""
    _emit(writer.kit.header())
    _say_plan(writer)
    interrupted = _write_questions(writer, True, None, "md")
    _emit(writer.kit.footer())
    return interrupted


def answer_kit_request(services: Any, request: Any, *, as_json: bool = False) -> None:
    """`ask`/`chat` given a request for interview questions: the kit, written as `lodestar
    interview` writes it, or the question which role it is for."""
    from lodestar.interview.request import kit_writer_for, which_role

    if request.role is None:
        if as_json:
            reply = {"kit": None, "needs": "role", "roles": request.known_roles}
            sys.stdout.write(json.dumps(reply, ensure_ascii=False, indent=2) + "\n")
        else:
            sys.stdout.write(which_role(request.known_roles) + "\n")
        return
    err.print(
        f"[dim]a request for interview questions: {request.count} for {escape(request.role)}"
        f" ({request.level}){f', area {escape(request.area)}' if request.area else ''}[/dim]"
    )
    with err.status("Planning the interview kit…"):
        writer = kit_writer_for(services, request)
    if as_json:
        _say_plan(writer)
        _write_questions(writer, False, None, "json")
        sys.stdout.write(_kit_text(writer.kit, "json"))
    else:
        stream_kit(writer)
    kit = writer.kit
    err.print(
        f"[dim]{kit.made} of {kit.asked} questions in {kit.seconds:.0f} s; "
        "`lodestar interview` writes kits to a file (--output, --format json)[/dim]"
    )


def _say_plan(writer: Any) -> None:
    planned = ", ".join(q.competency for q in writer.plan.questions)
    err.print(f"[dim]planned {len(writer.plan.questions)} competencies: {escape(planned)}[/dim]")


def _write_questions(writer: Any, streaming: bool, output: Path | None, fmt: str) -> bool:
    """Show (and save) each question as it is checked; True when Ctrl-C stopped the kit."""
    from lodestar.interview import KitQuestion

    kit = writer.kit
    try:
        with err.status(f"Writing question 1 of {len(writer.plan.questions)}…") as status:
            for event in writer:
                if isinstance(event, KitQuestion):
                    if streaming:
                        _emit(kit.question_block(kit.made, event))
                    else:
                        err.print(
                            f"question {kit.made}: {escape(event.question)} "
                            f"[dim]({event.seconds:.1f} s)[/dim]"
                        )
                    if output:
                        _write_kit(output, kit, fmt)
                else:
                    err.print(f"[yellow]skipped:[/yellow] {escape(event.note)}")
                done = kit.made + len(kit.notes) - len(writer.plan.notes)
                status.update(f"Writing question {done + 1} of {len(writer.plan.questions)}…")
    except KeyboardInterrupt:
        kit.stopped = "interrupted"
        return True
    except Exception as exc:  # the model server went away, …: keep what was made
        if os.environ.get("LODESTAR_DEBUG"):
            raise
        kit.stopped = print_error(exc, brief=True)
    return False


def _emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _kit_text(kit: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(kit.to_json(), ensure_ascii=False, indent=2) + "\n"
    return str(kit.to_markdown())


def _write_kit(path: Path, kit: Any, fmt: str) -> None:
    """Replace the file in one step, so a kill never leaves half a kit in it."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(_kit_text(kit, fmt), encoding="utf-8")
    os.replace(partial, path)
