"""`python -m lodestar` runs the CLI."""

from lodestar.cli.commands import main

main()
