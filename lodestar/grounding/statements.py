"""An answer cut into the statements the verifier checks, each with the passages it cites.

An answer's lines are read one by one; a markdown table is read cell by cell: its header row and
the rule under it hold no statement, and in a table whose header leaves the corner cell empty
(`| | Practice Leader | ML Engineering Manager |`) the first column names the rows. A cell that
says NOT_DESCRIBED (what the comparison table writes where a role's documents are silent) is no
claim either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lodestar.core.refusal import NOT_A_CLAIM
from lodestar.core.text import CITATION, CLAIM_START, cited_numbers, split_sentences

# A list marker at the start of a line ("- ", "* ", "• ", "1. ", "2) ").
BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
MIN_CLAIM_WORDS = 4
# Markdown emphasis and code marks, and enumeration labels ("**Question 2**:", "Step 3."): layout,
# not claims, so the guard must not read "Compare" in "**Compare …**" as a name or "2" as a figure.
_EMPHASIS = re.compile(r"(\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w))")
_LABEL = re.compile(
    r"^(?:question|step|tip|point|option|idea|area|priority)\s*\d+\s*[:.)-]\s*", re.IGNORECASE
)
# A table cell's word for "the documents say nothing about this": not a claim, nothing to cite.
NOT_DESCRIBED = "not described"
# "| a | b |", split at pipes not escaped ("\|" is a pipe inside a cell); "|---|:---:|" under a
# header.
_TABLE_ROW = re.compile(r"^\s*\|(?P<cells>.*)\|\s*$")
_CELL_BORDER = re.compile(r"(?<!\\)\|")
_TABLE_RULE_CELL = re.compile(r":?-{3,}:?")


@dataclass
class Statement:
    """One sentence of an answer and the passages it cites (1-based)."""

    text: str
    cites: list[int] = field(default_factory=list)
    line: int = 0  # the answer line it came from, to put a checked answer back together
    written: str = ""  # the sentence as written, citations where the model put them


def split_statements(answer: str, min_words: int = MIN_CLAIM_WORDS) -> list[Statement]:
    """The answer's checkable sentences, citations lifted out; intros, refusals and fragments
    (fewer than `min_words` words) dropped. The same answer always gives the same statements."""
    statements: list[Statement] = []
    for number, piece in _claim_pieces(answer):
        statements.extend(_piece_statements(piece, number, min_words))
    return statements


def table_cells(line: str) -> list[str] | None:
    """The cells of a markdown table row ("| a | b |": a, b), or None for any other line."""
    found = _TABLE_ROW.match(line)
    if found is None:
        return None
    return [cell.strip() for cell in _CELL_BORDER.split(found["cells"])]


def has_table(answer: str) -> bool:
    """Whether the answer holds a markdown table (a header row with the rule under it)."""
    lines = answer.splitlines()
    return any(_is_header(lines, n) for n in range(len(lines)))


def _is_rule(cells: list[str]) -> bool:
    return all(_TABLE_RULE_CELL.fullmatch(cell) for cell in cells)


def _is_header(lines: list[str], number: int) -> bool:
    cells = table_cells(lines[number])
    below = table_cells(lines[number + 1]) if number + 1 < len(lines) else None
    return cells is not None and below is not None and not _is_rule(cells) and _is_rule(below)


def _claim_pieces(answer: str) -> Iterator[tuple[int, str]]:
    """What may hold claims, with the line it is on: each line without its bullet, and each
    cell of a table's body row but the row's label and NOT_DESCRIBED."""
    lines = answer.splitlines()
    labelled = False  # the table being read names its rows in its first column
    for number, raw in enumerate(lines):
        cells = table_cells(raw)
        if cells is None:
            yield number, BULLET.sub("", raw).strip()
        elif _is_header(lines, number):
            labelled = cells[0] == ""
        elif not _is_rule(cells):
            claims = cells[1:] if labelled else cells
            yield from ((number, cell) for cell in claims if cell and cell != NOT_DESCRIBED)


def _piece_statements(piece: str, number: int, min_words: int) -> list[Statement]:
    """The statements of one line (or table cell); its closing citation covers them all."""
    if not piece or piece.endswith(":"):
        return []
    in_line: list[Statement] = []
    piece = _LABEL.sub("", _EMPHASIS.sub("", piece)).strip()
    for sentence in split_sentences(piece, next_start=CLAIM_START):
        cites = cited_numbers(sentence)
        text = re.sub(r"\s+([.,;:])", r"\1", CITATION.sub("", sentence)).strip()
        if not re.search(r"[A-Za-z0-9]", text):
            # "… teams. [2]": the citation belongs to the sentence before
            if in_line and cites:
                in_line[-1].cites.extend(c for c in cites if c not in in_line[-1].cites)
            continue
        if len(text.split()) < min_words or NOT_A_CLAIM.search(text):
            continue
        written = re.sub(r"\s+([.,;:])", r"\1", sentence).strip()
        in_line.append(
            Statement(text=text, cites=list(dict.fromkeys(cites)), line=number, written=written)
        )
    # Our answers are bullets that end with their citation: it covers the bullet's sentences.
    closing = in_line[-1].cites if in_line else []
    for statement in in_line:
        statement.cites = statement.cites or list(closing)
    return in_line
