"""The `lodestar` command line: a thin layer over the library that turns errors into messages."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lodestar.cli.eval import eval_app
from lodestar.core.errors import LodestarError
from lodestar.core.logs import configure_logging
from lodestar.core.settings import Settings, get_settings

app = typer.Typer(
    name="lodestar",
    help="Lodestar: answers for new engineering leads from your own knowledge base, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


def _settings(data_dir: Path | None, knowledge_dir: Path | None) -> Settings:
    try:
        settings = get_settings().with_dirs(data_dir, knowledge_dir)
    except Exception as exc:  # pydantic ValidationError from bad LODESTAR_* values
        err.print(f"[red]error:[/red] invalid settings: {exc}")
        raise typer.Exit(2) from exc
    # Every command starts here: from now on library warnings go to the data dir's log.
    configure_logging(settings.data_dir)
    return settings


@contextmanager
def _user_errors() -> Iterator[None]:
    """Report domain errors as one message; anything unexpected without a traceback too."""
    try:
        yield
    except LodestarError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        if exc.hint:
            err.print(f"  [dim]hint:[/dim] {exc.hint}")
        raise typer.Exit(exc.exit_code) from exc
    except KeyboardInterrupt as exc:
        err.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from exc
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("LODESTAR_DEBUG"):
            raise
        err.print(f"[red]unexpected error:[/red] {type(exc).__name__}: {exc}")
        err.print("  [dim]hint:[/dim] set LODESTAR_DEBUG=1 to see the traceback")
        raise typer.Exit(1) from exc


def _services(settings: Settings) -> Any:
    from lodestar.components.services import Services

    return Services(settings)


@app.command()
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

    settings = _settings(data_dir, knowledge_dir)
    targets = paths or [settings.knowledge_dir]
    with _user_errors():
        services = _services(settings)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as progress:
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


@app.command()
def status(data_dir: DataDirOpt = None, knowledge_dir: KnowledgeDirOpt = None) -> None:
    """Show what the index holds and what it was built with."""
    from ingest.status import index_status

    settings = _settings(data_dir, knowledge_dir)
    with _user_errors():
        info = index_status(_services(settings))
    table = Table(show_header=False, box=None)
    for key, value in info.items():
        table.add_row(f"[bold]{key}[/bold]", str(value))
    out.print(table)


@app.command()
def retrieve(
    question: Annotated[str, typer.Argument(help="The question to find passages for")],
    k: Annotated[int | None, typer.Option("--k", min=1, max=100, help="Passages to return")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON form")] = False,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Show the passages the index returns for a question, with source, heading and score."""
    from lodestar.retrieval.hybrid import retrieve as retrieve_result

    settings = _settings(data_dir, knowledge_dir)
    with _user_errors():
        result = retrieve_result(question, _services(settings), k)
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
        where = " › ".join(part for part in (passage.title, passage.heading) if part)
        out.print(
            f"[bold][{n}][/bold] {where}  [dim]{passage.source} · score {passage.score}[/dim]"
        )
        out.print(passage.text.strip(), markup=False, highlight=False)
        out.print()


BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend", help="LLM backend: local | openai | openai_like [env LODESTAR_LLM__BACKEND]"
    ),
]


def _with_backend(settings: Settings, backend: str | None) -> Settings:
    if backend is None:
        return settings
    if backend not in ("local", "openai", "openai_like"):
        err.print(
            f"[red]error:[/red] unknown backend {backend!r}; use local, openai or openai_like"
        )
        raise typer.Exit(2)
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": backend})})


DocTypeOpt = Annotated[
    str | None, typer.Option("--doc-type", help="Only role_profile, essay or guide documents")
]
RoleOpt = Annotated[str | None, typer.Option("--role", help="Only documents about this role")]


def _filters(doc_type: str | None, role: str | None) -> Any:
    from lodestar.retrieval.hybrid import PassageFilters

    return PassageFilters(doc_type=doc_type, role=role) if doc_type or role else None


@app.command()
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
    from lodestar.cli.terminal import show_answer

    settings = _with_backend(_settings(data_dir, knowledge_dir), backend)
    filters = _filters(doc_type, role)
    with _user_errors():
        services = _services(settings)
        services.load_in_background()  # the model loads while retrieval runs
        engine = AnswerEngine(services)
        stream = engine.stream(question, k=k, filters=filters)
        if as_json:
            result = stream.answer()
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
            return
        show_answer(stream, out, err)


@app.command()
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

    settings = _with_backend(_settings(data_dir, knowledge_dir), backend)
    filters = _filters(doc_type, role)
    with _user_errors():
        engine = AnswerEngine(_services(settings))
        run_chat(
            engine,
            out,
            err,
            read=lambda: out.input("[bold cyan]›[/bold cyan] "),
            filters=filters,
            warm_up=engine.warm_up_in_background,
        )


@app.command()
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
    from lodestar.interview import KitQuestion, KitWriter

    if fmt not in ("md", "json"):
        err.print("[red]error:[/red] --format must be md or json")
        raise typer.Exit(2)
    settings = _with_backend(_settings(data_dir, knowledge_dir), backend)
    with _user_errors(), err.status("Planning the interview kit…"):
        writer = KitWriter(_services(settings), role, level, count, area=area)
    kit = writer.kit
    streaming = fmt == "md" and output is None
    if streaming:
        _emit(kit.header())
    planned = ", ".join(q.competency for q in writer.plan.questions)
    err.print(f"[dim]planned {len(writer.plan.questions)} competencies: {escape(planned)}[/dim]")
    interrupted = False
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
        interrupted = True
        kit.stopped = "interrupted"
    except Exception as exc:  # the model server went away, …: keep what was made
        if os.environ.get("LODESTAR_DEBUG"):
            raise
        kit.stopped = (
            exc.message if isinstance(exc, LodestarError) else f"{type(exc).__name__}: {exc}"
        )
        err.print(f"[red]error:[/red] {escape(kit.stopped)}")
    if streaming:
        _emit(kit.footer())
    elif output:
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


@app.command()
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
    from lodestar.levels import LevelGuideBuilder, compare

    if fmt not in ("md", "json", "csv"):
        err.print("[red]error:[/red] --format must be md, json or csv")
        raise typer.Exit(2)
    columns = [v.strip() for v in level_list.split(",") if v.strip()] if level_list else None
    if compare_levels:
        columns = list(compare_levels)
    settings = _with_backend(_settings(data_dir, knowledge_dir), backend)
    with _user_errors():
        with err.status("Reading the levelled passages…"):
            builder = LevelGuideBuilder(_services(settings), role=role, area=area, levels=columns)
        if builder.pending:
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
            ) as progress:
                task = progress.add_task("Writing the level guide", total=len(builder.pending))
                for cell in builder:
                    progress.update(task, advance=1, description=f"Writing cells ({cell.level})")
        guide = builder.guide
    result: Any = compare(guide, *compare_levels) if compare_levels else guide
    if fmt == "json":
        text = json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = result.to_csv() if fmt == "csv" else result.to_markdown()
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")
    else:
        sys.stdout.write(text)
    fresh = guide.generated
    err.print(
        f"[dim]{len(guide.rows)} areas × {len(guide.levels)} levels, {guide.not_described} cells "
        f"not described; {fresh} written now, {len(guide.cells) - fresh} from the cache, "
        f"{guide.seconds:.1f} s[/dim]"
    )


@app.command("setup-model")
def setup_model(data_dir: DataDirOpt = None, knowledge_dir: KnowledgeDirOpt = None) -> None:
    """Join and verify the bundled LLM, export the embedder to ONNX (once; later runs are instant)."""
    from lodestar.components.llm.factory import local_model_path

    settings = _settings(data_dir, knowledge_dir)
    with _user_errors(), err.status("Preparing the bundled model (joining ~1.1 GB, once)…"):
        path = local_model_path(settings)
    out.print(f"bundled model ready: {path}")
    with _user_errors(), err.status("Preparing the embedder for ONNX Runtime (once)…"):
        network = _services(settings).prepare_embedder()
    if network is not None:
        out.print(f"embedder ready: {network}")


@app.command("serve-model")
def serve_model(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = 8088,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Serve the bundled model as an OpenAI-compatible API (for ragas and other clients)."""
    from lodestar.components.llm.server import serve

    settings = _settings(data_dir, knowledge_dir)
    with _user_errors():
        serve(settings, host=host, port=port)


@app.command()
def ui(
    port: Annotated[int, typer.Option("--port", help="Port for the web app")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Start the web app (Streamlit) for chat and interview kits."""
    import subprocess

    settings = _settings(data_dir, knowledge_dir)
    app_file = Path(__file__).resolve().parents[2] / "app.py"
    if not app_file.exists():
        err.print(f"[red]error:[/red] the app file {app_file} is missing")
        err.print("  [dim]hint:[/dim] run `lodestar ui` from a checkout of Lodestar")
        raise typer.Exit(2)
    env = dict(
        os.environ,
        LODESTAR_DATA_DIR=str(settings.data_dir.resolve()),
        LODESTAR_KNOWLEDGE_DIR=str(settings.knowledge_dir.resolve()),
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        # Nothing to reload in production, and watching a checkout with a venv is costly.
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--server.maxUploadSize", str(max(1, math.ceil(settings.ingest.max_file_mb))),
    ]  # fmt: skip
    err.print(f"Lodestar is starting at http://{host}:{port} (Ctrl+C to stop)")
    try:
        code = subprocess.call(command, env=env, cwd=app_file.parent)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


feedback_app = typer.Typer(help="Answer feedback collected in the app.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL file [default: stdout]")
    ] = None,
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Write thumbs-down answers as candidate evaluation cases (eval/golden.jsonl format)."""
    from lodestar.components.store.chroma import IndexPaths
    from lodestar.components.store.feedback import FeedbackStore

    settings = _settings(data_dir, knowledge_dir)
    with _user_errors():
        store = FeedbackStore(IndexPaths(settings.data_dir).feedback)
        cases = [item.to_eval_case() for item in store.items(rating=-1)]
    lines = "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(lines, encoding="utf-8")
        err.print(f"wrote {len(cases)} candidate case(s) to {output}")
    else:
        sys.stdout.write(lines)
        err.print(f"{len(cases)} candidate case(s)")


app.add_typer(eval_app, name="eval")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (`python -m bench` in the checkout); extra options go to it, e.g. --quick."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "run.py").exists():
        err.print("[red]error:[/red] the benchmarks live in the bench/ folder of a source checkout")
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args], cwd=root))


def main(argv: list[str] | None = None) -> Callable[..., Any] | None:
    """Console-script entry point."""
    from lodestar.core.offline import configure_offline_environment

    configure_offline_environment()
    return app(args=argv)


if __name__ == "__main__":
    main()
