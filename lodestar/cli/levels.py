"""`lodestar levels`: the level guide (skill areas × levels), or the differences between two levels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lodestar.cli import common
from lodestar.cli.common import (
    BackendOpt,
    DataDirOpt,
    KnowledgeDirOpt,
    err,
    load_settings,
    progress_bar,
    user_errors,
    with_backend,
    write_output,
)

if TYPE_CHECKING:
    from lodestar.core.settings import Settings

commands = typer.Typer()


@commands.command()
def levels(
    role: Annotated[
        str | None, typer.Option("--role", help="Only documents about this role")
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help='Only this skill area or category, e.g. "Planning"')
    ] = None,
    level_list: Annotated[
        str | None,
        typer.Option("--levels", help="Columns, comma-separated, e.g. junior,senior,lead"),
    ] = None,
    compare_levels: Annotated[
        tuple[str, str] | None,
        typer.Option("--compare", help="Only the differences between two levels, e.g. senior lead"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, json or csv")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
    backend: BackendOpt = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """A level guide: skill areas × levels from the documents that describe levels, each cell
    cited and checked against its passage. Built once per ingest (cached), instant afterwards."""
    from lodestar.levels import compare

    if fmt not in ("md", "json", "csv"):
        err.print("[red]error:[/red] --format must be md, json or csv")
        raise typer.Exit(2)
    columns = [v.strip() for v in level_list.split(",") if v.strip()] if level_list else None
    if compare_levels:
        columns = list(compare_levels)
    settings = with_backend(load_settings(data_dir, knowledge_dir), backend)
    with user_errors():
        guide = _build_guide(settings, role, area, columns)
    result: Any = compare(guide, *compare_levels) if compare_levels else guide
    if fmt == "json":
        text = json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = result.to_csv() if fmt == "csv" else result.to_markdown()
    write_output(text, output)
    if output:
        err.print(f"wrote {output}")
    fresh = guide.generated
    err.print(
        f"[dim]{len(guide.rows)} areas × {len(guide.levels)} levels, {guide.not_described} cells "
        f"not described; {fresh} written now, {len(guide.cells) - fresh} from the cache, "
        f"{guide.seconds:.1f} s[/dim]"
    )


def _build_guide(
    settings: Settings, role: str | None, area: str | None, columns: list[str] | None
) -> Any:
    """The guide from the cache, writing the cells it lacks with a progress bar."""
    from lodestar.levels import LevelGuideBuilder

    with err.status("Reading the levelled passages…"):
        builder = LevelGuideBuilder(
            common.build_services(settings), role=role, area=area, levels=columns
        )
    if builder.pending:
        with progress_bar(description="[progress.description]{task.description}") as progress:
            task = progress.add_task("Writing the level guide", total=len(builder.pending))
            for cell in builder:
                progress.update(task, advance=1, description=f"Writing cells ({cell.level})")
    return builder.guide
