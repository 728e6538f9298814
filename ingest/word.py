"""Word documents (.docx) to Markdown with python-docx: headings stay headings, tables become rows.

The body is read in order, paragraphs and tables interleaved as the author wrote them. Headers,
footers and comments are page furniture and are left out, as on web pages.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lodestar.core.errors import DocumentError

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

# Office files that are not zip packages are OLE compound files: an encrypted .docx, or a .doc.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
_HEADING_STYLE = re.compile(r"^heading (\d)$")
_LIST_ITEM = re.compile(r"^(- |\d+\. )")


def read_word(path: Path) -> tuple[str, dict[str, Any]]:
    """Markdown text and metadata (title) of a .docx file; DocumentError if it cannot be read."""
    import docx

    with path.open("rb") as handle:
        head = handle.read(len(_OLE_MAGIC))
    if head == _OLE_MAGIC:
        if _ENCRYPTION_STREAM in path.read_bytes():
            raise DocumentError("encrypted Word document (a password is required to read it)")
        raise DocumentError(
            "a Word 97-2003 document with a .docx name", hint="save it as .docx and ingest again"
        )
    if not zipfile.is_zipfile(path):
        raise DocumentError("not a Word document (not a .docx zip package); is it corrupt?")
    try:
        document = docx.Document(str(path))
        body = list(document.iter_inner_content())
        # Under a Title paragraph, "Heading 1" is a section of it: one level down.
        shift = int(any(_style_name(block) == "title" for block in body))
        blocks = [_block_markdown(block, shift) for block in body]
        title = (document.core_properties.title or "").strip()
    except DocumentError:
        raise
    except Exception as exc:  # python-docx, zipfile and lxml raise many types on broken files
        raise DocumentError(f"corrupt or unreadable Word document: {_describe(exc)}") from exc
    return _join_blocks([block for block in blocks if block]), ({"title": title} if title else {})


def _join_blocks(blocks: list[str]) -> str:
    """Blank lines between blocks, but consecutive list items stay one list."""
    out: list[str] = []
    for block in blocks:
        if out and _LIST_ITEM.match(block) and _LIST_ITEM.match(out[-1]):
            out.append("\n")
        elif out:
            out.append("\n\n")
        out.append(block)
    return "".join(out)


def _style_name(block: Paragraph | Table) -> str:
    style = getattr(block, "style", None)
    return str(getattr(style, "name", "") or "").lower()


def _block_markdown(block: Paragraph | Table, heading_shift: int) -> str:
    from docx.table import Table

    if isinstance(block, Table):
        return _table_markdown(block)
    return _paragraph_markdown(block, heading_shift)


def _paragraph_markdown(paragraph: Paragraph, heading_shift: int) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    style = _style_name(paragraph)
    heading = _HEADING_STYLE.match(style)
    if heading:
        return "#" * min(6, int(heading.group(1)) + heading_shift) + " " + text
    if style == "title":
        return "# " + text
    if style.startswith("list number"):
        return "1. " + text
    if style.startswith("list") or _has_numbering(paragraph):
        return "- " + text
    return text


def _has_numbering(paragraph: Paragraph) -> bool:
    """A list item formatted directly (as Google Docs exports them) rather than by style."""
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _table_markdown(table: Table) -> str:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is listed once per grid column it spans
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()).replace("|", "\\|"))
        if any(cells):
            rows.append(cells)
    if not rows:
        return ""
    width = max(len(cells) for cells in rows)
    lines = ["| " + " | ".join(cells + [""] * (width - len(cells))) + " |" for cells in rows]
    lines.insert(1, "|" + " --- |" * width)
    return "\n".join(lines)


def _describe(exc: Exception) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
