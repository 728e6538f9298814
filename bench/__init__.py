"""Lodestar's benchmarks: `python -m bench` (see bench/run.py and the README)."""
