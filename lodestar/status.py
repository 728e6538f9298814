"""A summary of the index: what is in it and what it was built with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.storage.docstore import SimpleDocumentStore

from lodestar.store import IndexManifest

if TYPE_CHECKING:
    from lodestar.services import Services


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
    chunks = services.vector_store.client.count() if manifest else 0
    chroma = services.settings.chroma
    return {
        "data dir": str(paths.root.resolve()),
        "vector store": f"chroma server {chroma.host}:{chroma.port}"
        if chroma.is_remote
        else f"embedded chroma ({paths.chroma})",
        "documents": documents,
        "chunks": chunks,
        "embedding model": manifest.embedding if manifest else services.embedding_id,
        "chunking": manifest.chunking if manifest else "-",
        "sources": "; ".join(sources) or "none (run `lodestar ingest`)",
        "last ingest": (manifest.last_ingest if manifest else None) or "never",
    }
