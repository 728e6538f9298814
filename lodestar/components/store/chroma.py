"""Opening the index's Chroma store: an embedded or remote client, and the passages collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lodestar.components.store.manifest import IndexPaths
from lodestar.core.errors import StoreUnavailableError
from lodestar.core.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from llama_index.vector_stores.chroma import ChromaVectorStore


def open_chroma_client(settings: Settings) -> ClientAPI:
    """An embedded (on-disk) or remote Chroma client, with telemetry off."""
    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if settings.chroma.is_remote:
        try:
            return chromadb.HttpClient(
                host=str(settings.chroma.host),
                port=settings.chroma.port,
                ssl=settings.chroma.ssl,
                settings=client_settings,
            )
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma.host}:{settings.chroma.port}: "
                f"{exc}",
                hint="start it with `chroma run --path DIR --port N`, or unset LODESTAR_CHROMA__HOST "
                "to use the embedded store",
            ) from exc
    path = IndexPaths(settings.data_dir).chroma
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=client_settings)


def get_collection(client: ClientAPI, name: str) -> Collection:
    """The passages collection (cosine space); vectors are always supplied by Lodestar."""
    return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})


def open_vector_store(settings: Settings, client: ClientAPI | None = None) -> ChromaVectorStore:
    """llama-index's Chroma vector store over the passages collection."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = client or open_chroma_client(settings)
    return ChromaVectorStore(chroma_collection=get_collection(client, settings.chroma.collection))
