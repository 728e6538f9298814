"""Bytes to text: UTF-8 first, then an encoding detected with confidence, else a clear refusal.

Teams keep notes saved by old editors (Windows-1252, Latin-1, UTF-16 from Notepad). Such a file is
read in the encoding charset-normalizer detects, provided the decoded text reads as text (little
"mess" and almost no control characters); bytes that no encoding turns into text are rejected.
"""

from __future__ import annotations

import codecs
import unicodedata

from lodestar.core.errors import DocumentError

UTF8 = "utf-8"
MAX_MESS = 0.10  # charset-normalizer's mess ratio above which a decoding is not trusted
MAX_CONTROL_SHARE = 0.01  # control or unassigned characters allowed in decoded text
TIE_MESS = 0.02  # candidates this close in mess ratio ...
TIE_COHERENCE = 0.05  # ... and in language coherence are equally good readings
PREFERRED_LEGACY = "cp1252"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_text(raw: bytes) -> tuple[str, str]:
    """The text in `raw` and the encoding it was read with; DocumentError if undecidable."""
    if raw.startswith(_UTF16_BOMS):
        # A byte-order mark declares UTF-16; a file it does not fit is broken, not legacy text.
        text, encoding, _ = _detect(raw)
        if encoding is None or not encoding.startswith("utf_16"):
            raise DocumentError("starts with a UTF-16 byte-order mark but is not UTF-16 text")
        return text.lstrip("\ufeff"), "utf-16"
    if b"\x00" in raw[:8192]:
        raise DocumentError("binary content in a text file (NUL bytes); is the extension right?")
    try:
        return raw.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as exc:
        position = exc.start
    text, encoding, rivals = _detect(raw)
    if encoding is None:
        detail = f"could be {' or '.join(rivals)}" if rivals else "no encoding reads it as text"
        raise DocumentError(
            f"not valid UTF-8 (byte 0x{raw[position]:02x} at offset {position}) and its "
            f"encoding cannot be told: {detail}",
            hint="re-save the file as UTF-8",
        )
    return text, encoding


def _detect(raw: bytes) -> tuple[str, str | None, list[str]]:
    """Text and encoding when one reading of the bytes is clearly best; else the rival names.

    charset-normalizer ranks candidate encodings by "mess" and by how well the text fits a
    language. On short Western text several single-byte encodings tie (Windows-1252, -1250,
    CP775 ...) and its first choice is then arbitrary. Tied candidates that read the bytes as
    the same text agree; among ones that disagree, Windows-1252 (Windows' default for Western
    European languages, which Latin-1 files also decode in) is taken when it is one of them.
    Otherwise the file is ambiguous and refused rather than indexed as mojibake.
    """
    from charset_normalizer import from_bytes

    candidates = [
        match
        for match in from_bytes(raw)
        if match.chaos <= MAX_MESS and looks_like_text(str(match))
    ]
    if not candidates:
        return "", None, []
    top = candidates[0]
    tied = [
        match
        for match in candidates
        if match.chaos <= top.chaos + TIE_MESS and match.coherence >= top.coherence - TIE_COHERENCE
    ]
    readings: dict[str, list[str]] = {}
    for match in tied:
        readings.setdefault(str(match), []).extend(match.could_be_from_charset)
    for text, encodings in readings.items():
        if len(readings) == 1 or PREFERRED_LEGACY in encodings:
            return text, PREFERRED_LEGACY if PREFERRED_LEGACY in encodings else encodings[0], []
    return "", None, [encodings[0] for encodings in readings.values()][:3]


def looks_like_text(text: str) -> bool:
    """True when nearly every character is printable text or ordinary whitespace."""
    if not text:
        return False
    odd = sum(
        1
        for char in text
        if char not in "\n\r\t\f" and unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs")
    )
    return odd / len(text) <= MAX_CONTROL_SHARE
