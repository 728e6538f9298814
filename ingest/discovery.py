"""The files of a source folder: hidden entries left out, links resolved, every file read once.

A symbolic link to a file inside the source folder is read at its real path, so however many
names lead to one file it becomes one document under one id. A link that leads outside the
source folder, a link to a folder above it (a loop) and a broken link are never followed: each
is reported as skipped, with the reason. Links to folders inside the source add nothing (their
files are read where they really are), so they are not followed either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_LOOP = "link loop (following it never reaches a file); not followed"


@dataclass(frozen=True)
class SkippedPath:
    """A path in a source that was deliberately not read, and why."""

    path: str
    reason: str


@dataclass
class SourceFiles:
    """What a walk of a source folder found: real file paths in walk order, and what it skipped."""

    files: list[Path] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)


def find_source_files(root: Path, suffixes: Iterable[str]) -> SourceFiles:
    """Every file under `root` with one of `suffixes`, once each, by its real path."""
    root = root.resolve()
    wanted = {suffix.lower() for suffix in suffixes}
    found = SourceFiles()
    seen: set[tuple[int, int]] = set()  # (device, inode): hard links are one file too
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        followed = []
        for name in sorted(dirnames):
            if name.startswith("."):
                continue
            entry = here / name
            if entry.is_symlink():
                reason = _folder_link_reason(entry, root)
                if reason:
                    found.skipped.append(SkippedPath(str(entry), reason))
                continue
            followed.append(name)
        dirnames[:] = followed
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in wanted:
                continue
            entry = here / name
            real = resolve_inside(entry, root)
            if isinstance(real, SkippedPath):
                found.skipped.append(real)
                continue
            try:
                stat = real.stat()
            except OSError:
                found.files.append(real)  # the loader reports why it cannot be read
                continue
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                found.files.append(real)
    found.files.sort()
    return found


def resolve_inside(path: Path, root: Path) -> Path | SkippedPath:
    """`path`'s real location if it lies inside `root` (a resolved folder), else why it is skipped."""
    if not path.is_symlink():
        return path.resolve()
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return SkippedPath(str(path), f"broken link (its target {os.readlink(path)} is missing)")
    except (RuntimeError, OSError):  # RuntimeError: Python 3.11's "Symlink loop"
        return SkippedPath(str(path), _LOOP)
    if not real.is_relative_to(root):
        return SkippedPath(str(path), f"link to {real}, outside the source folder; not followed")
    if real.is_dir():
        return SkippedPath(str(path), "link to a folder; not followed")
    return real


def _folder_link_reason(link: Path, root: Path) -> str | None:
    """Why a link to a folder is skipped, or None when its files are read at their real paths."""
    try:
        real = link.resolve(strict=True)
    except FileNotFoundError:
        return f"broken link (its target {os.readlink(link)} is missing)"
    except (RuntimeError, OSError):
        return _LOOP
    if link.parent.resolve().is_relative_to(real):
        return f"link to the parent folder {real} (a loop); not followed"
    if not real.is_relative_to(root):
        return f"link to the folder {real}, outside the source folder; not followed"
    return None
