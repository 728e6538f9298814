"""`python -m lodestar` runs the CLI."""

from lodestar.cli.main import main

main()
