"""The `lodestar` command: every command group assembled into one typer app, and its entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from lodestar.cli import ask, bench, index, interview, levels, model, ui
from lodestar.cli.eval import eval_app
from lodestar.cli.feedback import feedback_app

app = typer.Typer(
    name="lodestar",
    help="Lodestar: answers for new engineering leads from your own knowledge base, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# In the order `lodestar --help` lists them.
for group in (index, ask, interview, levels, model, ui, bench):
    app.add_typer(group.commands)
app.add_typer(feedback_app, name="feedback")
app.add_typer(eval_app, name="eval")


def main(argv: list[str] | None = None) -> Callable[..., Any] | None:
    """Console-script entry point."""
    from lodestar.core.offline import configure_offline_environment

    configure_offline_environment()
    return app(args=argv)


if __name__ == "__main__":
    main()
