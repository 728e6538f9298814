"""How a decoded text reads to a person: the characters a reader would stumble on.

A legacy file read with the wrong code page still decodes, only into other characters: the
bytes of "naïve" in Windows-1252 are "naļve" in Windows-1257, "naďve" in Windows-1250 and
"na遝e" in GBK. Every such reading shares the file's ASCII, so only the characters beyond ASCII
are judged. A reader stumbles on
- a word that mixes scripts ("Cafй", "teamХs") or holds a letter of no script ("dˆj");
- a word whose case flips inside it ("teamÕs", "BŸro"), or a letter glued to a digit ("Û200");
- a Greek word with a final sigma inside it or without one at its end, a Cyrillic or Greek word
  without a vowel;
- a short run of another script amid Latin text ("Don稚", "12 ﾛ a day"), Chinese or Japanese
  words with spaces between them;
- a symbol wedged in or glued to a word ("zespo³u", "Est‡", "⌠quiet"), an apostrophe that
  elides nothing ("env’e"), box drawing, a control character, an accent with no letter under it;
- letters outside the alphabet of the text's language (languages.py: told by its plain ASCII
  words, else the one that explains most of its letters), and one-letter words that are no
  word in it (Portuguese "à" is one, "á" is not).
Counting these tells Western, Central European, Baltic, Cyrillic, Greek and East Asian readings
of the same bytes apart; `language_fit` and `known_words` break what ties remain. Which reading
wins is decoding.py's decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from ingest import languages

_ALPHABETIC = ("latin", "cyrillic", "greek")
_EAST_ASIAN = {"cjk", "hiragana", "hangul", "halfwidth-kana"}
_SCRIPTS = {*_ALPHABETIC, *_EAST_ASIAN, "hebrew", "arabic", "thai"}
# Scripts whose letters make one run of text together (kanji, kana, hangul).
_KIN = {
    "cjk": {"cjk", "hiragana", "hangul"},
    "hiragana": {"cjk", "hiragana"},
    "hangul": {"hangul", "cjk"},
}
# Words as runs of letters; ordinal indicators and the micro sign act as symbols.
_WORD = re.compile(r"[^\W\d_ªºµ]+")
_WORD_END = re.compile(r"[^\W\d_ªºµ]+$")
_DIGITS = "0123456789"
_SPACED_EAST_ASIAN = re.compile(
    r"(?<=[\u3040-\u30ff\u4e00-\u9fff]) (?=[\u3040-\u30ff\u4e00-\u9fff])"
)
_APOSTROPHES = "’‘ʼ´"
_HYPHENS = "-‐‑"
_DASHES = "–—"
_GLUED_OK = "®™©°´"  # symbols that may touch a word ("Lodestar™", "5°C")
_GLUED_ODD = "†‡‰"  # punctuation that does not ("Est‡" is Mac Roman "Está" read as Windows)
_DIRECTION_MARKS = "\u200e\u200f"
_CONTROL = ("Cc", "Cn", "Co", "Cs")
# What an apostrophe inside a word joins: an English ending ("team’s") or an elided word
# before a vowel or h ("l’équipe", "dell’anno").
_CLITICS = frozenset({"s", "t", "re", "ve", "ll", "d", "m"})
_ELIDED = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
    | {"presqu", "quelqu", "dell", "all", "nell", "sull", "dall", "coll", "un", "quell", "o"}
)


@dataclass(frozen=True)
class _Words:
    """A text's words: the odd ones' characters counted, the rest's letters sorted by script."""

    odd: int
    spelled: dict[str, Counter[str]]  # letters beyond ASCII of well-formed words, by script
    alone: dict[str, Counter[str]]  # one-letter words beyond ASCII, by script
    plain: list[str]  # the ASCII words, lower case


def stumbles(text: str) -> int:
    """How many of the text's characters beyond ASCII a reader would stumble on (0: none)."""
    words = _words(text)
    misspelled = sum(
        _outside_alphabet(words.spelled[script], words.alone[script], languages.of_script(script))
        for script in _ALPHABETIC
        if words.spelled[script]
    )
    symbols = sum(1 for index, char in enumerate(text) if _odd_symbol(text, index, char))
    return words.odd + misspelled + _stray_letters(text) + symbols


def misfit(text: str) -> int:
    """Letters beyond ASCII that the language told by the text's plain words cannot spell.

    "naďve" and "déjŕ" are good Slovak letters, but not in a note whose other words are "the",
    "and" and "every". 0 when the plain words tell no language.
    """
    words = _words(text)
    total = 0
    for script in _ALPHABETIC:
        told = languages.told_by(words.plain, script)
        if told and words.spelled[script]:
            total += _outside_alphabet(words.spelled[script], words.alone[script], told)
    return total


def known_words(text: str) -> int:
    """How many words of the text are common words of a language (languages.py)."""
    return languages.known_words([word.lower() for _, word in _letter_words(text)])


def language_fit(text: str) -> float:
    """How well the text fits a language, 0 to 1: the better of charset-normalizer's coherence
    and, for Japanese, the share of (full-width) kana among its East Asian letters (a Chinese
    reading of Japanese bytes has none)."""
    from charset_normalizer.cd import coherence_ratio

    coherence = max((ratio for _, ratio in coherence_ratio(text)), default=0.0)
    east_asian = [char for char in text if _script(char) in _EAST_ASIAN]
    kana = sum(1 for char in east_asian if "\u3040" <= char <= "\u30ff")
    return max(coherence, kana / len(east_asian) if east_asian else 0.0)


def _words(text: str) -> _Words:
    odd = 0
    spelled: dict[str, Counter[str]] = {script: Counter() for script in _ALPHABETIC}
    alone: dict[str, Counter[str]] = {script: Counter() for script in _ALPHABETIC}
    plain: list[str] = []
    for start, word in _letter_words(text):
        if word.isascii():
            plain.append(word.lower())
            continue
        beyond = [char for char in word if not char.isascii()]
        scripts = _word_scripts(word)
        script = next(iter(scripts)) if len(scripts) == 1 else "mixed"
        if script not in _SCRIPTS or _odd_shape(text, start, word, script):
            odd += len(beyond)
        elif script in _ALPHABETIC:
            spelled[script].update(_lower(char) for char in beyond)
            if len(word) == 1:
                alone[script][_lower(word)] += 1
    return _Words(odd, spelled, alone, plain)


def _letter_words(text: str) -> Iterator[tuple[int, str]]:
    """(start, word) for each run of letters; numbers such as "①" or "½" end a word."""
    for match in _WORD.finditer(text):
        if match.group().isalpha():
            yield match.start(), match.group()
            continue
        run = ""
        for index in range(match.start(), match.end() + 1):
            char = text[index] if index < match.end() else " "
            if char.isalpha():
                run += char
            elif run:
                yield index - len(run), run
                run = ""


def _word_scripts(word: str) -> set[str]:
    scripts = {_script(char) for char in word}
    if scripts & _EAST_ASIAN:
        # Japanese and Chinese glue Latin acronyms to their words ("APIキー", "PCを"); old
        # Japanese text writes katakana half-width beside kana ("ｶﾀｶﾅのﾃｷｽﾄ"), but not beside
        # kanji, which is how Chinese bytes read as Shift-JIS look.
        scripts.discard("latin")
        halfwidth_by_kanji = any(
            {_script(a), _script(b)} == {"halfwidth-kana", "cjk"} for a, b in pairwise(word)
        )
        if scripts <= _EAST_ASIAN and not halfwidth_by_kanji:
            return {"cjk"} if scripts - {"halfwidth-kana"} else scripts
    return scripts


def _odd_shape(text: str, start: int, word: str, script: str) -> bool:
    """True for a word whose case flips, touches a digit, or that its script cannot spell."""
    end = start + len(word)
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if script not in _EAST_ASIAN and (before in _DIGITS or after in _DIGITS):
        return True  # "Û200"; Chinese and Japanese counters follow digits ("2024年")
    if script not in _ALPHABETIC:
        return False
    for index in range(1, len(word)):
        char, following = word[index], word[index + 1 : index + 2]
        if char.isupper() and word[index - 1].islower():
            return True  # "teamÕs"
        if char.isupper() and not char.isascii() and following.islower():
            return True  # "BŸro", "IÕll": a capital beyond ASCII inside a lower-case word
    lower = word.lower()
    if script == "greek" and ("ς" in lower[:-1] or (len(lower) > 1 and lower[-1] == "σ")):
        return True
    return (
        script in languages.VOWELS
        and len(word) >= 4
        and not (set(lower) & languages.VOWELS[script])
    )


def _outside_alphabet(
    letters: Counter[str], alone: Counter[str], candidates: list[languages.Language]
) -> int:
    """Letters and one-letter words that the candidate language fitting them best lacks."""
    return min(
        sum(n for letter, n in letters.items() if letter not in language.letters)
        + sum(n for word, n in alone.items() if word not in language.one_letter_words)
        for language in candidates
    )


def _stray_letters(text: str) -> int:
    """Letters of a non-alphabetic script straying into other text; Chinese words spaced out.

    Mojibake scatters one or two Chinese, Japanese, Arabic or Hebrew characters, or a Cyrillic
    or Greek capital, through Latin text ("Don稚", "12 ﾛ a day", "costs غ350", "12 А a day");
    real text writes them in runs, and hiragana
    particles after a Latin word ("PCを") and counters after digits ("2024年") are short by
    nature. Chinese and Japanese put no spaces between words.
    """
    letters = [(index, _script(char)) for index, char in enumerate(text) if char.isalpha()]
    count = 0
    start = 0
    while start < len(letters):
        family = letters[start][1]
        kin = _KIN.get(family, {family})
        end = start + 1
        while (
            end < len(letters)
            and letters[end][1] in kin
            and letters[end][0] == letters[end - 1][0] + 1
        ):
            end += 1
        run = range(start, end)
        start, first, last = end, letters[run.start][0], letters[run.stop - 1][0]
        if len(run) > 2 or all(letters[i][1] == "hiragana" for i in run):
            continue
        if family in _ALPHABETIC and (family == "latin" or len(run) > 1 or text[first].islower()):
            continue  # only a lone capital ("12 А a day"): "Windows и Linux" is good Russian
        neighbours = {letters[i][1] for i in (run.start - 1, run.stop) if 0 <= i < len(letters)}
        if not neighbours or neighbours & kin:
            continue
        beside = text[first - 1 : first] + text[last + 1 : last + 2]
        if family in ("cjk", "hiragana") and any(char in _DIGITS for char in beside):
            continue
        count += len(run)
    return count + len(_SPACED_EAST_ASIAN.findall(text))


def _odd_symbol(text: str, index: int, char: str) -> bool:
    """True for a control character, box drawing, a stray mark, or a symbol stuck to a word."""
    if char.isascii() or (char.isalpha() and char not in "ªºµ"):
        return False
    category = unicodedata.category(char)
    before = text[index - 1] if index else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    glued = _script(before) in _ALPHABETIC or _script(after) in _ALPHABETIC
    tag = unicodedata.name(char, "").split(" ", 1)[0].lower()
    if char in _DIRECTION_MARKS:
        return glued
    if char not in "\t\n\r\f\v" and category in _CONTROL:
        return True
    if "\u2500" <= char <= "\u259f" or char == "¤":
        return True  # box drawing, and the currency placeholder no one types
    if char == "\u00ad":  # a soft hyphen marks where a word may break
        return not (before.isalpha() and after.isalpha())
    if _is_symbol(char) and (_is_symbol(before) or _is_symbol(after)):
        return True  # "‘®¢¥": symbols run together
    if category.startswith("M"):
        # An accent or vowel sign needs a letter (of its own script) before it.
        return not before.isalpha() or (tag in _SCRIPTS and tag != _script(before))
    if tag in _SCRIPTS and any(_script(side) not in (tag, "none") for side in (before, after)):
        return True
    if char in _GLUED_ODD or (category in ("Sm", "So", "Sk", "Sc") and char not in _GLUED_OK):
        return glued
    if char in "¿¡":  # Spanish opens a question or exclamation with them
        return not (before.isspace() or before in "([{«\"'“‘—–")
    if char == "·":  # the Catalan "l·l", or a separator between spaces
        return glued and (before + after).lower() != "ll"
    if char.isspace() or char in _HYPHENS:
        return False
    if char in _DASHES and before.isspace() and _script(after) in _ALPHABETIC:
        return True  # "—рещата": a dash opens a phrase with a space after it
    if not (_script(before) in _ALPHABETIC and _script(after) in _ALPHABETIC):
        return False
    if char in _APOSTROPHES:
        return not _joins_words(text, index)
    if char in _DASHES:
        # "the team—all of them": an em dash may join words, but not cut one ("canci—n")
        head, tail = _word_around(text, index)
        short = min(len(head), len(tail)) < 2
        return short or (char == "–" and before.islower() and after.islower())
    return True


def _is_symbol(char: str) -> bool:
    """A Western sign beyond ASCII that is neither letter nor punctuation ("®", "¥", "½", "√").

    East Asian text strings its own signs together ("①～③"), so those are left out.
    """
    return "\u00a0" <= char < "\u2400" and unicodedata.category(char) in (
        "Sm",
        "Sc",
        "Sk",
        "So",
        "No",
    )


def _joins_words(text: str, index: int) -> bool:
    """True when the apostrophe at `index` ends an elided word or starts an English ending."""
    head, tail = _word_around(text, index)
    if tail.lower() in _CLITICS:
        return True
    return head.lower() in _ELIDED and tail[:1].lower() in "aeiouhyàâéèêîôû"


def _word_around(text: str, index: int) -> tuple[str, str]:
    """The letters just before and just after `index` (up to a word's length each)."""
    head = _WORD_END.search(text, max(0, index - 40), index)
    tail = _WORD.match(text, index + 1, index + 41)
    return (head.group() if head else "", tail.group() if tail else "")


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The writing system of a letter, by its Unicode name ("latin", "cyrillic", "cjk" ...)."""
    if not char.isalpha():
        return "none"
    if "\u3040" <= char <= "\u309f":
        return "hiragana"
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC", "FULLWIDTH"):
        return "cjk"
    if first == "HALFWIDTH":
        return "halfwidth-kana" if "KATAKANA" in name else "cjk"
    return first.lower()


def _lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char
