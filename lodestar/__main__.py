"""`python -m lodestar` runs the CLI."""

from lodestar.cli import main

main()
