"""`lodestar bench`: the benchmarks of a source checkout (`python -m bench`), options passed on."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lodestar.cli.common import err

commands = typer.Typer()


@commands.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (`python -m bench` in the checkout); extra options go to it, e.g. --quick."""
    import subprocess

    # The benchmarks are not part of the package: they exist beside it in a checkout only.
    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "run.py").exists():
        err.print("[red]error:[/red] the benchmarks live in the bench/ folder of a source checkout")
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *ctx.args], cwd=root))
