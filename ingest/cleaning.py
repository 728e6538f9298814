"""Tidy raw web-scraped text into Markdown without losing any of its content.

Pages copied from the web carry furniture (logos, "first image" placeholders, "Related Articles"
trailers), captions printed twice, bullet glyphs, list items run together on one line, and headings
that are only short lines. Retrieval works on sections and passages, so these are normalised here:
furniture lines are dropped, duplicates collapsed, lists split into one item per line, and in plain
text, heading-like lines become Markdown headings.
"""

from __future__ import annotations

import re
import unicodedata

# Whole lines that are page furniture, not content.
_FURNITURE = re.compile(
    r"""^(
        logo\w*                                   # "logoAiPathly"
      | (first|second|third|fourth|fifth|sixth|\w+)\ image   # image placeholders
      | related\ (articles|posts|reading)
      | more\ careers
      | (share|print)\ (this|the)\ (article|page|post)
      | advertisement
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_BULLET = re.compile(r"^(\s*)[•●▪◦‣∙·–—*-]\s*(?=\S)")
_NUMBERED = re.compile(r"^(\s*)(\d{1,2})[.)]\s+")
# A run-on list: " - **Item**: ..." or ". - Item" inside one line; two or more " - Item" in a
# line mark a run-on list even without punctuation before the dashes.
_INLINE_BULLET = re.compile(r"(?<=[.:!?)*])\s+[-•]\s+(?=[A-Z*])|\s+[-•]\s+(?=\*\*)")
_LOOSE_BULLET = re.compile(r"\s+[-•]\s+(?=[A-Z*])")
# "... text: 1. First 2. Second": numbered items that follow the end of a clause.
_INLINE_NUMBERED = re.compile(r"(?<=[.:!?])\s+(?=\d{1,2}\.\s+[A-Z])")
_INLINE_HEADING = re.compile(r"\s+(?=#{2,6}\s+\S)")
# A closing paragraph glued onto the last bullet of a list ("... management By excelling in ...").
_GLUED_PARAGRAPH = re.compile(
    r"(?<=[a-z0-9)])\s+(?=(?:By|This|These|The|In summary|Overall|Together)\s[^\n]{60,}[.!]$)"
)
_SENTENCE_END = re.compile(r"[.,;:!?]$")


def clean_text(raw: str, *, detect_headings: bool) -> str:
    """Return `raw` as tidy Markdown; `detect_headings` turns short title lines into headings."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\t", "    ").replace("\u200b", "")
    lines = [piece for line in text.split("\n") for piece in _split_run_on(line)]
    lines = [_normalise_line(line) for line in lines]
    lines = [line for line in lines if not _FURNITURE.match(line.strip())]
    lines = _drop_repeated_lines(lines)
    if detect_headings:
        lines = _mark_headings(lines)
    return _collapse_blank_lines(lines)


def _split_run_on(line: str) -> list[str]:
    """Split one physical line that holds several list items, headings or paragraphs."""
    stripped = line.strip()
    if not stripped:
        return [""]
    indent = line[: len(line) - len(line.lstrip())]
    pieces = _INLINE_HEADING.split(stripped)
    out: list[str] = []
    for piece in pieces:
        splitter = _LOOSE_BULLET if len(_LOOSE_BULLET.findall(piece)) >= 2 else _INLINE_BULLET
        items = splitter.split(piece)
        for i, item in enumerate(items):
            # The first fragment keeps its own form; later ones were list items in the source.
            for j, part in enumerate(_INLINE_NUMBERED.split(item)):
                prefix = "- " if i > 0 and j == 0 else ""
                out.append(indent + prefix + part.strip())
    result: list[str] = []
    for piece in out:
        if _BULLET.match(piece) or _NUMBERED.match(piece):
            head, *tail = _GLUED_PARAGRAPH.split(piece, maxsplit=1)
            result.append(head)
            result.extend(["", tail[0].strip(), ""] if tail else [])
        else:
            result.append(piece)
    return result


def _normalise_line(line: str) -> str:
    """Turn bullet glyphs into Markdown bullets and squeeze runs of spaces."""
    bullet = _BULLET.match(line)
    if bullet and not line.lstrip().startswith("**"):
        depth = max(len(bullet.group(1)) // 2 - 1, 0)
        line = "  " * depth + "- " + line[bullet.end() :]
    else:
        numbered = _NUMBERED.match(line)
        if numbered:
            depth = max(len(numbered.group(1)) // 2 - 1, 0)
            line = "  " * depth + f"{numbered.group(2)}. " + line[numbered.end() :]
        else:
            line = line.strip()
    indent = line[: len(line) - len(line.lstrip())]
    return indent + re.sub(r"[ ]{2,}", " ", line.strip())


def _drop_repeated_lines(lines: list[str]) -> list[str]:
    """Drop a line that repeats the previous non-blank line (captions and titles printed twice)."""
    out: list[str] = []
    previous = ""
    for line in lines:
        key = line.strip()
        if key and key == previous and not key.startswith("|"):
            continue
        if key:
            previous = key
        out.append(line)
    return out


def _is_heading_candidate(line: str) -> bool:
    stripped = line.strip()
    if not stripped or stripped != line or stripped.startswith(("-", "#", "|", ">")):
        return False
    if _NUMBERED.match(stripped) or _SENTENCE_END.search(stripped):
        return False
    words = stripped.split()
    return (
        len(words) <= 12 and len(stripped) <= 90 and (stripped[0].isupper() or stripped[0] == "$")
    )


def _mark_headings(lines: list[str]) -> list[str]:
    """Make short standalone title lines into headings: the first '#', the rest '##'."""
    out: list[str] = []
    seen_heading = False
    seen_body = False
    for i, line in enumerate(lines):
        nxt = next((candidate for candidate in lines[i + 1 :] if candidate.strip()), "")
        is_title = not (seen_heading or seen_body)
        if (
            _is_heading_candidate(line)
            and nxt
            and (
                is_title
                or len(nxt.strip()) > len(line.strip())
                or nxt.lstrip().startswith(("-", "#"))
            )
        ):
            level = "##" if seen_heading or seen_body else "#"
            seen_heading = True
            if out and out[-1].strip():
                out.append("")
            out.extend([f"{level} {line.strip()}", ""])
            continue
        if line.strip():
            seen_body = True
        out.append(line)
    return out


def _collapse_blank_lines(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"
