"""Uploads from the app: every ingestible format, the same checks, parsed before saving."""

from __future__ import annotations

import ast
from collections.abc import Callable

from conftest import REPO
from helpers import make_docx, saved_page

from ingest.uploads import UPLOAD_SUFFIXES, add_uploads
from lodestar.components.services import Services


def test_word_html_and_legacy_text_uploads_are_checked_saved_and_ingested(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(
        ingest=make_services().settings.ingest.model_copy(update={"max_file_mb": 0.05})
    )
    handbook = make_docx([("h1", "Handbook"), ("p", "Leads hold a weekly one to one.")])
    results = add_uploads(
        services,
        [
            ("../handbook.docx", handbook),
            ("Onboarding page.HTML", saved_page().encode()),
            (
                "legacy.txt",
                "Caf\u00e9 chats \u2013 na\u00efve questions welcome.\n".encode("cp1252"),
            ),
            ("broken.docx", b"PK\x03\x04 not really a zip"),
            (
                "encrypted.docx",
                b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            ),
            ("markup.htm", b"<html><script>x()</script><nav>Home</nav></html>"),
            ("huge.html", b"<p>" + b"word " * 20_000 + b"</p>"),
            ("slides.pptx", b"PK\x03\x04"),
        ],
    )
    by_name = {r.saved_as: r for r in results}
    assert [r.status for r in results] == [
        "added",
        "added",
        "added",
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
    ]
    assert by_name["legacy.txt"].detail == "read as cp1252 (not UTF-8)"
    assert "not a Word document" in by_name["broken.docx"].detail
    assert "encrypted Word document" in by_name["encrypted.docx"].detail
    assert "no text content" in by_name["markup.htm"].detail
    assert "over the 0.1 MB limit" in by_name["huge.html"].detail
    assert "unsupported file type" in by_name["slides.pptx"].detail
    saved = sorted(p.name for p in services.paths.uploads.iterdir())
    assert saved == ["Onboarding page.html", "handbook.docx", "legacy.txt"]
    documents = {
        meta["document_id"]
        for meta in services.vector_store.client.get(include=["metadatas"])["metadatas"]
    }
    assert documents == {
        "uploads/handbook.docx",
        "uploads/Onboarding page.html",
        "uploads/legacy.txt",
    }


def test_the_app_offers_exactly_the_upload_types() -> None:
    tree = ast.parse((REPO / "lodestar" / "app" / "sidebar.py").read_text())
    offered = [
        [element.value for element in keyword.value.elts]  # type: ignore[attr-defined]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "file_uploader"
        for keyword in node.keywords
        if keyword.arg == "type"
    ]
    assert offered == [[suffix.lstrip(".") for suffix in UPLOAD_SUFFIXES]]


def test_ingested_suffixes_default_to_every_readable_format() -> None:
    from ingest.loaders import SUPPORTED_SUFFIXES
    from lodestar.core.settings import IngestSettings

    assert IngestSettings().extensions == list(SUPPORTED_SUFFIXES)
