"""`lodestar ingest`, `status` and `retrieve`: fill the index, say what it holds, show what it finds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from lodestar.cli import common
from lodestar.cli.common import (
    DataDirOpt,
    KnowledgeDirOpt,
    err,
    load_settings,
    out,
    progress_bar,
    user_errors,
)

commands = typer.Typer()


@commands.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Folders or files to ingest [default: the knowledge dir]"),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the index and re-embed every known source")
    ] = False,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Add, update and remove passages so the index matches the given folders."""
    from ingest.pipeline import ingest_paths

    settings = load_settings(data_dir, knowledge_dir)
    targets = paths or [settings.knowledge_dir]
    with user_errors():
        services = common.build_services(settings)
        with progress_bar(transient=True, disable=not err.is_terminal) as progress:
            tasks: dict[str, Any] = {}

            def on_progress(stage: str, advance: int, total: int | None) -> None:
                if stage not in tasks:
                    label = {
                        "files": "Reading files",
                        "documents": "Indexing documents",
                        "embedding": "Embedding passages",
                    }.get(stage, stage)
                    tasks[stage] = progress.add_task(label, total=total)
                if total is not None:
                    progress.update(tasks[stage], total=total)
                progress.advance(tasks[stage], advance)

            report = ingest_paths(targets, services, rebuild=rebuild, on_progress=on_progress)
    for failure in report.failed:
        err.print(f"[red]failed:[/red] {escape(failure.path)}: {escape(failure.reason)}")
    for skipped in report.skipped:
        err.print(f"[yellow]skipped:[/yellow] {escape(skipped.path)}: {escape(skipped.reason)}")
    for note in report.decoded:
        out.print(f"ingested: {escape(note.path)}: {escape(note.note)}")
    out.print(
        f"Ingested {', '.join(report.sources) or 'nothing'}: {report.files_seen} files seen, "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {len(report.failed)} failed, {len(report.skipped)} skipped; "
        f"{report.chunks_embedded} chunks embedded in {report.seconds:.1f}s"
    )
    if not report.ok:
        raise typer.Exit(1)


@commands.command()
def status(data_dir: DataDirOpt = None, knowledge_dir: KnowledgeDirOpt = None) -> None:
    """Show what the index holds and what it was built with."""
    from ingest.status import index_status

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors():
        info = index_status(common.build_services(settings))
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        table.add_row(f"[bold]{key}[/bold]", str(value))
    out.print(table)


@commands.command()
def retrieve(
    question: Annotated[str, typer.Argument(help="The question to find passages for")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=100, help="Passages to return")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON form")] = False,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Show the passages the index returns for a question, with source, heading and score."""
    from lodestar.retrieval.hybrid import retrieve as retrieve_result

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors():
        result = retrieve_result(question, common.build_services(settings), k)
    passages = result.passages
    if not result.covered:
        err.print(
            f"not covered by the knowledge base (best similarity {result.best_similarity} < "
            f"{settings.retrieval.min_similarity}); closest topics: "
            + ("; ".join(result.closest_topics) or "none")
        )
    if as_json:
        payload = {
            "question": question,
            "passages": [
                {
                    key: p.to_json()[key]
                    for key in ("text", "source", "title", "heading", "score", "doc_type")
                }
                for p in passages
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    for n, passage in enumerate(passages, start=1):
        out.print(
            f"[bold][{n}][/bold] {passage.location}  [dim]{passage.source} · score {passage.score}[/dim]"
        )
        out.print(passage.text.strip(), markup=False, highlight=False)
        out.print()
