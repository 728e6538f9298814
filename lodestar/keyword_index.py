"""The BM25 keyword index (llama-index's bm25s retriever), persisted next to the Chroma index.

It is rebuilt from the passages in Chroma at the end of an ingest whenever the documents changed,
and records the fingerprint of the docstores it was built from, so an ingest killed before the
rebuild is caught up by the next run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.storage.docstore import SimpleDocumentStore

from lodestar.store import IndexManifest

if TYPE_CHECKING:
    from llama_index.core.vector_stores.types import MetadataFilters
    from llama_index.retrievers.bm25 import BM25Retriever

    from lodestar.services import Services

FINGERPRINT_FILE = "lodestar_fingerprint.json"


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def docstore_fingerprint(services: Services) -> str:
    """A hash of every ingested document's id and content hash, across all sources."""
    manifest = IndexManifest.load(services.paths.manifest)
    digest = hashlib.sha256()
    for record in sorted(manifest.sources if manifest else [], key=lambda r: r.name):
        path = services.paths.docstore(record.name)
        if path.exists():
            hashes = SimpleDocumentStore.from_persist_path(str(path)).get_all_document_hashes()
            for doc_hash, doc_id in sorted(hashes.items(), key=lambda kv: kv[1]):
                digest.update(f"{doc_id}\0{doc_hash}\n".encode())
    return digest.hexdigest()


def _built_fingerprint(path: Path) -> str | None:
    try:
        return str(json.loads((path / FINGERPRINT_FILE).read_text())["fingerprint"])
    except (OSError, ValueError, KeyError):
        return None


def refresh_keyword_index(services: Services) -> bool:
    """Rebuild the BM25 index if the documents changed since it was built; True if rebuilt."""
    from llama_index.retrievers.bm25 import BM25Retriever

    target = services.paths.bm25
    fingerprint = docstore_fingerprint(services)
    if _built_fingerprint(target) == fingerprint:
        return False
    nodes = services.vector_store.get_nodes(node_ids=None)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if nodes:
        retriever = BM25Retriever.from_defaults(
            nodes=nodes, stemmer=_stemmer(), language="english", similarity_top_k=1
        )
        retriever.persist(str(staging), show_progress=False)
    (staging / FINGERPRINT_FILE).write_text(json.dumps({"fingerprint": fingerprint}))
    # Swap in the new index; a crash here leaves the old one or none, and the fingerprint check
    # above rebuilds it on the next ingest.
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return True


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
    services: Services, top_k: int, filters: MetadataFilters | None = None
) -> BM25Retriever | None:
    """A BM25 retriever over the persisted index, or None if there is none (or all is filtered)."""
    path = services.paths.bm25
    if not (path / "params.index.json").exists():
        return None
    base = services.bm25_base()
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
    """Load the persisted BM25 index once (Services caches it)."""
    from llama_index.retrievers.bm25 import BM25Retriever

    return BM25Retriever.from_persist_dir(str(path), mmap=False, show_progress=False)
