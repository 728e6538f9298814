"""Bytes to text: a byte-order mark or UTF-8 first, else the reading a person would choose.

Teams keep notes saved by old editors: Windows-1252 or Latin-1, Mac Roman, Central European,
Baltic, Cyrillic, Greek, Shift-JIS, UTF-16 from Notepad or without a byte-order mark (told by
where its NULs fall, beside line ends and spaces). A file that is none of UTF-8/16/32 is decoded
in every code page below, and since each decodes most bytes to something, each reading is judged as text: the fewest
characters a reader stumbles on win (plausibility.py), ties go to the reading the language of
its plain words spells, then to the one with more common words, then to Windows-1252 (or
Windows-1251) when the other readings could be written in it too, then to one that fits a
language clearly better. Two readings still equally plausible are different text that cannot be
told apart: the file is refused rather than indexed as mojibake, as are bytes that no code page
turns into text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from ingest.plausibility import known_words, language_fit, misfit, stumbles
from lodestar.core.errors import DocumentError

UTF8 = "utf-8"
# Windows' own code pages for Western and Cyrillic text, preferred on ties within their script.
PREFERRED_LEGACY = ("cp1252", "cp1251")
# The code pages people's tools write, in order of preference among identical readings; the
# names in one group are tried in turn (Windows' cp932 reads what strict Shift-JIS cannot).
LEGACY_ENCODINGS: tuple[tuple[str, ...], ...] = (
    ("cp1252",),
    ("iso8859_15",),
    ("mac_roman",),
    ("cp1250",),
    ("iso8859_2",),
    ("cp1257",),
    ("cp1254",),
    ("cp1251",),
    ("koi8_r",),
    ("koi8_u",),
    ("mac_cyrillic",),
    ("cp866",),
    ("cp1253",),
    ("cp1255",),
    ("cp1256",),
    ("shift_jis", "cp932"),
    ("euc_jp",),
    ("gbk",),
    ("big5",),
    ("euc_kr",),
)
MAX_CONTROL_SHARE = 0.01  # control or unassigned characters allowed in decoded text
MAX_STUMBLE_SHARE = 0.5  # of the characters beyond ASCII, at most this many may be odd
CLEAR_FIT = 0.1  # a tie is broken by language fit only by at least this much
EXCERPT = 64 * 1024  # bytes (or characters) of a long file judged: its start, then its lines
# beyond ASCII
_WESTERN = {"cp1252", "iso8859_15", "mac_roman"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_LINE_BEYOND_ASCII = re.compile(rb"(?m)^[^\n]*[\x80-\xff][^\n]*\n?")


@dataclass(frozen=True)
class Reading:
    """One way to decode the bytes: the judged text, the code pages giving it, its oddities."""

    text: str
    encodings: tuple[str, ...]
    stumbles: int


def decode_text(raw: bytes) -> tuple[str, str]:
    """The text in `raw` and the encoding it was read with; DocumentError if undecidable."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _declared(raw, encoding)
    if b"\x00" in raw[:EXCERPT]:
        return _utf16_by_nul_pattern(raw)
    # A UTF-8 mark before bytes that are not UTF-8 is a tool's slip: the rest is judged alone.
    body = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode(UTF8), UTF8
    except UnicodeDecodeError as exc:
        position = exc.start
    excerpt = _excerpt(body)
    best, rivals = choose_reading(legacy_readings(excerpt, whole=body))
    if best is None:
        detail = (
            f"could be {' or '.join(reading.encodings[0] for reading in rivals[:3])}"
            if rivals
            else "no encoding reads it as text"
        )
        offset = position + len(raw) - len(body)
        raise DocumentError(
            f"not valid UTF-8 (byte 0x{body[position]:02x} at offset {offset}) and its "
            f"encoding cannot be told: {detail}",
            hint="re-save the file as UTF-8",
        )
    encoding = best.encodings[0]
    return (best.text if excerpt is body else body.decode(encoding)), encoding


def legacy_readings(excerpt: bytes, whole: bytes | None = None) -> list[Reading]:
    """Each distinct text the legacy code pages make of `excerpt` that reads as text, judged.

    A code page counts only if it decodes all of `whole` (the file the excerpt is from).
    """
    texts: dict[str, list[str]] = {}
    for group in LEGACY_ENCODINGS:
        for encoding in group:
            try:
                text = excerpt.decode(encoding)
                if whole is not None and whole is not excerpt:
                    whole.decode(encoding)
            except UnicodeDecodeError:
                continue
            if looks_like_text(text):
                texts.setdefault(text, []).append(encoding)
            break
    return [Reading(text, tuple(names), stumbles(text)) for text, names in texts.items()]


def choose_reading(readings: list[Reading]) -> tuple[Reading | None, list[Reading]]:
    """The reading a person would take, else None and the equally plausible rivals.

    The fewest stumbles win. Among tied readings: the one whose letters the language of the
    plain words spells ("déjà" over "déjŕ" in English text), then the one with the most common
    words of a language ("się" over "siź"). Still tied, Windows-1252 wins when every other one
    is Western text too (could be written in Windows-1252: the same bytes read on a Mac), and
    likewise Windows-1251 among Cyrillic readings; otherwise a reading must fit a language
    clearly better than the rest (`language_fit`), or there is no choice.
    """
    tied = [
        reading
        for reading in readings
        if _few_stumbles(reading.text, reading.stumbles) and _own_script(reading)
    ]
    for measure in (_stumbles, _misfit, _unknown_words):
        scores = [measure(reading) for reading in tied]
        tied = [
            reading for reading, score in zip(tied, scores, strict=True) if score == min(scores)
        ]
    if len(tied) <= 1:
        return (tied[0] if tied else None), []
    for code_page in PREFERRED_LEGACY:
        preferred = [reading for reading in tied if code_page in reading.encodings]
        if preferred and all(_fits(reading.text, code_page) for reading in tied):
            return preferred[0], []
    best = _most_coherent(tied)
    return best, [] if best is not None else tied


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


def _excerpt(raw: bytes) -> bytes:
    """`raw` if short; else its start and then its lines beyond ASCII, EXCERPT bytes of each.

    Cuts fall after a space or line end, which no legacy encoding uses inside a character.
    """
    if len(raw) <= 2 * EXCERPT:
        return raw
    cut = max(raw.rfind(b" ", 0, EXCERPT), raw.rfind(b"\n", 0, EXCERPT)) + 1 or EXCERPT
    parts, size = [raw[:cut]], 0
    for match in _LINE_BEYOND_ASCII.finditer(raw, cut):
        parts.append(match.group())
        size += len(match.group())
        if size >= EXCERPT:
            break
    return b"".join(parts)


def _declared(raw: bytes, encoding: str) -> tuple[str, str]:
    """The text behind a UTF-16/32 mark; a file the mark does not fit is broken, not legacy."""
    try:
        text = raw.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        text = ""
    if not looks_like_text(text[:EXCERPT]) or _bytes_paired_as_utf16(text[:EXCERPT]):
        name = encoding.upper()
        raise DocumentError(f"starts with a {name} byte-order mark but is not {name} text")
    return text, encoding


def _utf16_by_nul_pattern(raw: bytes) -> tuple[str, str]:
    """UTF-16 without a byte-order mark, told by its NULs; else the NULs mean binary data.

    In UTF-16 every character of the first 256 (ASCII's space, digits, line ends ...) has a NUL
    high byte, so most NULs fall on odd offsets in little-endian text and on even ones in
    big-endian text.
    """
    sample = raw[:EXCERPT]
    high_byte_odd = sample[1::2].count(0) >= sample[0::2].count(0)
    orders = ("utf-16-le", "utf-16-be") if high_byte_odd else ("utf-16-be", "utf-16-le")
    for encoding in orders if len(raw) % 2 == 0 else ():
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        judged = text[:EXCERPT]
        if (
            _nuls_from_low_characters(judged, sample.count(0))
            and any(char.isspace() for char in judged)
            and looks_like_text(judged)
            and stumbles(judged) == 0
            and _east_asian_letters_of_one_code_page(judged)
        ):
            return text, encoding
    raise DocumentError("binary content in a text file (NUL bytes); is the extension right?")


# The national code pages whose repertoire is the characters a language writes every day.
_EAST_ASIAN_REPERTOIRES = ("cp932", "gb2312", "big5", "cp949")


def _east_asian_letters_of_one_code_page(text: str) -> bool:
    """True when the text's kanji, kana and hangul are all in one national code page.

    UTF-16 read from bytes that are not UTF-16 gives characters from anywhere in the 20,000
    ideographs and 11,000 hangul syllables ("瑥硴\\t犣䭦"); a Japanese, Chinese or Korean note
    keeps to the few thousand its writers' code page holds.
    """
    letters = {char for char in text if ord(char) >= 0x2E80 and char.isalpha()}
    if not letters:
        return True
    return any(_encodable(letters, code_page) for code_page in _EAST_ASIAN_REPERTOIRES)


def _encodable(letters: set[str], code_page: str) -> bool:
    try:
        "".join(letters).encode(code_page)
    except UnicodeEncodeError:
        return False
    return True


def _nuls_from_low_characters(text: str, nuls: int) -> bool:
    """True when the NUL bytes are mostly where UTF-16 text has them.

    That is the high byte of a character below U+0100 (a line end, a space, a digit), or the low
    byte of the two common characters U+3000 (the ideographic space) and U+4E00 ("一"). Any other
    character with a NUL low byte is one CJK character in 256, so one explained NUL may stand
    beside up to three such. 8-bit text with a stray NUL ("text\\0junk", read as "整瑸褀番歮")
    explains none of its NULs.
    """
    explained = sum(1 for char in text if ord(char) < 0x100 or char in "\u3000\u4e00")
    return 4 * explained >= nuls


def _bytes_paired_as_utf16(text: str) -> bool:
    """True for 8-bit text behind a UTF-16 mark: no character below U+0100 (not even a space
    or a line end), most of them two printable ASCII bytes ("broken" reads "牢歫湥")."""
    if not text or any(ord(char) < 0x100 for char in text):
        return False
    paired = sum(1 for char in text if all(0x20 <= byte < 0x7F for byte in divmod(ord(char), 256)))
    return paired >= 0.8 * len(text)


def _few_stumbles(text: str, count: int) -> bool:
    """At most MAX_STUMBLE_SHARE of the characters beyond ASCII are ones a reader trips on."""
    beyond = sum(1 for char in text if not char.isascii())
    return count <= MAX_STUMBLE_SHARE * max(beyond, 1)


def _own_script(reading: Reading) -> bool:
    """False for a reading only a non-Western code page gives that has no letters beyond ASCII.

    A Cyrillic, Greek, Hebrew, Arabic or East Asian code page is picked to write that script:
    its reading of a file whose only characters beyond ASCII are symbols ("5% √ mostly") is
    not what the file's author wrote.
    """
    if _WESTERN & set(reading.encodings):
        return True
    return any(char.isalpha() and not char.isascii() for char in reading.text)


def _stumbles(reading: Reading) -> int:
    return reading.stumbles


def _misfit(reading: Reading) -> int:
    return misfit(reading.text)


def _unknown_words(reading: Reading) -> int:
    return -known_words(reading.text)


def _fits(text: str, code_page: str) -> bool:
    """True when `text` could have been written in `code_page` (a same-script reading)."""
    try:
        text.encode(code_page)
    except UnicodeEncodeError:
        return False
    return True


def _most_coherent(tied: list[Reading]) -> Reading | None:
    """The tied reading that fits a language clearly better than the others, if one does."""
    fits = sorted(
        ((language_fit(reading.text), rank) for rank, reading in enumerate(tied)), reverse=True
    )
    (best_fit, best), (next_fit, _) = fits[0], fits[1]
    return tied[best] if best_fit - next_fit >= CLEAR_FIT else None
