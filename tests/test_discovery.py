"""Finding a source's files: links read once at their real path, or skipped with a reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import write

from ingest.discovery import find_source_files

SUFFIXES = (".md", ".txt", ".pdf")


def names(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root.resolve()).as_posix() for p in paths]


def test_plain_folder_hidden_entries_and_other_suffixes_left_out(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "a")
    write(tmp_path / "sub" / "b.txt", "b")
    write(tmp_path / ".hidden.md", "h")
    write(tmp_path / ".git" / "c.md", "c")
    write(tmp_path / "image.png", b"\x89PNG")
    found = find_source_files(tmp_path, SUFFIXES)
    assert names(tmp_path, found.files) == ["a.md", "sub/b.txt"]
    assert found.skipped == []


def test_links_to_one_file_give_one_file_at_its_real_path(tmp_path: Path) -> None:
    good = write(tmp_path / "good.md", "# Good\n")
    (tmp_path / "alias.md").symlink_to("good.md")
    (tmp_path / "another-alias.md").symlink_to(good)  # absolute
    write(tmp_path / "sub" / "keep.md", "keep")
    (tmp_path / "sub" / "up-alias.md").symlink_to("../good.md")
    os.link(good, tmp_path / "hardlink.md")
    found = find_source_files(tmp_path, SUFFIXES)
    assert names(tmp_path, found.files) == ["good.md", "sub/keep.md"]
    assert found.skipped == []


def test_a_link_into_a_hidden_folder_is_read_at_its_real_path(tmp_path: Path) -> None:
    write(tmp_path / ".drafts" / "plan.md", "plan")
    (tmp_path / "plan.md").symlink_to(".drafts/plan.md")
    found = find_source_files(tmp_path, SUFFIXES)
    assert names(tmp_path, found.files) == [".drafts/plan.md"]


@pytest.mark.parametrize(
    ("make_link", "reason"),
    [
        (lambda d, outside: (d / "x.md").symlink_to(outside / "secret.md"), "outside the source"),
        (lambda d, outside: (d / "shadow.md").symlink_to("/etc/shadow"), "outside the source"),
        (lambda d, outside: (d / "ext").symlink_to(outside), "outside the source"),
        (lambda d, outside: (d / "gone.md").symlink_to(d / "missing.md"), "broken link"),
        (lambda d, outside: (d / "self.md").symlink_to("self.md"), "link loop"),
        (lambda d, outside: (d / "sub" / "up").symlink_to(".."), "parent folder"),
        (lambda d, outside: (d / "sub" / "root").symlink_to(d), "parent folder"),
        (lambda d, outside: (d / "sub" / "me").symlink_to("."), "parent folder"),
    ],
    ids=[
        "file-outside",
        "etc-shadow",
        "folder-outside",
        "broken",
        "self-loop",
        "parent",
        "root-absolute",
        "dot",
    ],
)
def test_links_that_leave_the_source_or_loop_are_skipped_with_a_reason(
    tmp_path: Path, make_link: object, reason: str
) -> None:
    root = tmp_path / "kb"
    outside = tmp_path / "outside"
    write(outside / "secret.md", "secret")
    write(root / "good.md", "good")
    write(root / "sub" / "inner.md", "inner")
    make_link(root, outside)  # type: ignore[operator]
    found = find_source_files(root, SUFFIXES)
    assert names(root, found.files) == ["good.md", "sub/inner.md"]
    assert len(found.skipped) == 1
    assert reason in found.skipped[0].reason
    assert "not followed" in found.skipped[0].reason or "missing" in found.skipped[0].reason


def test_a_loop_of_two_links_is_skipped_once_each(tmp_path: Path) -> None:
    (tmp_path / "a.md").symlink_to("b.md")
    (tmp_path / "b.md").symlink_to("a.md")
    write(tmp_path / "c.md", "c")
    found = find_source_files(tmp_path, SUFFIXES)
    assert names(tmp_path, found.files) == ["c.md"]
    assert sorted(Path(s.path).name for s in found.skipped) == ["a.md", "b.md"]
    assert all("link loop" in s.reason for s in found.skipped)


def test_a_link_to_a_folder_inside_the_source_adds_nothing_twice(tmp_path: Path) -> None:
    write(tmp_path / "team" / "doc.md", "doc")
    (tmp_path / "team-alias").symlink_to("team")
    found = find_source_files(tmp_path, SUFFIXES)
    assert names(tmp_path, found.files) == ["team/doc.md"]
    assert found.skipped == []


def test_a_source_reached_through_a_link_is_walked(tmp_path: Path) -> None:
    write(tmp_path / "real" / "doc.md", "doc")
    (tmp_path / "link").symlink_to("real")
    found = find_source_files(tmp_path / "link", SUFFIXES)
    assert [p.name for p in found.files] == ["doc.md"]
    assert found.files[0] == (tmp_path / "real" / "doc.md").resolve()
