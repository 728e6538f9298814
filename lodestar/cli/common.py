"""What every `lodestar` command shares: the consoles, settings, the services, errors as messages.

Public on purpose: the command modules (and `lodestar eval`) import these instead of each other's
private helpers. Tests replace `build_services` to run a command over deterministic fakes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from lodestar.core.errors import LodestarError, describe_error
from lodestar.core.logs import configure_logging
from lodestar.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

    from lodestar.components.services import Services

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Index and caches [env LODESTAR_DATA_DIR; default ./.lodestar]"
    ),
]
KnowledgeDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--knowledge-dir", help="Default folder to ingest [env LODESTAR_KNOWLEDGE_DIR; ./knowledge]"
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend", help="LLM backend: local | openai | openai_like [env LODESTAR_LLM__BACKEND]"
    ),
]
DocTypeOpt = Annotated[
    str | None, typer.Option("--doc-type", help="Only role_profile, essay or guide documents")
]
RoleOpt = Annotated[str | None, typer.Option("--role", help="Only documents about this role")]

DEBUG_HINT = "set LODESTAR_DEBUG=1 to see the traceback"


def load_settings(data_dir: Path | None, knowledge_dir: Path | None) -> Settings:
    """The settings with the command's directory options applied; exit 2 if they are invalid."""
    try:
        settings = get_settings().with_dirs(data_dir, knowledge_dir)
    except Exception as exc:  # pydantic ValidationError from bad LODESTAR_* values
        err.print(f"[red]error:[/red] invalid settings: {exc}")
        raise typer.Exit(2) from exc
    # Every command starts here: from now on library warnings go to the data dir's log.
    configure_logging(settings.data_dir)
    return settings


def with_backend(settings: Settings, backend: str | None) -> Settings:
    """The settings with `--backend` applied; exit 2 for an unknown backend."""
    if backend is None:
        return settings
    if backend not in ("local", "openai", "openai_like"):
        err.print(
            f"[red]error:[/red] unknown backend {backend!r}; use local, openai or openai_like"
        )
        raise typer.Exit(2)
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": backend})})


def build_services(settings: Settings) -> Services:
    """The embedder, index and LLM for a command (built lazily); the seam tests replace."""
    from lodestar.components.services import Services

    return Services(settings)


def progress_bar(
    *more: ProgressColumn, description: str = "{task.description}", **options: Any
) -> Progress:
    """A progress bar on stderr: what it does, the bar, done of total, time, then `more`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        *more,
        console=err,
        **options,
    )


def write_output(text: str, output: Path | None) -> None:
    """`text` into the file `output` (its folder made first), or to stdout when there is none."""
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def print_error(exc: BaseException, *, brief: bool = False, console: Console = err) -> str:
    """Show an error on `console` (stderr) the terminal's way and return its message.

    `brief` is one escaped line without hint, for a run that goes on to show what it made
    (an interview kit stopped early); otherwise `error:` and its hint, or, for anything that is
    not a domain error, `unexpected error:` and how to see the traceback.
    """
    message, hint = describe_error(exc)
    if brief:
        console.print(f"[red]error:[/red] {escape(message)}")
    elif isinstance(exc, LodestarError):
        console.print(f"[red]error:[/red] {message}")
        if hint:
            console.print(f"  [dim]hint:[/dim] {hint}")
    else:
        console.print(f"[red]unexpected error:[/red] {message}")
        console.print(f"  [dim]hint:[/dim] {DEBUG_HINT}")
    return message


@contextmanager
def user_errors() -> Iterator[None]:
    """Report domain errors as one message; anything unexpected without a traceback too."""
    try:
        yield
    except LodestarError as exc:
        print_error(exc)
        raise typer.Exit(exc.exit_code) from exc
    except KeyboardInterrupt as exc:
        err.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from exc
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("LODESTAR_DEBUG"):
            raise
        print_error(exc)
        raise typer.Exit(1) from exc
