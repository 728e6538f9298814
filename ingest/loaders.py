"""Files to llama-index Documents: Markdown with front matter, plain text, PDF, Word and HTML.

Every failure is a `DocumentError` with a reason a person can act on; the pipeline records it
against the file and goes on with the others.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from llama_index.core import Document

from ingest.cleaning import clean_text
from ingest.decoding import UTF8, decode_text
from ingest.webpage import read_web_page
from ingest.word import read_word
from lodestar.core.errors import DocumentError

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
PDF_SUFFIXES = (".pdf",)
WORD_SUFFIXES = (".docx",)
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES + WORD_SUFFIXES + HTML_SUFFIXES
PAGE_MARKER = "<!-- page {n} -->"
PAGE_MARKER_RE = re.compile(r"^<!-- page (\d+) -->$", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^#\s+(.+)$", re.MULTILINE)
_LIST_KEYS = ("roles", "levels", "tags")
logger = logging.getLogger(__name__)


def load_document(path: Path, *, doc_id: str, relpath: str, max_bytes: int) -> Document:
    """Read one file into a Document whose id is `doc_id`; raise DocumentError if it can't be."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise DocumentError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit",
            hint="raise LODESTAR_INGEST__MAX_FILE_MB to ingest larger files",
        )
    if size == 0:
        raise DocumentError("file is empty")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"unsupported file type {suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        text, metadata = _read_as(path, suffix)
    except DocumentError:
        raise
    except Exception as exc:
        # A parser failing in a way its reader does not know must cost this file, not the run.
        logger.warning("unexpected error reading %s", path, exc_info=True)
        message = " ".join(str(exc).split())[:200]
        raise DocumentError(
            f"unexpected error reading the file: {type(exc).__name__}: {message}",
            hint="please report it; the traceback is logged (DATA_DIR/lodestar.log)",
        ) from exc
    if not text.strip() or not re.search(r"\w", PAGE_MARKER_RE.sub("", text)):
        raise DocumentError("file has no text content")
    metadata.setdefault("title", _title_from(text, path))
    metadata.update({"path": relpath, "file_name": path.name})
    return Document(text=text, doc_id=doc_id, metadata=metadata)


def _read_as(path: Path, suffix: str) -> tuple[str, dict[str, Any]]:
    if suffix in PDF_SUFFIXES:
        return _read_pdf(path)
    if suffix in WORD_SUFFIXES:
        text, metadata = read_word(path)
        return clean_text(text, detect_headings=False), metadata
    if suffix in HTML_SUFFIXES:
        text, metadata = read_web_page(_read_bytes(path))
        return clean_text(text, detect_headings=False), metadata
    return _read_text(path, markdown=suffix != ".txt")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc


def _read_text(path: Path, *, markdown: bool) -> tuple[str, dict[str, Any]]:
    text, encoding = decode_text(_read_bytes(path))
    metadata: dict[str, Any] = {}
    if markdown:
        text, metadata = _split_front_matter(text)
    if encoding != UTF8:
        # Only for files that are not UTF-8, so every UTF-8 document keeps its hash.
        metadata["encoding"] = encoding
    return clean_text(text, detect_headings=not markdown), metadata


def _split_front_matter(text: str) -> tuple[str, dict[str, Any]]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"front matter is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise DocumentError("front matter must be a YAML mapping (key: value lines)")
    metadata: dict[str, Any] = {}
    for key, value in data.items():
        if key in _LIST_KEYS:
            items = value if isinstance(value, list) else [value]
            metadata[key] = [str(item).strip() for item in items if str(item).strip()]
        elif isinstance(value, str | int | float | bool):
            metadata[str(key)] = value
        elif value is not None:
            metadata[str(key)] = str(value)
    return text[match.end() :], metadata


def _read_pdf(path: Path) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF (a password is required to read it)")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises many types on malformed files
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise DocumentError("encrypted PDF (a password is required to read it)") from exc
        raise DocumentError(f"corrupt or unreadable PDF: {type(exc).__name__}: {exc}") from exc
    if not any(page.strip() for page in pages):
        raise DocumentError("PDF has no extractable text (scanned images need OCR first)")
    parts = [
        PAGE_MARKER.format(n=n) + "\n" + clean_text(page, detect_headings=True)
        for n, page in enumerate(pages, start=1)
        if page.strip()
    ]
    metadata: dict[str, Any] = {"pages": len(pages)}
    if info is not None and info.title and str(info.title).strip():
        metadata["title"] = str(info.title).strip()
    return "\n".join(parts), metadata


def _title_from(text: str, path: Path) -> str:
    match = _H1.search(text)
    if match:
        return match.group(1).strip()
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
