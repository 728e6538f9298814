"""Incremental ingestion into a real persistent Chroma with the real bundled embedder."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from helpers import make_docx, make_pdf, saved_page, write
from typer.testing import CliRunner

from ingest.pipeline import ingest_paths
from lodestar.cli import common
from lodestar.cli.main import app
from lodestar.components.services import Services
from lodestar.core.errors import IndexMismatchError, IngestLockedError
from lodestar.retrieval.hybrid import retrieve_passages

GUIDE = "---\ntitle: {title}\ndoc_type: guide\nroles: [ML Tech Lead]\n---\n# {title}\n\n## Part\n\n{body}\n"


def guide(title: str, body: str) -> str:
    return GUIDE.format(title=title, body=body)


def index_snapshot(services: Services) -> dict[str, tuple[str, str]]:
    """Every passage id in Chroma with its document id and text."""
    data = services.vector_store.client.get(include=["documents", "metadatas"])
    ids = data["ids"]
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    return {
        pid: (str(meta["document_id"]), str(text))
        for pid, meta, text in zip(ids, data["metadatas"], data["documents"], strict=True)
    }


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(root / "mentoring.md", guide("Mentoring", "Pair new engineers with a buddy for 30 days."))
    write(root / "hiring.md", guide("Hiring", "Interview loops have four stages."))
    write(root / "notes" / "pay.txt", "Pay\n\nSalaries range from $172,150 to $212,400 per year.\n")
    return root


def test_incremental_add_change_delete(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    first = ingest_paths([corpus], services)
    assert (first.added, first.updated, first.unchanged, first.removed) == (3, 0, 0, 0)
    assert first.chunks_embedded == len(index_snapshot(services)) > 0

    again = ingest_paths([corpus], services)
    assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, 3, 0)

    write(corpus / "hiring.md", guide("Hiring", "Interview loops have five stages now."))
    changed = ingest_paths([corpus], services)
    assert (changed.updated, changed.unchanged) == (1, 2)
    snapshot = index_snapshot(services)
    hiring = [text for doc, text in snapshot.values() if doc == "kb/hiring.md"]
    assert changed.chunks_embedded == len(hiring)
    assert any("five stages" in text for text in hiring)
    assert not any("four stages" in text for text in hiring)

    (corpus / "notes" / "pay.txt").unlink()
    removed = ingest_paths([corpus], services)
    assert (removed.removed, removed.chunks_embedded) == (1, 0)
    assert {doc for doc, _ in index_snapshot(services).values()} == {
        "kb/mentoring.md",
        "kb/hiring.md",
    }


def test_sources_are_independent(tmp_path: Path, make_services: Callable[..., Services]) -> None:
    services = make_services()
    team_a = write(tmp_path / "a" / "doc.md", guide("Alpha", "Alpha team runs weekly demos."))
    team_b = write(tmp_path / "b" / "doc.md", guide("Beta", "Beta team writes design docs."))
    ingest_paths([team_a.parent], services)
    ingest_paths([team_b.parent], services)
    assert {doc for doc, _ in index_snapshot(services).values()} == {"a/doc.md", "b/doc.md"}

    team_a.unlink()
    report = ingest_paths([team_a.parent], services)
    assert report.removed == 1
    assert {doc for doc, _ in index_snapshot(services).values()} == {"b/doc.md"}


def test_single_file_is_upserted_without_deleting_siblings(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    ingest_paths([corpus], services)
    write(corpus / "hiring.md", guide("Hiring", "Interview loops have six stages."))
    report = ingest_paths([corpus / "hiring.md"], services)
    assert (report.files_seen, report.updated, report.removed) == (1, 1, 0)
    assert len({doc for doc, _ in index_snapshot(services).values()}) == 3


def test_bad_files_are_reported_and_the_rest_ingested(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(
        ingest=make_services().settings.ingest.model_copy(update={"max_file_mb": 0.01})
    )
    write(corpus / "broken.pdf", b"%PDF-1.4 garbage")
    write(corpus / "empty.md", b"")
    write(corpus / "binary.txt", bytes(range(256)) * 8)
    write(corpus / "undecidable.txt", bytes(range(1, 256)) * 4)
    write(corpus / "huge.md", "big " * 5000)
    write(corpus / "good.pdf", make_pdf(["Onboarding takes two weeks."]))
    report = ingest_paths([corpus], services)
    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert set(reasons) == {"broken.pdf", "empty.md", "binary.txt", "undecidable.txt", "huge.md"}
    assert "corrupt" in reasons["broken.pdf"]
    assert "over the" in reasons["huge.md"]
    assert "encoding cannot be told" in reasons["undecidable.txt"]
    assert all("\n" not in reason for reason in reasons.values()), "one line per problem"
    assert report.added == 4
    assert {doc for doc, _ in index_snapshot(services).values()} == {
        "kb/mentoring.md",
        "kb/hiring.md",
        "kb/notes/pay.txt",
        "kb/good.pdf",
    }


def test_a_file_that_turns_bad_keeps_its_indexed_passages(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    ingest_paths([corpus], services)
    before = index_snapshot(services)
    write(corpus / "hiring.md", b"\xff\xfe broken encoding \xff")
    report = ingest_paths([corpus], services)
    assert [Path(f.path).name for f in report.failed] == ["hiring.md"]
    assert report.removed == 0
    assert index_snapshot(services) == before


def test_pdf_passages_record_their_page(
    tmp_path: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    write(
        tmp_path / "pdfs" / "handbook.pdf",
        make_pdf(["Page one is about hiring.", "Page two is about pay."]),
    )
    ingest_paths([tmp_path / "pdfs"], services)
    data = services.vector_store.client.get(include=["documents", "metadatas"])
    pages = {
        text: meta["page"] for text, meta in zip(data["documents"], data["metadatas"], strict=True)
    }
    assert pages == {"Page one is about hiring.": 1, "Page two is about pay.": 2}


def test_changing_the_embedding_model_needs_a_rebuild(
    corpus: Path, make_services: Callable[..., Services], embed_model: Any
) -> None:
    services = make_services()
    ingest_paths([corpus], services)
    other = make_services(
        embedding=services.settings.embedding.model_copy(update={"model": "/models/other"})
    )
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest_paths([corpus], other)
    assert len(index_snapshot(services)) > 0, "the refused ingest must not touch the index"

    other_chunking = make_services(
        chunking=services.settings.chunking.model_copy(update={"chunk_tokens": 120})
    )
    with pytest.raises(IndexMismatchError, match="chunking"):
        ingest_paths([corpus], other_chunking)
    rebuilt = ingest_paths([], other_chunking, rebuild=True)
    assert rebuilt.added == 3
    assert rebuilt.chunks_embedded == len(index_snapshot(other_chunking))


def test_second_ingest_fails_clearly_while_the_lock_is_held(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services(
        ingest=make_services().settings.ingest.model_copy(update={"lock_timeout_s": 0.3})
    )
    services.paths.root.mkdir(parents=True, exist_ok=True)
    holder = FileLock(str(services.paths.lock))
    holder.acquire()
    try:
        with pytest.raises(IngestLockedError, match="another ingest is running"):
            ingest_paths([corpus], services)
    finally:
        holder.release()
    assert ingest_paths([corpus], services).added == 3


def test_concurrent_ingests_do_not_corrupt_the_index(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    """Two ingests started together: one waits for the other; the index ends up whole."""
    results: list[Any] = []

    def run() -> None:
        results.append(ingest_paths([corpus], make_services()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.added for r in results) == [0, 3]
    assert {doc for doc, _ in index_snapshot(make_services()).values()} == {
        "kb/mentoring.md",
        "kb/hiring.md",
        "kb/notes/pay.txt",
    }


def test_ingest_and_retrieve_with_the_network_off(
    corpus: Path, make_services: Callable[..., Services], network_guard: list[str]
) -> None:
    import socket

    with pytest.raises(RuntimeError, match="network is off"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    network_guard.clear()
    services = make_services()
    assert ingest_paths([corpus], services).added == 3
    passages = retrieve_passages("How much are team leads paid?", services, k=2)
    assert "$172,150" in passages[0].text
    assert network_guard == [], f"ingestion tried to reach the network: {network_guard}"


def test_links_never_stop_an_ingest(
    tmp_path: Path, corpus: Path, make_services: Callable[..., Services]
) -> None:
    """Aliases are one document; links out of the folder, loops and dead links are skipped."""
    outside = write(tmp_path / "private" / "secret.md", guide("Secret", "The vault code is 4711."))
    (corpus / "alias.md").symlink_to("mentoring.md")
    (corpus / "notes" / "hiring-again.md").symlink_to("../hiring.md")
    (corpus / "secret.md").symlink_to(outside)
    (corpus / "private").symlink_to(outside.parent)
    (corpus / "notes" / "up").symlink_to("..")
    (corpus / "loop.md").symlink_to("loop.md")
    (corpus / "dead.md").symlink_to("nowhere.md")
    services = make_services()
    report = ingest_paths([corpus], services)
    assert report.failed == []
    assert report.added == 3
    assert {doc for doc, _ in index_snapshot(services).values()} == {
        "kb/mentoring.md",
        "kb/hiring.md",
        "kb/notes/pay.txt",
    }
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(skipped) == {"secret.md", "private", "up", "loop.md", "dead.md"}
    assert "outside the source folder" in skipped["secret.md"]
    assert "outside the source folder" in skipped["private"]
    assert "parent folder" in skipped["up"]
    assert "link loop" in skipped["loop.md"]
    assert "broken link" in skipped["dead.md"]
    assert not any("4711" in text for _, text in index_snapshot(services).values())

    again = ingest_paths([corpus], services)
    assert (again.unchanged, again.chunks_embedded, len(again.skipped)) == (3, 0, 5)


def test_a_file_named_through_a_link_is_its_real_file(
    tmp_path: Path, corpus: Path, make_services: Callable[..., Services]
) -> None:
    services = make_services()
    ingest_paths([corpus], services)
    (corpus / "alias.md").symlink_to("hiring.md")
    (corpus / "shadow.md").symlink_to("/etc/shadow")
    report = ingest_paths([corpus / "alias.md", corpus / "shadow.md"], services)
    assert (report.files_seen, report.unchanged, report.chunks_embedded) == (1, 1, 0)
    assert [Path(s.path).name for s in report.skipped] == ["shadow.md"]


def test_a_legacy_encoded_text_is_read_and_reported(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    write(
        corpus / "cafe.txt",
        "Caf\u00e9 etiquette\n\nNew leads meet their mentor in the caf\u00e9 on Fridays \u2013 "
        "na\u00efve questions welcome.\n".encode("cp1252"),
    )
    services = make_services()
    report = ingest_paths([corpus], services)
    assert report.failed == []
    assert [(Path(n.path).name, n.note) for n in report.decoded] == [
        ("cafe.txt", "read as cp1252 (not UTF-8)")
    ]
    texts = [text for doc, text in index_snapshot(services).values() if doc == "kb/cafe.txt"]
    assert any("caf\u00e9 on Fridays \u2013 na\u00efve" in text for text in texts)
    assert ingest_paths([corpus], services).decoded == [], "only new or changed files are noted"


# Issue 24: a Windows-1252 note in English with a few French words, once refused as "could be
# cp1257 or mac_latin2" (which read "naļve" and "dėją").
ZEBRACORN_NOTE = (
    "Caf\u00e9 budgets and r\u00e9sum\u00e9 reviews: the zebracorn review happens every quarter, "
    "na\u00efve estimates are revised, and the team\u2019s d\u00e9j\u00e0 vu meetings are "
    "cancelled. Every caf\u00e9 receipt is filed.\r\n"
)


def test_a_windows_1252_note_with_french_words_is_read_as_cp1252(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    write(corpus / "zebracorn.txt", ZEBRACORN_NOTE.encode("cp1252"))
    services = make_services()
    report = ingest_paths([corpus], services)
    assert report.failed == []
    assert [(Path(n.path).name, n.note) for n in report.decoded] == [
        ("zebracorn.txt", "read as cp1252 (not UTF-8)")
    ]
    text = " ".join(t for doc, t in index_snapshot(services).values() if doc == "kb/zebracorn.txt")
    assert "na\u00efve estimates" in text
    assert "team\u2019s d\u00e9j\u00e0 vu" in text


def test_the_ingest_command_says_which_encoding_a_legacy_note_was_read_in(
    corpus: Path, make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    note = write(corpus / "zebracorn.txt", ZEBRACORN_NOTE.encode("cp1252"))
    services = make_services()
    monkeypatch.setattr(common, "build_services", lambda settings: services)
    result: Any = CliRunner().invoke(app, ["ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    assert f"ingested: {note.resolve()}: read as cp1252 (not UTF-8)\n" in result.stdout
    assert "failed:" not in result.output


def test_word_and_web_pages_are_ingested_and_found(
    corpus: Path, make_services: Callable[..., Services]
) -> None:
    write(
        corpus / "handbook.docx",
        make_docx(
            [
                ("title", "Incident handbook"),
                ("h1", "Escalations"),
                ("p", "Production incidents page the on-call lead within five minutes."),
                ("table", [["Severity", "Response"], ["SEV1", "Within five minutes"]]),
            ]
        ),
    )
    write(
        corpus / "wiki" / "onboarding.html",
        saved_page(body="Every new lead shadows a staff engineer for two sprints."),
    )
    write(corpus / "corrupt.docx", b"PK\x03\x04" + bytes(100))
    write(
        corpus / "markup.html", b"<html><head><script>track()</script></head><body></body></html>"
    )
    services = make_services()
    report = ingest_paths([corpus], services)
    assert sorted(Path(f.path).name for f in report.failed) == ["corrupt.docx", "markup.html"]
    assert report.added == 5
    snapshot = index_snapshot(services)
    wiki = " ".join(text for doc, text in snapshot.values() if doc == "kb/wiki/onboarding.html")
    assert "shadows a staff engineer" in wiki
    assert "cookies" not in wiki
    assert "Privacy policy" not in wiki
    passages = retrieve_passages("Who do new leads shadow, and for how long?", services, k=2)
    assert passages[0].source == "kb/wiki/onboarding.html"
    assert passages[0].title == "Onboarding new leads"
    passages = retrieve_passages("How fast must the on-call lead respond to a SEV1?", services, k=2)
    assert passages[0].source == "kb/handbook.docx"
    assert (passages[0].title, passages[0].heading) == ("Incident handbook", "Escalations")
    assert ingest_paths([corpus], services).chunks_embedded == 0
