"""`lodestar feedback export`: thumbs-down answers from the app as candidate evaluation cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lodestar.cli.common import (
    DataDirOpt,
    KnowledgeDirOpt,
    err,
    load_settings,
    user_errors,
    write_output,
)

feedback_app = typer.Typer(help="Answer feedback collected in the app.", no_args_is_help=True)


@feedback_app.command("export")
def feedback_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL file [default: stdout]")
    ] = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Write thumbs-down answers as candidate evaluation cases (eval/golden.jsonl format)."""
    from lodestar.components.store.feedback import FeedbackStore
    from lodestar.components.store.manifest import IndexPaths

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors():
        store = FeedbackStore(IndexPaths(settings.data_dir).feedback)
        cases = [item.to_eval_case() for item in store.items(rating=-1)]
    write_output("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), output)
    if output:
        err.print(f"wrote {len(cases)} candidate case(s) to {output}")
    else:
        err.print(f"{len(cases)} candidate case(s)")
