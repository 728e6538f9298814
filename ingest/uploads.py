"""Documents added from the app: checked, saved under DATA_DIR/uploads and ingested as a source.

A file is parsed before it is saved, so a corrupt one is reported and never reaches the index or
the uploads folder; names are reduced to a safe base name, and an existing file with other
content is replaced only when the caller says so.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from lodestar.core.errors import DocumentError

if TYPE_CHECKING:
    from ingest.embedding import ProgressCallback
    from lodestar.components.services import Services

UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES  # lodestar/app/sidebar.py's file_uploader lists the same
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass
class UploadResult:
    """What happened to one uploaded file."""

    name: str
    status: str  # added | updated | unchanged | exists | failed
    detail: str = ""
    saved_as: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file is now in the knowledge base as uploaded."""
        return self.status in ("added", "updated", "unchanged")

    @property
    def message(self) -> str:
        """One line for the person who uploaded it."""
        shown = self.name if self.saved_as in ("", self.name) else f"{self.name} → {self.saved_as}"
        return f"{shown}: {self.status}" + (f" ({self.detail})" if self.detail else "")


def safe_filename(name: str) -> str:
    """A plain base name: no folders, no hidden files, only letters, digits, ` ._-`."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    stem, dot, suffix = _UNSAFE.sub("_", base).strip(" ").rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem = stem.strip(" ._-")[:120] or "document"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def add_uploads(
    services: Services,
    files: Sequence[tuple[str, bytes]],
    *,
    replace: bool = False,
    on_progress: ProgressCallback | None = None,
) -> list[UploadResult]:
    """Check, save and ingest uploaded `(name, content)` pairs; one result per file, in order."""
    from ingest.pipeline import ingest_paths

    folder = services.paths.uploads
    folder.mkdir(parents=True, exist_ok=True)
    max_bytes = int(services.settings.ingest.max_file_mb * 1_000_000)
    results: list[UploadResult] = []
    for name, content in files:
        results.append(_save(folder, name, content, replace=replace, max_bytes=max_bytes))
    if any(r.status in ("added", "updated") for r in results):
        report = ingest_paths([folder], services, on_progress=on_progress)
        failed = {Path(f.path).name: f.reason for f in report.failed}
        for result in results:
            if result.saved_as in failed:
                result.status, result.detail = "failed", failed[result.saved_as]
    return results


def _save(
    folder: Path, name: str, content: bytes, *, replace: bool, max_bytes: int
) -> UploadResult:
    clean = safe_filename(name)
    result = UploadResult(name=name, status="failed", saved_as=clean)
    if Path(clean).suffix not in UPLOAD_SUFFIXES:
        result.detail = f"unsupported file type; upload {', '.join(UPLOAD_SUFFIXES)} files"
        return result
    if len(content) > max_bytes:
        result.detail = (
            f"file is {len(content) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit"
        )
        return result
    target = folder / clean
    if target.exists():
        if target.read_bytes() == content:
            result.status, result.detail = "unchanged", "already in the knowledge base"
            return result
        if not replace:
            result.status = "exists"
            result.detail = f"a different {clean} is already uploaded; confirm to replace it"
            return result
    existed = target.exists()
    # Parse a staged copy first: a file that cannot be read never replaces a good one.
    fd, staged_name = tempfile.mkstemp(prefix=".staged-", suffix=target.suffix, dir=folder)
    staged = Path(staged_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        doc = load_document(staged, doc_id="upload-check", relpath=clean, max_bytes=max_bytes)
        os.replace(staged, target)
    except DocumentError as exc:
        result.detail = exc.message
        return result
    finally:
        staged.unlink(missing_ok=True)
    result.status = "updated" if existed else "added"
    if "encoding" in doc.metadata:
        result.detail = f"read as {doc.metadata['encoding']} (not UTF-8)"
    return result
