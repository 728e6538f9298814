"""Chunk, embed and store: incremental ingestion of folders into Chroma.

Each folder is a *source* with its own persisted docstore, so llama-index's upserts-and-delete
strategy removes a deleted file's passages only from the source that was re-ingested. The docstore
is written (atomically) only after Chroma has every new passage, and passage ids are stable, so a
run killed at any point is repaired by the next one.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.schema import Document
from llama_index.core.storage.docstore import SimpleDocumentStore

from ingest.chunking import SectionChunker
from ingest.discovery import SkippedPath, find_source_files, resolve_inside
from ingest.embedding import ProgressCallback, ProgressEmbedding
from ingest.loaders import load_document
from lodestar.components.store.chroma import get_collection
from lodestar.components.store.keyword_index import refresh_keyword_index
from lodestar.components.store.manifest import (
    IndexManifest,
    IndexState,
    SourceRecord,
    write_json_atomic,
)
from lodestar.core.errors import DocumentError, IndexOwnedError, IngestLockedError, LodestarError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from lodestar.components.services import Services
    from lodestar.components.store.manifest import IndexPaths
    from lodestar.core.settings import ChromaSettings, ChunkingSettings, Settings

CHUNKING_SCHEME = "sections+sentences/v2"


@dataclass
class FileFailure:
    """A file that could not be ingested, and why."""

    path: str
    reason: str


@dataclass
class FileNote:
    """A file that was ingested with something its owner should know (e.g. its encoding)."""

    path: str
    note: str


@dataclass
class IngestReport:
    """What one `ingest` run did."""

    files_seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    failed: list[FileFailure] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)  # links not followed
    # files (re)ingested in this run that were not UTF-8, with the encoding they were read in
    decoded: list[FileNote] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    keyword_index_rebuilt: bool = False
    reset: bool = False  # the store had lost what this data dir ingested: all re-embedded

    @property
    def ok(self) -> bool:
        """True when every file was ingested."""
        return not self.failed


@dataclass
class _SourceBatch:
    record: SourceRecord
    root: Path
    files: list[Path]
    delete_missing: bool


def chunking_id(chunking: ChunkingSettings) -> str:
    """Identity of the chunking configuration, recorded in the manifest."""
    return f"{CHUNKING_SCHEME}:{chunking.chunk_tokens}/{chunking.overlap_tokens}"


def make_chunker(settings: Settings, tokenizer: Callable[[str], Sequence[Any]]) -> SectionChunker:
    """The chunker for the configured embedder's window (`tokenizer` counts its tokens)."""
    return SectionChunker(
        chunk_tokens=settings.chunking.chunk_tokens,
        overlap_tokens=settings.chunking.overlap_tokens,
        max_prefix_tokens=max(
            8, settings.embedding.max_tokens - settings.chunking.chunk_tokens - 8
        ),
        tokenizer=tokenizer,
    )


def ingest_paths(
    paths: Sequence[Path],
    services: Services,
    *,
    rebuild: bool = False,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest folders (each a source; files deleted there are removed) and single files."""
    started = time.perf_counter()
    index = services.paths
    index.root.mkdir(parents=True, exist_ok=True)
    with _ingest_lock(index.lock, services.settings.ingest.lock_timeout_s):
        manifest = IndexManifest.load(index.manifest)
        if rebuild:
            paths = _rebuild_targets(paths, manifest)
            _drop_index(services.chroma_client, services.settings.chroma.collection, index)
            manifest = None
        elif manifest is not None:
            manifest.check_compatible(
                services.embedding_id, manifest.dimension, chunking_id(services.settings.chunking)
            )
        if manifest is None:
            manifest = IndexManifest(
                embedding=services.embedding_id,
                dimension=services.embed_dimension,
                chunking=chunking_id(services.settings.chunking),
            )
        reset = _claim_collection(services.chroma_client, services.settings.chroma, index, manifest)
        batches, skipped = _plan_batches(paths, manifest, services.settings.ingest.extensions)
        report = IngestReport(
            sources=[batch.record.name for batch in batches], reset=reset, skipped=skipped
        )
        if on_progress:
            on_progress("files", 0, sum(len(batch.files) for batch in batches))
        for batch in batches:
            _ingest_source(batch, services, report, on_progress)
            manifest.touch()
            manifest.save(index.manifest)
        report.keyword_index_rebuilt = refresh_keyword_index(
            index,
            services.vector_store,
            services.chroma_client,
            services.settings.chroma.collection,
        )
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _ingest_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold the data dir's ingest lock; the OS releases it if the process dies."""
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout as exc:
        raise IngestLockedError(
            f"another ingest is running on {path.parent} (lock {path}); waited {timeout:.0f}s",
            hint="wait for it to finish, or raise LODESTAR_INGEST__LOCK_TIMEOUT_S",
        ) from exc
    try:
        yield
    finally:
        lock.release()


def _claim_collection(
    client: ClientAPI, chroma: ChromaSettings, index: IndexPaths, manifest: IndexManifest
) -> bool:
    """Make this data dir the collection's writer, or refuse if another one is.

    The docstores that make ingestion incremental live in the writer's data dir, so a second
    writer (another machine on the same Chroma server) would disagree with the first about what
    is indexed. An empty, unclaimed collection while this data dir has docstores means a new or
    wiped Chroma server: the docstores are dropped so that everything is embedded again, and the
    return value says so.
    """
    collection = get_collection(client, chroma.collection)
    state = IndexState.read(collection)
    if state.writer not in (None, manifest.index_id):
        where = (
            f"the Chroma server {chroma.host}:{chroma.port}"
            if chroma.is_remote
            else str(index.chroma)
        )
        raise IndexOwnedError(
            f"the collection {collection.name!r} on {where} is kept up to date from another "
            f"data dir (index {state.writer}); a second writer would lose track of what is "
            "indexed",
            hint="ingest from the machine that owns it, or run `lodestar ingest --rebuild` here "
            "to take it over (drops the collection and re-embeds this data dir's sources)",
        )
    reset = state.writer is None and collection.count() == 0 and index.docstores.exists()
    if reset:
        shutil.rmtree(index.docstores)
    # Saved before the claim is published, so a crash in between cannot orphan the collection.
    manifest.save(index.manifest)
    state.writer = manifest.index_id
    state.embedding = manifest.embedding
    state.dimension = manifest.dimension
    state.chunking = manifest.chunking
    state.publish(collection)
    return reset


def _rebuild_targets(paths: Sequence[Path], manifest: IndexManifest | None) -> list[Path]:
    """Everything that was in the index and still exists, plus what was asked for."""
    targets = list(paths)
    known = {p.resolve() for p in targets}
    for record in manifest.sources if manifest else []:
        folder = Path(record.path)
        if folder.is_dir() and folder.resolve() not in known:
            targets.append(folder)
    return targets


def _drop_index(client: ClientAPI, name: str, index: IndexPaths) -> None:
    if name in {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}:
        client.delete_collection(name)
    shutil.rmtree(index.docstores, ignore_errors=True)
    index.manifest.unlink(missing_ok=True)


def _plan_batches(
    paths: Sequence[Path], manifest: IndexManifest, extensions: Iterable[str]
) -> tuple[list[_SourceBatch], list[SkippedPath]]:
    batches: dict[str, _SourceBatch] = {}
    skipped: list[SkippedPath] = []
    for raw in paths:
        path = raw.expanduser()
        if path.is_dir():
            record = manifest.source_for(path)
            found = find_source_files(path, extensions)
            skipped.extend(found.skipped)
            batches[record.name] = _SourceBatch(
                record, path.resolve(), found.files, delete_missing=True
            )
        elif path.is_file() or path.is_symlink():
            root = path.parent.resolve()
            real = resolve_inside(path, root)
            if isinstance(real, SkippedPath):
                skipped.append(real)
                continue
            record = manifest.source_for(path.parent)
            batch = batches.setdefault(
                record.name, _SourceBatch(record, root, [], delete_missing=False)
            )
            if real not in batch.files:
                batch.files.append(real)
        else:
            raise LodestarError(f"no such file or folder: {path}")
    return list(batches.values()), skipped


def load_source_document(file: Path, root: Path, source_name: str, max_bytes: int) -> Document:
    """Load one file of a source as ingest stores it: id `<source>/<path>`, metadata not embedded.

    `file` is a real path inside the resolved folder `root` (as find_source_files gives them).
    """
    relpath = file.relative_to(root).as_posix()
    doc_id = f"{source_name}/{relpath}"
    doc = load_document(file, doc_id=doc_id, relpath=relpath, max_bytes=max_bytes)
    doc.metadata.update(source=doc_id, source_name=source_name)
    doc.excluded_embed_metadata_keys = list(doc.metadata)
    doc.excluded_llm_metadata_keys = list(doc.metadata)
    return doc


def _ingest_source(
    batch: _SourceBatch,
    services: Services,
    report: IngestReport,
    on_progress: ProgressCallback | None,
) -> None:
    settings = services.settings
    docstore_path = services.paths.docstore(batch.record.name)
    docstore = (
        SimpleDocumentStore.from_persist_path(str(docstore_path))
        if docstore_path.exists()
        else SimpleDocumentStore()
    )
    previous = {doc_id: doc_hash for doc_hash, doc_id in docstore.get_all_document_hashes().items()}
    max_bytes = int(settings.ingest.max_file_mb * 1_000_000)
    documents = _load_batch(batch, docstore, previous, max_bytes, report, on_progress)
    stale = set(previous) - {doc.doc_id for doc in documents} if batch.delete_missing else set()
    report.removed += len(stale)
    pending = [doc for doc in documents if previous.get(doc.doc_id) != doc.hash]

    embedder = ProgressEmbedding(
        embed_factory=lambda: services.embed_model,
        batch_size=settings.embedding.batch_size,
        on_progress=on_progress,
    )
    vector_store = _fresh_vector_store(services.chroma_client, settings.chroma.collection)
    chunker = make_chunker(settings, services.tokenizer)

    def run(docs: list[Document], strategy: DocstoreStrategy) -> None:
        pipeline = IngestionPipeline(
            transformations=[chunker, embedder],
            vector_store=vector_store,
            docstore=docstore,
            docstore_strategy=strategy,
            disable_cache=True,
        )
        report.chunks_embedded += len(pipeline.run(documents=docs))
        # Only now, with every passage in Chroma, does the docstore record the documents as done.
        write_json_atomic(docstore_path, docstore.to_dict())

    # Commit in slices so a long ingest that is killed keeps most of its work.
    step = settings.ingest.commit_every
    if on_progress and pending:
        on_progress("documents", 0, len(pending))
    for start in range(0, len(pending), step):
        run(pending[start : start + step], DocstoreStrategy.UPSERTS)
        if on_progress:
            on_progress("documents", len(pending[start : start + step]), len(pending))
    if stale:
        # Everything present is current now, so this pass only removes what is gone.
        run(documents, DocstoreStrategy.UPSERTS_AND_DELETE)


def _load_batch(
    batch: _SourceBatch,
    docstore: SimpleDocumentStore,
    previous: dict[str, str],
    max_bytes: int,
    report: IngestReport,
    on_progress: ProgressCallback | None,
) -> list[Document]:
    """Load the batch's files, counting what changed since `previous` (doc id -> hash)."""
    documents: list[Document] = []
    for file in batch.files:
        relpath = file.relative_to(batch.root).as_posix()
        doc_id = f"{batch.record.name}/{relpath}"
        report.files_seen += 1
        try:
            doc = load_source_document(file, batch.root, batch.record.name, max_bytes)
        except DocumentError as exc:
            report.failed.append(FileFailure(str(file), exc.one_line()))
            # Keep what the index already has for this file: a bad edit must not delete it.
            kept = docstore.get_document(doc_id, raise_error=False) if doc_id in previous else None
            if isinstance(kept, Document):
                documents.append(kept)
        else:
            documents.append(doc)
            if doc_id not in previous:
                report.added += 1
            elif previous[doc_id] != doc.hash:
                report.updated += 1
            else:
                report.unchanged += 1
            if "encoding" in doc.metadata and previous.get(doc_id) != doc.hash:
                note = f"read as {doc.metadata['encoding']} (not UTF-8)"
                report.decoded.append(FileNote(str(file), note))
        if on_progress:
            on_progress("files", 1, None)
    return documents


def _fresh_vector_store(client: ClientAPI, name: str) -> Any:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    collection = get_collection(client, name)
    return ChromaVectorStore(chroma_collection=collection)
