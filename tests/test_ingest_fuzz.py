"""Fuzzing ingestion: folders of good, broken, mutated and random files of every type, plus links.

Each case is a folder that hypothesis draws: good files (each with a word of its own), files that
are certainly bad (empty, binary, a .docx that is no zip, a page of nothing but markup), good
files with bytes truncated, flipped or inserted (which may or may not still be readable), random
bytes under every suffix, and links (an alias inside the folder, one leading out of it, a loop,
a link to the parent folder, a dead one). For every case: the ingest never raises; every file is
either ingested or reported by name with a handled reason; every good file is in the index with
its word; no link is followed out of the folder; and a second run embeds nothing.

Real files, a real Chroma and the session's real embedder; derandomized so that CI runs the
same cases every time (LODESTAR_FUZZ_CASES raises the count for a longer local hunt).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import make_docx, make_pdf, saved_page, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import ingest_paths
from lodestar.components.services import Services

CASES = int(os.environ.get("LODESTAR_FUZZ_CASES", "20"))
SECRET = "outsidersecret"
GOOD_KINDS = ["md", "txt", "cp1252", "pdf", "docx", "html"]
BAD_KINDS = ["empty", "nul", "not-zip-docx", "markup-html", "textless-pdf", "garbage-pdf"]
LINK_KINDS = ["alias", "outside", "loop", "parent", "dead"]
STATS: Counter[str] = Counter()


def good_content(kind: str, word: str) -> tuple[str, bytes]:
    """A readable file of `kind` whose text holds `word`: (suffix, bytes)."""
    sentence = f"The {word} practice helps new leads run calm weekly reviews."
    if kind == "md":
        return ".md", f"# Guide {word}\n\n{sentence}\n".encode()
    if kind == "txt":
        return ".txt", f"Notes\n\n{sentence}\n".encode()
    if kind == "cp1252":
        text = f"Caf\u00e9 notes \u2013 {sentence} Na\u00efve questions are welcome.\n"
        return ".txt", text.encode("cp1252")
    if kind == "pdf":
        return ".pdf", make_pdf([sentence])
    if kind == "docx":
        return ".docx", make_docx([("h1", f"Handbook {word}"), ("p", sentence)])
    return ".html", saved_page(title=f"Page {word}", body=sentence).encode()


def bad_content(kind: str, noise: bytes) -> tuple[str, bytes]:
    """A file that no loader may accept: (suffix, bytes)."""
    if kind == "empty":
        return ".md", b""
    if kind == "nul":
        return ".txt", b"text\x00" + noise
    if kind == "not-zip-docx":
        return ".docx", b"NOTAZIP" + noise
    if kind == "markup-html":
        return ".html", b"<html><script>track()</script><nav><a href='/'>Home</a></nav></html>"
    if kind == "textless-pdf":
        return ".pdf", make_pdf([""])
    return ".pdf", b"%PDF-1.4\n" + noise.replace(b"%%EOF", b"")


@dataclass
class Mutation:
    """How to damage a good file: truncate, overwrite bytes at positions, or insert bytes."""

    how: str
    at: float  # position as a share of the file's length
    data: bytes

    def apply(self, content: bytes) -> bytes:
        position = int(self.at * len(content))
        if self.how == "truncate":
            return content[:position]
        if self.how == "overwrite":
            return content[:position] + self.data + content[position + len(self.data) :]
        return content[:position] + self.data + content[position:]


@dataclass
class Entry:
    """One planned file: its role, what it is made from, and where it goes."""

    role: str  # good | bad | mutated | random
    kind: str
    subfolder: bool
    noise: bytes = b""
    mutation: Mutation | None = None
    suffix: str = ""


mutations = st.builds(
    Mutation,
    how=st.sampled_from(["truncate", "overwrite", "insert"]),
    at=st.floats(0.0, 1.0),
    data=st.binary(min_size=1, max_size=16),
)
entries = st.one_of(
    st.builds(
        Entry, role=st.just("good"), kind=st.sampled_from(GOOD_KINDS), subfolder=st.booleans()
    ),
    st.builds(
        Entry,
        role=st.just("bad"),
        kind=st.sampled_from(BAD_KINDS),
        subfolder=st.booleans(),
        noise=st.binary(max_size=64),
    ),
    st.builds(
        Entry,
        role=st.just("mutated"),
        kind=st.sampled_from(GOOD_KINDS),
        subfolder=st.booleans(),
        mutation=mutations,
    ),
    st.builds(
        Entry,
        role=st.just("random"),
        kind=st.just("bytes"),
        subfolder=st.booleans(),
        noise=st.binary(min_size=1, max_size=256),
        suffix=st.sampled_from(SUPPORTED_SUFFIXES),
    ),
)
folders = st.tuples(
    st.lists(entries, min_size=3, max_size=8),
    st.lists(st.sampled_from(LINK_KINDS), unique=True, max_size=3),
)

# One explicit case with one file of every kind and every link, on top of the drawn ones.
EVERY_KIND = (
    [Entry("good", kind, subfolder=n % 2 == 0) for n, kind in enumerate(GOOD_KINDS)]
    + [Entry("bad", kind, subfolder=False, noise=b"\x89junk") for kind in BAD_KINDS]
    + [Entry("mutated", "docx", subfolder=True, mutation=Mutation("overwrite", 0.5, b"\xff" * 8))]
    + [Entry("random", "bytes", subfolder=False, noise=b"\x8d\x90" * 20, suffix=".htm")],
    LINK_KINDS,
)


def build_folder(base: Path, plan: list[Entry], links: list[str]) -> dict[str, object]:
    """Write the planned folder; return what each name is expected to be."""
    root = base / "kb"
    (root / "sub").mkdir(parents=True)
    write(base / "outside" / "secret.md", f"# Secret\n\nThe {SECRET} is 4711.\n")
    good: dict[str, str] = {}  # document id -> its word
    bad: set[str] = set()
    uncertain: set[str] = set()
    for n, entry in enumerate(plan):
        word = f"zq{n}word"
        if entry.role == "good":
            suffix, content = good_content(entry.kind, word)
        elif entry.role == "bad":
            suffix, content = bad_content(entry.kind, entry.noise)
        elif entry.role == "mutated":
            assert entry.mutation is not None
            suffix, content = good_content(entry.kind, word)
            content = entry.mutation.apply(content)
        else:
            suffix, content = entry.suffix, entry.noise
        relpath = f"{'sub/' if entry.subfolder else ''}f{n}-{entry.role}-{entry.kind}{suffix}"
        write(root / relpath, content)
        if entry.role == "good":
            good[relpath] = word
        elif entry.role == "bad":
            bad.add(relpath)
        else:
            uncertain.add(relpath)
        STATS[f"file:{entry.role}"] += 1
        STATS[f"suffix:{suffix}"] += 1
    skipped: set[str] = set()
    for kind in links:
        STATS[f"link:{kind}"] += 1
        if kind == "alias":
            target = sorted(good or bad or uncertain or {"none.md"})[0]
            (root / "sub" / "alias.md").symlink_to(root / target)
        elif kind == "outside":
            (root / "secret.md").symlink_to(base / "outside" / "secret.md")
            skipped.add("secret.md")
        elif kind == "loop":
            (root / "loop.md").symlink_to("loop.md")
            skipped.add("loop.md")
        elif kind == "parent":
            (root / "sub" / "up").symlink_to("..")
            skipped.add("up")
        else:
            (root / "dead.txt").symlink_to("nowhere.txt")
            skipped.add("dead.txt")
    return {"root": root, "good": good, "bad": bad, "uncertain": uncertain, "skipped": skipped}


@pytest.mark.slow
def test_ingest_survives_random_folders(make_services: Callable[..., Services]) -> None:
    STATS.clear()

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(folders)
    @example(EVERY_KIND)
    def check(folder: tuple[list[Entry], list[str]]) -> None:
        plan, links = folder
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            expected = build_folder(base, plan, links)
            root: Path = expected["root"]  # type: ignore[assignment]
            good: dict[str, str] = expected["good"]  # type: ignore[assignment]
            bad: set[str] = expected["bad"]  # type: ignore[assignment]
            uncertain: set[str] = expected["uncertain"]  # type: ignore[assignment]
            services = make_services(data_dir=base / "data")

            report = ingest_paths([root], services)  # must not raise

            real_root = root.resolve()
            failed = {
                Path(f.path).relative_to(real_root).as_posix(): f.reason for f in report.failed
            }
            data = services.vector_store.client.get(include=["documents", "metadatas"])
            texts: dict[str, str] = {}
            for meta, text in zip(data["metadatas"], data["documents"], strict=True):
                doc = str(meta["document_id"]).removeprefix("kb/")
                texts[doc] = texts.get(doc, "") + " " + str(text)
            assert bad <= set(failed), "every bad file is reported by name"
            assert not set(good) & set(failed), {
                name: failed[name] for name in good if name in failed
            }
            for name, word in good.items():
                assert word in texts.get(name, ""), f"good file {name} is not searchable"
            everything = set(good) | bad | uncertain
            assert set(texts) | set(failed) == everything, (
                "a file was neither ingested nor reported"
            )
            assert not set(texts) & set(failed)
            assert all("unexpected error" not in reason for reason in failed.values()), failed
            assert all("\n" not in reason for reason in failed.values())
            assert {Path(s.path).name for s in report.skipped} == expected["skipped"]
            assert not any(SECRET in text for text in texts.values())
            assert "sub/alias.md" not in texts

            again = ingest_paths([root], services)
            assert again.chunks_embedded == 0
            assert {Path(f.path).relative_to(real_root).as_posix() for f in again.failed} == set(
                failed
            )
            STATS["cases"] += 1
            STATS["files"] += len(everything)
            STATS["ingested"] += len(texts)
            STATS["failed"] += len(failed)
            STATS["skipped"] += len(report.skipped)
            STATS["mutated-still-readable"] += len(uncertain & set(texts))

    check()
    print("\nfuzz:", dict(sorted(STATS.items())))
    assert STATS["cases"] == CASES + 1
    for kind in LINK_KINDS:
        assert STATS[f"link:{kind}"] > 0, f"no case had a {kind} link"
    for suffix in SUPPORTED_SUFFIXES:
        assert STATS[f"suffix:{suffix}"] > 0, f"no case had a {suffix} file"
