"""`lodestar ui`: the Streamlit app, started headless from the entry file inside the package."""

from __future__ import annotations

import math
import os
import sys
from importlib.util import find_spec
from typing import Annotated

import typer

from lodestar.cli.common import DataDirOpt, KnowledgeDirOpt, err, load_settings

commands = typer.Typer()

APP_MODULE = "lodestar.app.streamlit_app"
# The app's Streamlit configuration, given on the command line so that it holds wherever
# `lodestar ui` runs (an installed wheel has no .streamlit/ folder); the same values as the
# checkout's .streamlit/config.toml for `streamlit run app.py` (a test keeps them equal).
STREAMLIT_OPTIONS = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    # Nothing to reload in production, and watching a checkout with a venv is costly.
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "client.toolbarMode": "minimal",
    "client.showErrorDetails": "none",
    "theme.primaryColor": "#3d5a80",
}


@commands.command()
def ui(
    port: Annotated[int, typer.Option("--port", help="Port for the web app")] = 8501,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    data_dir: DataDirOpt = None,
    knowledge_dir: KnowledgeDirOpt = None,
) -> None:
    """Start the web app (Streamlit) for chat and interview kits."""
    import subprocess

    settings = load_settings(data_dir, knowledge_dir)
    spec = find_spec(APP_MODULE)  # found, not imported: importing it would run the app
    if spec is None or spec.origin is None:
        err.print(f"[red]error:[/red] the app module {APP_MODULE} is missing")
        err.print("  [dim]hint:[/dim] reinstall Lodestar (`pip install .` in a checkout)")
        raise typer.Exit(2)
    env = dict(
        os.environ,
        LODESTAR_DATA_DIR=str(settings.data_dir.resolve()),
        LODESTAR_KNOWLEDGE_DIR=str(settings.knowledge_dir.resolve()),
    )
    options = {
        **STREAMLIT_OPTIONS,
        "server.port": str(port),
        "server.address": host,
        "server.maxUploadSize": str(max(1, math.ceil(settings.ingest.max_file_mb))),
    }
    command = [sys.executable, "-m", "streamlit", "run", spec.origin]
    command += [part for name, value in options.items() for part in (f"--{name}", value)]
    err.print(f"Lodestar is starting at http://{host}:{port} (Ctrl+C to stop)")
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
