"""The BM25 keyword index (llama-index's bm25s retriever): a local cache of the collection.

It is built from the passages in Chroma and stored in the data dir under the fingerprint of the
ingested documents, which every ingest publishes in the collection's metadata
(manifest.IndexState). A process that queries compares the published fingerprint with the index
it has loaded, and loads or builds the matching one when they differ. So the machine that
ingests and any number of query-only machines sharing a Chroma server all keep their BM25 in step
with the collection, and a BM25 index lost in a crash is rebuilt by the next query or ingest.
Each version is built in a staging folder and renamed into place, so a reader never sees half of
one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from llama_index.core.storage.docstore import SimpleDocumentStore

from lodestar.components.store.chroma import get_collection
from lodestar.components.store.manifest import IndexManifest, IndexPaths, IndexState

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chromadb.api import ClientAPI
    from llama_index.core.schema import BaseNode
    from llama_index.core.vector_stores.types import MetadataFilters
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.chroma import ChromaVectorStore

FINGERPRINT_FILE = "lodestar_fingerprint.json"
KEEP_VERSIONS = 2  # the current index and the one before, which another process may be loading


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def docstore_fingerprint(paths: IndexPaths) -> str:
    """A hash of every ingested document's id and content hash, across all sources."""
    manifest = IndexManifest.load(paths.manifest)
    digest = hashlib.sha256()
    for record in sorted(manifest.sources if manifest else [], key=lambda r: r.name):
        path = paths.docstore(record.name)
        if path.exists():
            hashes = SimpleDocumentStore.from_persist_path(str(path)).get_all_document_hashes()
            for doc_hash, doc_id in sorted(hashes.items(), key=lambda kv: kv[1]):
                digest.update(f"{doc_id}\0{doc_hash}\n".encode())
    return digest.hexdigest()


def keyword_index_dir(paths: IndexPaths, key: str) -> Path:
    """Where the BM25 index built for fingerprint `key` lives in this data dir."""
    return paths.bm25 / hashlib.sha256(key.encode()).hexdigest()[:16]


def _built_key(path: Path) -> str | None:
    try:
        return str(json.loads((path / FINGERPRINT_FILE).read_text())["fingerprint"])
    except (OSError, ValueError, KeyError):
        return None


def _builder_lock(paths: IndexPaths) -> FileLock:
    # One builder per data dir at a time: an ingest and query processes may all want the index.
    root = paths.bm25
    root.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root.with_name(root.name + ".lock")))


def build_keyword_index(
    paths: IndexPaths, key: str, load_nodes: Callable[[], Sequence[BaseNode]]
) -> bool:
    """Build the BM25 index for fingerprint `key`; False if it was there.

    From the passages `load_nodes` returns (asked only when the index must be built): the
    collection's, or the nodes a caller holds already.
    """
    with _builder_lock(paths):
        return _build(paths, key, load_nodes)


def collection_nodes(vector_store: ChromaVectorStore) -> Callable[[], Sequence[BaseNode]]:
    """Loads every passage of the collection, for `build_keyword_index`."""
    return lambda: vector_store.get_nodes(node_ids=None)


def open_keyword_index(
    paths: IndexPaths, vector_store: ChromaVectorStore, key: str
) -> BM25Retriever | None:
    """Load the BM25 index for fingerprint `key`, building it first if this data dir lacks it."""
    with _builder_lock(paths):  # held while loading, so no builder prunes it meanwhile
        _build(paths, key, collection_nodes(vector_store))
        path = keyword_index_dir(paths, key)
        return load_bm25_base(path) if (path / "params.index.json").exists() else None


def _build(paths: IndexPaths, key: str, load_nodes: Callable[[], Sequence[BaseNode]]) -> bool:
    from llama_index.retrievers.bm25 import BM25Retriever

    target = keyword_index_dir(paths, key)
    if _built_key(target) == key:
        return False
    root = paths.bm25
    if (root / "params.index.json").exists():  # the single-folder layout of earlier versions
        shutil.rmtree(root)
    nodes = load_nodes()
    staging = root / f".staging-{target.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if nodes:
        retriever = BM25Retriever.from_defaults(
            nodes=list(nodes), stemmer=_stemmer(), language="english", similarity_top_k=1
        )
        retriever.persist(str(staging), show_progress=False)
    (staging / FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": key}))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _prune(root, keep=target)
    return True


def _prune(root: Path, keep: Path) -> None:
    versions = sorted(
        (p for p in root.iterdir() if p.is_dir() and p != keep and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in versions[KEEP_VERSIONS - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def refresh_keyword_index(
    paths: IndexPaths, vector_store: ChromaVectorStore, client: ClientAPI, collection_name: str
) -> bool:
    """End of an ingest: build BM25 for what is indexed now, then publish its fingerprint."""
    fingerprint = docstore_fingerprint(paths)
    rebuilt = build_keyword_index(paths, fingerprint, collection_nodes(vector_store))
    collection = get_collection(client, collection_name)  # re-read: its metadata as of now
    state = IndexState.read(collection)
    state.fingerprint = fingerprint
    state.updated = datetime.now(UTC).isoformat(timespec="seconds")
    state.publish(collection)
    return rebuilt


class KeywordIndexCache:
    """The BM25 index one process has loaded, swapped when the published fingerprint changes.

    While one thread loads a new version, the others keep answering from the previous one, so
    an ingest on another machine never stalls the queries here.
    """

    def __init__(self, paths: IndexPaths, vector_store: ChromaVectorStore) -> None:
        """Nothing loaded yet; versions are built in `paths` from `vector_store`'s passages."""
        self.paths = paths
        self.vector_store = vector_store
        self._loaded: tuple[str, BM25Retriever | None] | None = None
        self._loading = threading.Lock()

    def get(self, key: str) -> BM25Retriever | None:
        """The BM25 base retriever for fingerprint `key` (None if the collection was empty)."""
        loaded = self._loaded
        if loaded is not None and loaded[0] == key:
            return loaded[1]
        if not self._loading.acquire(blocking=loaded is None):
            return loaded[1] if loaded is not None else None
        try:
            loaded = self._loaded
            if loaded is None or loaded[0] != key:
                self._loaded = loaded = (
                    key,
                    open_keyword_index(self.paths, self.vector_store, key),
                )
            return loaded[1]
        finally:
            self._loading.release()


@cache
def _positive_bm25_class() -> type:
    from llama_index.retrievers.bm25 import BM25Retriever

    class PositiveBM25Retriever(BM25Retriever):
        """BM25 that drops zero-score hits.

        Metadata filters become a bm25s weight mask that zeroes the scores of filtered-out
        passages, but bm25s still returns them when k exceeds the matches; a zero score also
        means no query term matched at all.
        """

        def _retrieve(self, query_bundle: Any) -> list[Any]:
            return [hit for hit in super()._retrieve(query_bundle) if (hit.score or 0.0) > 0.0]

    return PositiveBM25Retriever


def load_keyword_retriever(
    cache: KeywordIndexCache,
    state: IndexState,
    top_k: int,
    filters: MetadataFilters | None = None,
) -> BM25Retriever | None:
    """A BM25 retriever in step with the collection (`state` as just read), or None if it is
    empty (or all filtered)."""
    base = cache.get(state.keyword_key)
    if base is None:
        return None
    try:
        return _positive_bm25_class()(
            existing_bm25=base.bm25,
            similarity_top_k=top_k,
            stemmer=base.stemmer,
            filters=filters,
        )
    except ValueError:  # every passage filtered out
        return None


def load_bm25_base(path: Path) -> BM25Retriever:
    """Load a persisted BM25 index (KeywordIndexCache keeps it)."""
    from llama_index.retrievers.bm25 import BM25Retriever

    return BM25Retriever.from_persist_dir(str(path), mmap=False, show_progress=False)
