"""NUL bytes in a text file: UTF-16 without a byte-order mark is read, anything else is binary."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.decoding import decode_text
from lodestar.core.errors import DocumentError


@pytest.mark.parametrize(
    "raw",
    [
        b"text\x00\x89junk",  # read as UTF-16 it is "整瑸褀番歮": CJK made of ASCII pairs
        b"text\x00",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",  # a zip header
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    ],
)
def test_bytes_with_stray_nuls_are_refused_as_binary(raw: bytes) -> None:
    with pytest.raises(DocumentError, match="NUL bytes"):
        decode_text(raw)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_is_read_even_with_many_nul_low_bytes(encoding: str) -> None:
    """U+3000 (ideographic space) and U+4E00 have a NUL low byte; a line end explains them."""
    text = "\u3000一日一回、一人で一つの作業をします。\n\u3000一週間で一度、チームと話します。\n"
    raw = text.encode(encoding)
    assert raw.count(0) > 2 * text.count("\n")
    assert decode_text(raw) == (text, encoding)


def test_utf16_english_without_a_mark_is_read() -> None:
    text = "Café notes: the review happens every quarter.\n"
    assert decode_text(text.encode("utf-16-le")) == (text, "utf-16-le")


@settings(max_examples=2000, deadline=None)
@given(noise=st.binary(max_size=64))
def test_text_then_a_nul_then_any_bytes_is_never_read_as_utf16(noise: bytes) -> None:
    """The ingest fuzz test's "bad" text file: it must be refused whatever follows the NUL."""
    with pytest.raises(DocumentError):
        decode_text(b"text\x00" + noise)
