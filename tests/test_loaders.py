"""Loading files into Documents, and a specific error for each kind of bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from helpers import make_docx, make_pdf, saved_page, write
from pypdf import PdfReader, PdfWriter

from ingest.loaders import PAGE_MARKER_RE, load_document
from lodestar.core.errors import DocumentError

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
        ("Hello team, exported without a byte-order mark.\n", "utf-16-le", "utf-16-le"),
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
    ids=["windows-1252", "latin-1", "utf-16", "utf-16-le-without-bom", "windows-1251"],
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


def test_word_headings_lists_and_tables_are_kept(tmp_path: Path) -> None:
    content = make_docx(
        [
            ("title", "Team Handbook"),
            ("p", "New leads meet their mentor weekly."),
            ("h1", "Hiring"),
            ("p", "Interview loops have four stages."),
            ("bullet", "Phone screen"),
            ("bullet", "Onsite"),
            ("h2", "Pay bands"),
            ("table", [["Level", "Min", "Max"], ["Senior", "$172,150", "$212,400"]]),
            ("p", "Bands are reviewed every year."),
        ],
        title="Handbook 2026",
    )
    doc = load(write(tmp_path / "handbook.docx", content))
    assert doc.metadata["title"] == "Handbook 2026"
    assert doc.text.startswith("# Team Handbook\n")
    assert "\n## Hiring\n" in doc.text
    assert "\n### Pay bands\n" in doc.text
    assert "- Phone screen\n- Onsite\n" in doc.text
    assert "| Senior | $172,150 | $212,400 |" in doc.text
    assert doc.text.index("Pay bands") < doc.text.index("Senior") < doc.text.index("reviewed")


def test_word_title_falls_back_to_the_first_heading(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "notes.docx", make_docx([("h1", "Notes"), ("p", "Some text.")])))
    assert doc.metadata["title"] == "Notes"


def _zip_of(files: dict[str, bytes]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _broken_docx_xml() -> bytes:
    """A real .docx whose main document part is cut off mid-XML."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(make_docx([("p", "Some text.")])))
    files = {name: source.read(name) for name in source.namelist()}
    files["word/document.xml"] = files["word/document.xml"][:200]
    return _zip_of(files)


# An Office file encrypted with a password is an OLE compound file holding an EncryptionInfo
# stream (MS-OFFCRYPTO); this is its header and directory-entry name, not a full container.
ENCRYPTED_DOCX = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le") * 1
)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("random.docx", bytes(range(256)) * 8, "not a Word document"),
        ("truncated.docx", "half", "not a Word document"),
        ("other-zip.docx", _zip_of({"readme.txt": b"hello"}), "corrupt or unreadable Word"),
        ("broken-xml.docx", _broken_docx_xml(), "corrupt or unreadable Word"),
        ("encrypted.docx", ENCRYPTED_DOCX, "encrypted Word document"),
        ("legacy.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024), "Word 97-2003"),
        ("empty-body.docx", "empty", "no text content"),
    ],
)
def test_bad_word_files_get_a_specific_reason(
    tmp_path: Path, name: str, content: bytes | str, reason: str
) -> None:
    if content == "half":
        whole = make_docx([("p", "Some text that will be cut in half.")])
        content = whole[: len(whole) // 2]
    elif content == "empty":
        content = make_docx([])
    assert isinstance(content, bytes)
    with pytest.raises(DocumentError, match=reason):
        load(write(tmp_path / name, content))


def test_saved_web_page_keeps_the_content_and_drops_the_furniture(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "onboarding.html", saved_page()))
    text = doc.text
    assert doc.metadata["title"] == "Onboarding new leads"
    assert text.startswith("# Onboarding new leads\n")
    assert "Pair a new lead with a buddy." in text
    assert "\n## First week\n" in text
    assert "- Meet every report one to one\n- Read the team charter" in text
    assert "| Hiring | Priya |" in text
    for furniture in [
        "Skip to content",
        "ACME Wiki",
        "Spaces",
        "cookies",
        "Space home",
        "Engineering / Leads",
        "Share on LinkedIn",
        "Privacy policy",
        "TRACKING-ID",
        "font-family",
        "Enable JavaScript",
    ]:
        assert furniture not in text, furniture


def test_page_without_a_main_element_loses_its_site_header_and_footer(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Pay bands | Notion</title></head><body>"
        "<header>Workspace menu</header><nav>Home · Search</nav>"
        '<div class="layout has-sidebar"><div class="sidebar">Recent pages</div>'
        "<div><h2>Levels</h2><p>Senior leads earn $172,150 to $212,400.</p></div></div>"
        "<footer>Made with Notion</footer></body></html>"
    )
    doc = load(write(tmp_path / "pay.htm", page))
    assert doc.metadata["title"] == "Pay bands | Notion"
    assert "## Levels" in doc.text
    assert "$172,150 to $212,400" in doc.text
    assert "Workspace menu" not in doc.text
    assert "Recent pages" not in doc.text
    assert "Home" not in doc.text
    assert "Made with Notion" not in doc.text


def test_confluence_export_reads_main_content(tmp_path: Path) -> None:
    page = (
        '<html><head><title>Eng : Mentoring</title></head><body><div id="page">'
        '<div id="main-header"><div id="breadcrumb-section">Eng / Home</div>'
        '<h1 id="title-heading">Mentoring</h1></div>'
        '<div id="content" class="view"><div id="main-content" class="wiki-content">'
        "<p>Each new lead gets a mentor for 90 days.</p></div></div>"
        '<div id="footer">Generated by Atlassian Confluence</div></div></body></html>'
    )
    doc = load(write(tmp_path / "Mentoring_12345.html", page))
    assert doc.text.strip() == "Each new lead gets a mentor for 90 days."
    assert doc.metadata["title"] == "Eng : Mentoring"


def test_page_in_a_declared_legacy_charset_is_decoded(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "</head><body><main><p>Caf\u00e9 chats \u2013 every Friday.</p></main></body></html>"
    )
    doc = load(write(tmp_path / "cafe.html", page.encode("cp1252")))
    assert "Caf\u00e9 chats \u2013 every Friday." in doc.text
    assert doc.metadata["encoding"] == "cp1252"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b"<html><head><style>p{}</style><script>var a=1;</script></head><body>"
            b"<nav><a href='/'>Home</a></nav><div id='cookie-banner'>Accept</div>"
            b"<img src='x.png'></body></html>",
            "no text content",
        ),
        (b"<html><head><script>track()</script></head></html>", "no body text"),
        (b"<html>" + bytes(range(256)) * 4 + b"</html>", "binary content"),
        (b"<body>" + b"<div>" * 3000 + b"deep" + b"</div>" * 3000, "nested too deeply"),
    ],
    ids=["all-furniture", "only-script", "binary", "deep-nesting"],
)
def test_html_without_text_is_rejected(tmp_path: Path, content: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        load(write(tmp_path / "page.html", content))
