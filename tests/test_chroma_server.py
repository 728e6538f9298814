"""Lodestar against a real Chroma server (`chroma run` on loopback), configured by env alone.

Incremental ingestion must behave exactly as with the embedded store; a second machine that only
queries must see what the writer ingests (its BM25 follows the fingerprint published in the
collection); a second writer is refused; a wiped server is re-filled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import write
from typer.testing import CliRunner

from ingest.pipeline import IngestReport, ingest_paths
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.components.store.chroma_server import ChromaServer, run_chroma_server
from lodestar.components.store.keyword_index import load_keyword_retriever
from lodestar.core.errors import IndexMismatchError, IndexOwnedError
from lodestar.core.settings import ChromaSettings, EmbeddingSettings, get_settings
from lodestar.retrieval.hybrid import retrieve

GUIDE = "---\ntitle: {title}\ndoc_type: guide\n---\n# {title}\n\n## Part\n\n{body}\n"
QUESTION = "How many stages do interview loops have?"
_collections = itertools.count()


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real Chroma server for the module, on a free loopback port; stopped afterwards."""
    with run_chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as server:
        yield server


@pytest.fixture
def on_server(chroma_server: ChromaServer, monkeypatch: pytest.MonkeyPatch) -> ChromaServer:
    """Configure the server through the environment only, with a collection of this test's own."""
    monkeypatch.setenv("LODESTAR_CHROMA__HOST", chroma_server.host)
    monkeypatch.setenv("LODESTAR_CHROMA__PORT", str(chroma_server.port))
    monkeypatch.setenv("LODESTAR_CHROMA__COLLECTION", f"test-{next(_collections)}")
    get_settings.cache_clear()
    return chroma_server


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(
        root / "mentoring.md",
        GUIDE.format(title="Mentoring", body="Pair new engineers with a buddy for 30 days."),
    )
    write(
        root / "hiring.md", GUIDE.format(title="Hiring", body="Interview loops have four stages.")
    )
    write(root / "notes" / "pay.txt", "Pay\n\nSalaries range from $172,150 to $212,400 per year.\n")
    return root


def snapshot(services: Services) -> dict[str, str]:
    """Every passage id in the store with its text."""
    data = services.vector_store.client.get(include=["documents"])
    return dict(zip(data["ids"], data["documents"], strict=True))


def counts(report: IngestReport) -> tuple[int, ...]:
    return (report.added, report.updated, report.unchanged, report.removed, report.chunks_embedded)


def test_server_mode_ingests_and_retrieves_exactly_like_embedded_mode(
    on_server: ChromaServer, corpus: Path, tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    server = make_services(data_dir=tmp_path / "server")
    embedded = make_services(data_dir=tmp_path / "embedded", chroma=ChromaSettings())
    assert server.settings.chroma.is_remote
    assert not embedded.settings.chroma.is_remote

    def both() -> tuple[IngestReport, IngestReport]:
        remote, local = ingest_paths([corpus], server), ingest_paths([corpus], embedded)
        assert counts(remote) == counts(local)
        assert snapshot(server) == snapshot(embedded)
        assert [p.node_id for p in retrieve(QUESTION, server).passages] == [
            p.node_id for p in retrieve(QUESTION, embedded).passages
        ]
        return remote, local

    first, _ = both()
    assert counts(first)[:4] == (3, 0, 0, 0)
    assert first.chunks_embedded == len(snapshot(server)) > 0

    unchanged, _ = both()
    assert counts(unchanged) == (0, 0, 3, 0, 0)

    write(
        corpus / "hiring.md",
        GUIDE.format(title="Hiring", body="Interview loops have five stages now."),
    )
    changed, _ = both()
    hiring = {pid: text for pid, text in snapshot(server).items() if pid.startswith("kb/hiring.md")}
    assert (changed.updated, changed.chunks_embedded) == (1, len(hiring))
    assert any("five stages" in text for text in hiring.values())
    assert retrieve(QUESTION, server).passages[0].source == "kb/hiring.md"

    (corpus / "notes" / "pay.txt").unlink()
    removed, _ = both()
    assert (removed.removed, removed.chunks_embedded) == (1, 0)
    assert not any(pid.startswith("kb/notes/") for pid in snapshot(server))
    # Nothing of the index itself is stored locally in server mode: only the bookkeeping.
    assert not (tmp_path / "server" / "chroma").exists()


def test_a_query_only_machine_follows_the_writer_and_cannot_write(
    on_server: ChromaServer, corpus: Path, tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    writer = make_services(data_dir=tmp_path / "writer")
    reader = make_services(data_dir=tmp_path / "reader")
    ingest_paths([corpus], writer)

    assert [p.node_id for p in retrieve(QUESTION, reader).passages] == [
        p.node_id for p in retrieve(QUESTION, writer).passages
    ]
    assert reader.paths.bm25.is_dir(), "the reader built its own BM25 from the collection"
    code = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path / "reader")])
    assert code.exit_code == 0
    assert f"chroma server 127.0.0.1:{on_server.port}" in code.stdout
    assert "this one only queries" in code.stdout

    write(
        corpus / "hiring.md", GUIDE.format(title="Hiring", body="Run a quokkafish audit per loop.")
    )
    ingest_paths([corpus], writer)
    keyword = load_keyword_retriever(reader.keyword_cache, reader.index_state(), 3)
    assert keyword is not None
    assert "quokkafish" in keyword.retrieve("quokkafish audit")[0].node.get_content()
    assert "quokkafish" in retrieve("What audit runs per loop?", reader).passages[0].text

    with pytest.raises(IndexOwnedError, match="another data dir"):
        ingest_paths([corpus], reader)
    # Taking over is explicit: --rebuild re-embeds from the new owner's sources.
    ingest_paths([corpus], reader, rebuild=True)
    with pytest.raises(IndexOwnedError):
        ingest_paths([corpus], writer)

    other_model = make_services(
        data_dir=tmp_path / "other",
        embedding=EmbeddingSettings(model="another-model"),
    )
    with pytest.raises(IndexMismatchError, match="another-model"):
        retrieve(QUESTION, other_model)


def test_a_wiped_server_is_filled_again_by_the_next_ingest(
    on_server: ChromaServer, corpus: Path, tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(data_dir=tmp_path / "writer")
    first = ingest_paths([corpus], services)
    services.chroma_client.delete_collection(services.settings.chroma.collection)

    again = make_services(data_dir=tmp_path / "writer")  # a new process
    report = ingest_paths([corpus], again)
    assert report.reset
    assert (report.added, report.chunks_embedded) == (3, first.chunks_embedded)
    assert len(snapshot(again)) == first.chunks_embedded
