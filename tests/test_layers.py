"""The import contracts in pyproject.toml cover the whole project (`lint-imports` checks them)."""

from __future__ import annotations

import pkgutil
import tomllib

from conftest import REPO

import lodestar


def test_every_package_of_lodestar_is_in_a_layer() -> None:
    """import-linter's own exhaustiveness check needs containers, which would leave `ingest` out
    of the one layers list: a new package must be given its place here instead."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    (layers,) = (c for c in config["importlinter"]["contracts"] if c["type"] == "layers")
    placed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    packages = {
        f"lodestar.{m.name}"
        for m in pkgutil.iter_modules(lodestar.__path__)
        if m.name != "__main__"
    }
    assert packages <= placed, f"not in a layer: {sorted(packages - placed)}"
    assert "ingest" in placed
