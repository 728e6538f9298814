"""A summary of the index: what is in it and what it was built with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.storage.docstore import SimpleDocumentStore

from lodestar.components.store.manifest import IndexManifest, IndexState

if TYPE_CHECKING:
    from lodestar.components.services import Services


def index_status(services: Services) -> dict[str, Any]:
    """Documents, chunks, embedding model, data dir and last ingest time."""
    paths = services.paths
    manifest = IndexManifest.load(paths.manifest)
    documents = 0
    sources = []
    for record in manifest.sources if manifest else []:
        store_path = paths.docstore(record.name)
        count = (
            len(SimpleDocumentStore.from_persist_path(str(store_path)).docs)
            if store_path.exists()
            else 0
        )
        documents += count
        sources.append(f"{record.name} ({count} docs) ← {record.path}")
    chroma = services.settings.chroma
    # A query-only machine on a Chroma server has no manifest: the collection says the rest.
    state = services.index_state() if manifest or chroma.is_remote else IndexState()
    chunks = services.vector_store.client.count() if manifest or state.writer else 0
    if state.writer is None:
        writer = "-"
    elif manifest and state.writer == manifest.index_id:
        writer = "this data dir"
    else:
        writer = f"another data dir (index {state.writer}); this one only queries"
    return {
        "data dir": str(paths.root.resolve()),
        "vector store": f"chroma server {chroma.host}:{chroma.port}"
        if chroma.is_remote
        else f"embedded chroma ({paths.chroma})",
        "documents": documents,
        "chunks": chunks,
        "embedding model": (manifest.embedding if manifest else state.embedding)
        or services.embedding_id,
        "chunking": (manifest.chunking if manifest else state.chunking) or "-",
        "sources": "; ".join(sources) or "none (run `lodestar ingest`)",
        "ingested by": writer,
        "last ingest": (manifest.last_ingest if manifest else state.updated) or "never",
    }
