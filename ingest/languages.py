"""The languages legacy text files are written in: their alphabets and most common words.

plausibility.py judges a decoded text by these: which letters beyond ASCII a language spells
with (French has "é", "ï" and "à"; Lithuanian "ą", "į" and "ė"), which of them stand alone as
words (Portuguese "à", Lithuanian "į"), and a few dozen of its commonest words, by which the
plain ASCII words of a text tell its language ("the", "and" → English; "est", "pour" → French).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """A written language as far as telling readings of its bytes apart goes."""

    name: str
    script: str  # "latin", "cyrillic" or "greek"
    letters: str  # beyond ASCII, lower case
    one_letter_words: str = ""  # among `letters`
    common_words: frozenset[str] = frozenset()
    # Spells with other languages' letters (English "café", "naïve"): only judged by when its
    # words tell it is the text's language.
    borrows: bool = False


def _language(
    name: str, script: str, letters: str, words: str = "", one: str = "", borrows: bool = False
) -> Language:
    return Language(name, script, letters, one, frozenset(words.split()), borrows)


LANGUAGES: tuple[Language, ...] = (
    # English borrows its accented words from the Western European languages ("à la carte").
    _language(
        "English",
        "latin",
        "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿœ",
        "the and is are for with that this from have has will was were your their which every "
        "be of it not you our can all been would they there what when about "
        "café cafés naïve résumé résumés déjà façade fiancé fiancée cliché entrée crème rôle "
        "élite señor über",
        "à",
        borrows=True,
    ),
    _language(
        "French",
        "latin",
        "àâæçéèêëîïôœùûüÿ",
        "de le la les des est et une du pour dans pas que qui sur avec nous vous aux ce cette sont "
        "mais par plus il elle leur au à où été être déjà très même ça après",
        "à",
    ),
    _language(
        "German",
        "latin",
        "äöüß",
        "der die das und ist nicht mit ein eine den dem zu von auf sich wir sie es auch werden "
        "wird im bitte oder sind bei nach für über müssen können",
    ),
    _language(
        "Spanish",
        "latin",
        "áéíñóúü",
        "el los las del que por con para una es se lo como pero muy en al no hay más está también qué "
        "sí año días así de",
    ),
    _language(
        "Portuguese",
        "latin",
        "áâãàçéêíóôõú",
        "de os as do da dos das em um uma para com no na por se mas ao foi não é à às você já "
        "também está são até há",
        "àé",
    ),
    _language(
        "Italian",
        "latin",
        "àèéìíîòóùú",
        "il gli di che per con non sono del della nel alla è più perché già città",
        "è",
    ),
    _language("Catalan", "latin", "àçèéíïòóúü", "els les amb per és això però també"),
    _language(
        "Dutch", "latin", "áéèëíïóöúü", "de het een en van niet op met voor zijn dat die ook één"
    ),
    _language(
        "Danish/Norwegian",
        "latin",
        "æøåéó",
        "og er det til en et den med for ikke som på af har være også",
        "åø",
    ),
    _language(
        "Swedish",
        "latin",
        "åäöé",
        "och att det som en ett med inte den till av har är för på också",
        "åö",
    ),
    _language("Finnish", "latin", "åäöšž", "ja on ei se että mutta kun ovat myös tai"),
    _language("Icelandic", "latin", "áðéíóúýþæö", "og er ekki en að það við fyrir með", "áí"),
    _language(
        "Polish",
        "latin",
        "ąćęłńóśźż",
        "nie jest na do od za po jak ale czy co tak się że są już też może być będzie także "
        "więc przez dla",
    ),
    _language(
        "Czech",
        "latin",
        "áčďéěíňóřšťúůýž",
        "je se ve na za do pro jsou jak ale to že být není také může už při před přes až jsem byl",
    ),
    _language(
        "Slovak",
        "latin",
        "áäčďéíĺľňóôŕšťúýž",
        "je sa na za do pre ako ale aj to že byť nie tiež môže už pri pred",
    ),
    _language("Hungarian", "latin", "áéíóöőúüű", "az és hogy nem egy is van meg már csak még"),
    _language("Romanian", "latin", "ăâîșțşţ", "de la cu pe nu este care sunt și în pentru mai"),
    _language("Croatian/Slovene", "latin", "čćđšž", "je na za se da od su ne što kao ali sam će"),
    _language(
        "Lithuanian",
        "latin",
        "ąčęėįšųūž",
        "ir kad su ne yra kaip tai bet iki nuo tik į kur dėl šis ši čia jų būti labai",
        "į",
    ),
    _language("Latvian", "latin", "āčēģīķļņšūž", "un ir ar uz no par kas ka bet arī vai tikai"),
    _language("Estonian", "latin", "äöõüšž", "ja on ei et see kui ka või mis oli"),
    _language("Turkish", "latin", "çğıöşüâîûİ", "ve bir bu da de ile için çok ne gibi daha"),
    _language("Albanian", "latin", "çë", "dhe të në një për është nga"),
    _language(
        "Russian",
        "cyrillic",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "не на что это как и в с по для все так но он она они мы вы я из за от же бы уже или",
        "авикосуя",
    ),
    _language(
        "Ukrainian",
        "cyrillic",
        "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
        "не на що це як і в з по для все так але він вона вони ми ви я",
        "авзійоуя",
    ),
    _language("Belarusian", "cyrillic", "абвгдеёжзійклмнопрстуўфхцчшыьэюя", one="азіуў"),
    _language("Bulgarian", "cyrillic", "абвгдежзийклмнопрстуфхцчшщъьюѝя", one="авеиосуя"),
    _language("Serbian", "cyrillic", "абвгдђежзијклљмнњопрстћуфхцчџш", one="аикосу"),
    _language("Macedonian", "cyrillic", "абвгдѓежзѕијклљмнњопрстќуфхцчџш", one="авиос"),
    # "ΰ" and "ΐ" are Greek letters too, but so rare that a text full of them is Cyrillic
    # read as Greek ("ΰ" is where Windows-1251 has "а").
    _language(
        "Greek",
        "greek",
        "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋ",
        "και να το η ο τα του της με για που στο στην είναι δεν θα από οι τον των σε",
        "ηοήωα",
    ),
)
VOWELS = {
    "cyrillic": frozenset("аеёиоуыэюяіїєў"),
    "greek": frozenset("αεηιουωάέήίόύώϊϋΐΰ"),
}


def of_script(script: str) -> list[Language]:
    """The languages written in `script` with letters of their own."""
    return [
        language for language in LANGUAGES if language.script == script and not language.borrows
    ]


def told_by(plain_words: list[str], script: str) -> list[Language]:
    """The languages of `script` whose common words occur most among `plain_words`, if any.

    Only plain ASCII words are looked at: they read the same in every code page, so the
    language they point to favours no reading of the rest.
    """
    counts = Counter(plain_words)
    written = [language for language in LANGUAGES if language.script == script]
    hits = {
        language.name: sum(counts[word] for word in language.common_words if word.isascii())
        for language in written
    }
    most = max(hits.values(), default=0)
    return [language for language in written if most and hits[language.name] == most]


def known_words(words: list[str]) -> int:
    """How many of `words` (lower case) are common words of some language."""
    return sum(1 for word in words if word in _ALL_COMMON_WORDS)


_ALL_COMMON_WORDS = frozenset().union(*(language.common_words for language in LANGUAGES))
