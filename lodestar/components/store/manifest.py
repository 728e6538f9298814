"""What a data dir records about its index: its layout, the manifest, and the published state.

The manifest (embedder, chunking, sources) lives in the data dir; the state every reader needs
travels with the Chroma collection's metadata (IndexState). Both are plain data with atomic
writes; opening Chroma itself is chroma.py's job.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import IndexMismatchError

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

MANIFEST_VERSION = 1


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class SourceRecord:
    """One ingested folder: its stable name (the prefix of its document ids) and absolute path."""

    name: str
    path: str


@dataclass
class IndexManifest:
    """What the index was built with, so a different embedder is caught before it mixes vectors."""

    embedding: str
    dimension: int
    chunking: str
    version: int = MANIFEST_VERSION
    sources: list[SourceRecord] = field(default_factory=list)
    last_ingest: str | None = None
    # Identifies this data dir as the writer of its collection (see IndexState.writer).
    index_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def load(cls, path: Path) -> IndexManifest | None:
        """Read the manifest, or None when nothing was ingested into this data dir yet."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        data["sources"] = [SourceRecord(**s) for s in data.get("sources", [])]
        return cls(**data)

    def save(self, path: Path) -> None:
        """Persist atomically."""
        write_json_atomic(path, asdict(self))

    def check_compatible(self, embedding: str, dimension: int, chunking: str) -> None:
        """Raise IndexMismatchError when the configured embedder or chunking differs."""
        problems = []
        if self.embedding != embedding or self.dimension != dimension:
            problems.append(
                f"embedding model {self.embedding} ({self.dimension}-d), now {embedding} "
                f"({dimension}-d)"
            )
        if self.chunking != chunking:
            problems.append(f"chunking {self.chunking}, now {chunking}")
        if problems:
            raise IndexMismatchError(
                "The index was built with " + "; ".join(problems) + ". Mixing them would "
                "make search results meaningless.",
                hint="run `lodestar ingest --rebuild` to re-embed every source with the current "
                "settings, or point --data-dir at a fresh directory",
            )

    def source_for(self, folder: Path) -> SourceRecord:
        """The record for `folder`, registering it under a new unique name if it is new."""
        resolved = str(folder.resolve())
        for record in self.sources:
            if record.path == resolved:
                return record
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-") or "source"
        taken = {record.name for record in self.sources}
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        record = SourceRecord(name=name, path=resolved)
        self.sources.append(record)
        return record

    def touch(self) -> None:
        """Record the time of the last successful ingest."""
        self.last_ingest = datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class IndexState:
    """What every reader of the collection must know, kept in the Chroma collection's metadata.

    With a Chroma server, several machines query one collection, but the manifest, docstores and
    BM25 files live in one machine's data dir. So the facts a query needs travel with the
    collection: the embedder (a query machine checks it is the same), the fingerprint of the
    ingested documents (a query machine rebuilds its local BM25 when it changes), and the writer,
    the data dir whose docstores describe the collection (another one may not ingest into it).
    """

    writer: str | None = None
    embedding: str | None = None
    dimension: int | None = None
    chunking: str | None = None
    fingerprint: str | None = None
    updated: str | None = None

    PREFIX = "lodestar_"

    @classmethod
    def read(cls, collection: Collection) -> IndexState:
        """The state as last published, with None for whatever was never published."""
        meta = collection.metadata or {}
        values = {f.name: meta.get(cls.PREFIX + f.name) for f in fields(cls)}
        return cls(**values)

    def publish(self, collection: Collection) -> None:
        """Replace the collection's metadata with this state (the distance space is kept)."""
        collection.modify(
            metadata={self.PREFIX + k: v for k, v in asdict(self).items() if v is not None}
        )

    @property
    def keyword_key(self) -> str:
        """What the BM25 index must be built from; 'unpublished' for an index older than this."""
        return self.fingerprint or "unpublished"


class IndexPaths:
    """The files and folders inside a data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir
        self.chroma = data_dir / "chroma"
        self.docstores = data_dir / "docstores"
        self.manifest = data_dir / "manifest.json"
        self.lock = data_dir / "ingest.lock"
        self.bm25 = data_dir / "bm25"
        self.models = data_dir / "models"
        self.uploads = data_dir / "uploads"
        self.feedback = data_dir / "feedback.sqlite3"
        self.levels = data_dir / "levels"  # the level guide's cells, per index fingerprint

    def docstore(self, source_name: str) -> Path:
        """The persisted docstore of one source: the record of what was ingested from it."""
        return self.docstores / f"{source_name}.json"
