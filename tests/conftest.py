"""Shared fixtures: the network is off, settings point at temp dirs, one real embedder per session."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lodestar.components.services import Services
from lodestar.core.offline import configure_offline_environment
from lodestar.core.settings import Settings, get_settings

REPO = Path(__file__).resolve().parents[1]
# The five raw web-scraped seed files live beside the repository (../shared/seeds), not in it: a
# contributor's clone has none. LODESTAR_TEST_SEEDS points elsewhere (or at nothing, to try a run
# without them).
SEEDS = Path(os.environ.get("LODESTAR_TEST_SEEDS") or REPO.parent / "shared" / "seeds")
KNOWLEDGE = REPO / "knowledge"


def in_ci() -> bool:
    """Whether this run is CI's (CI=true), where nothing that CI must check may be skipped."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def seeds_or_none() -> Path | None:
    """The seed folder if it is here; None outside CI when it is not; in CI a missing one fails."""
    if SEEDS.is_dir():
        return SEEDS
    if in_ci():
        pytest.fail(f"the seed files are missing: no folder {SEEDS} (CI must have ../shared/seeds)")
    return None


@pytest.fixture
def seeds() -> Path:
    """The seed folder; the test skips outside CI and fails in CI (CI=true) when it is missing."""
    folder = seeds_or_none()
    if folder is None:
        pytest.skip(f"needs the seed files in {SEEDS} (../shared/seeds is not in a plain clone)")
    return folder


class NetworkBlockedError(RuntimeError):
    """Raised by the socket guard when code tries to leave the machine."""


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any connection or DNS lookup that is not loopback; return the attempts seen."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            attempts.append(f"connect {address}")
            raise NetworkBlockedError(f"network is off in tests: connect to {address}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _is_loopback(host):
            attempts.append(f"resolve {host}")
            raise NetworkBlockedError(f"network is off in tests: resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point every LODESTAR_* default at this test's temp dir."""
    configure_offline_environment()
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LODESTAR_KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    monkeypatch.setenv("LODESTAR_INGEST__LOCK_TIMEOUT_S", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def embed_model() -> Any:
    """The real bundled MiniLM, loaded once for the whole run."""
    configure_offline_environment()
    return Services(Settings()).embed_model


@pytest.fixture
def make_services(tmp_path: Path, embed_model: Any) -> Callable[..., Services]:
    """Services over a temp data dir, sharing the session's embedder; kwargs override settings."""

    def make(data_dir: Path | None = None, llm: Any = None, **overrides: Any) -> Services:
        settings = get_settings().model_copy(
            update={"data_dir": data_dir or tmp_path / "data", **overrides}
        )
        return Services(settings, embed_model=embed_model, llm=llm)

    return make


@pytest.fixture(scope="session")
def knowledge_index(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Path:
    """A data dir with knowledge/ ingested once for the session; tests must not modify it."""
    from ingest.pipeline import ingest_paths

    data_dir = tmp_path_factory.mktemp("knowledge-index")
    ingest_paths([KNOWLEDGE], Services(Settings(data_dir=data_dir), embed_model=embed_model))
    return data_dir
