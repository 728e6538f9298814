"""Loading files into Documents, and a specific error for each kind of bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from helpers import make_pdf, write
from pypdf import PdfReader, PdfWriter

from ingest.loaders import PAGE_MARKER_RE, load_document
from lodestar.errors import DocumentError

MB = 1_000_000


def load(path: Path, max_bytes: int = MB) -> object:
    return load_document(path, doc_id=f"t/{path.name}", relpath=path.name, max_bytes=max_bytes)


def test_markdown_front_matter_becomes_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lead.md",
        "---\ntitle: Team Lead\ndoc_type: role_profile\nroles: [ML Engineering Team Lead]\n"
        "levels: [Senior, lead]\nbased_on: 001.txt\n---\n# Team Lead\n\nLeads 5-20 engineers.\n",
    )
    doc = load(path)
    assert doc.doc_id == "t/lead.md"
    assert doc.metadata["title"] == "Team Lead"
    assert doc.metadata["roles"] == ["ML Engineering Team Lead"]
    assert doc.metadata["based_on"] == "001.txt"
    assert doc.text.startswith("# Team Lead")
    assert "---" not in doc.text


def test_title_falls_back_to_heading_then_file_name(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.md", "# From Heading\n\nbody text\n")).metadata["title"] == (
        "From Heading"
    )
    assert load(write(tmp_path / "my_notes.md", "just text\n")).metadata["title"] == "My notes"


def test_pdf_pages_are_marked(tmp_path: Path) -> None:
    path = write(tmp_path / "guide.pdf", make_pdf(["First page text.", "Second page text."]))
    doc = load(path)
    assert [int(m) for m in PAGE_MARKER_RE.findall(doc.text)] == [1, 2]
    assert "Second page text." in doc.text
    assert doc.metadata["pages"] == 2


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["secret text"]))))
    writer.encrypt(user_password="s3cret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("corrupt.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "corrupt or unreadable PDF"),
        ("encrypted.pdf", None, "encrypted PDF"),
        ("empty.md", b"", "file is empty"),
        ("blank.txt", b"   \n\n  \n", "no text content"),
        ("binary.txt", bytes(range(256)) * 4, "binary content"),
        ("undecidable.md", bytes(range(1, 256)) * 4, "encoding cannot be told"),
        ("false-bom.txt", b"\xff\xfe broken encoding \xff", "byte-order mark"),
        (
            "bad-front-matter.md",
            b"---\ntitle: [unclosed\n---\nbody\n",
            "front matter is not valid YAML",
        ),
        ("scan.pdf", None, "no extractable text"),
    ],
)
def test_bad_input_gets_a_specific_reason(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    if name == "encrypted.pdf":
        content = _encrypted_pdf()
    if name == "scan.pdf":
        content = make_pdf([""])
    assert content is not None
    with pytest.raises(DocumentError, match=reason):
        load(write(tmp_path / name, content))


def test_oversized_file_is_rejected_with_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.txt", "word " * 1000)
    with pytest.raises(DocumentError, match=r"over the 0\.0 MB limit") as info:
        load(path, max_bytes=100)
    assert "LODESTAR_INGEST__MAX_FILE_MB" in str(info.value)


@pytest.mark.parametrize(
    ("text", "encoding", "declared"),
    [
        ("Caf\u00e9 au lait \u2013 \u201cna\u00efve\u201d questions.\n", "cp1252", "cp1252"),
        ("caf\u00e9 au lait\n", "latin-1", "cp1252"),  # Latin-1 letters read the same in cp1252
        ("Hello team, saved by Notepad.\n", "utf-16", "utf-16"),
        (
            "\u041d\u043e\u0432\u044b\u0435 \u0440\u0443\u043a\u043e\u0432\u043e\u0434"
            "\u0438\u0442\u0435\u043b\u0438 \u0432\u0441\u0442\u0440\u0435\u0447\u0430"
            "\u044e\u0442\u0441\u044f \u0441 \u043d\u0430\u0441\u0442\u0430\u0432\u043d"
            "\u0438\u043a\u043e\u043c \u043a\u0430\u0436\u0434\u0443\u044e \u043d\u0435"
            "\u0434\u0435\u043b\u044e.\n",
            "cp1251",
            "cp1251",
        ),
    ],
    ids=["windows-1252", "latin-1", "utf-16", "windows-1251"],
)
def test_legacy_encodings_are_read_and_named(
    tmp_path: Path, text: str, encoding: str, declared: str
) -> None:
    doc = load(write(tmp_path / "legacy.txt", text.encode(encoding)))
    assert doc.metadata["encoding"] == declared
    assert " ".join(text.split()) in " ".join(doc.text.split())


def test_utf8_documents_carry_no_encoding_metadata(tmp_path: Path) -> None:
    """So that documents ingested before encodings were detected keep their hashes."""
    assert "encoding" not in load(write(tmp_path / "plain.md", "# Plain\n\ncaf\u00e9\n")).metadata
