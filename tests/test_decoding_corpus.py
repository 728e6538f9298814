"""Legacy text files are read as their writers wrote them: a corpus generated here, scored.

Short notes in eleven languages are saved in the encodings their writers' tools use (Windows
code pages, Latin-1, Mac OS Roman, Shift-JIS, UTF-16 with and without a byte-order mark, UTF-8
with a BOM), as paragraphs and one-liners, plus files whose only character beyond ASCII is a
curly quote or a euro sign. Each is decoded by the loader's own `decode_text`. A file read back
exactly is a hit; a refusal is a miss; a file read as other text (mojibake) must never happen.
Run with `-s` to see the table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ingest.decoding import decode_text
from lodestar.core.errors import DocumentError

TARGET_EXACT_SHARE = 0.98

# language: (paragraph, one line)
SAMPLES: dict[str, tuple[str, str]] = {
    "English": (
        "The onboarding week starts on Monday — new hires meet their mentor, set up their "
        "laptop and read the team’s “working agreements”. Travel is booked through the portal; "
        "the daily allowance is €45 and receipts go to finance within 30 days. Questions about "
        "the café budget or the résumé reviews go to Zoë in People Ops.",
        "Don’t forget: the quarterly review is on Friday, so send your notes by Thursday.",
    ),
    "French": (
        "L’équipe se réunit chaque lundi à 9 h pour faire le point sur les projets en cours. "
        "Les nouveaux arrivants reçoivent leur ordinateur dès le premier jour et rencontrent "
        "leur référent pendant la première semaine. Les notes de frais doivent être déposées "
        "avant la fin du mois ; au-delà, elles ne seront pas remboursées. N’hésitez pas à poser "
        "vos questions à l’accueil : nous sommes là pour ça.",
        "Réunion d’équipe déplacée à jeudi, même heure, même salle.",
    ),
    "German": (
        "Die Einarbeitung dauert in der Regel zwei Wochen. In dieser Zeit begleitet eine Patin "
        "oder ein Pate die neuen Kolleginnen und Kollegen, beantwortet Fragen und stellt sie "
        "den wichtigsten Ansprechpartnern vor. Überstunden werden monatlich erfasst und müssen "
        "von der Teamleitung genehmigt werden. Für Dienstreisen gilt die Reisekostenrichtlinie, "
        "die im Intranet unter „Personal“ zu finden ist.",
        "Die Besprechung am Donnerstag fällt aus, wir treffen uns nächste Woche.",
    ),
    "Spanish": (
        "El equipo de soporte atiende consultas de lunes a viernes, de 9:00 a 18:00. ¿Tienes "
        "una incidencia urgente fuera de ese horario? Llama al teléfono de guardia que aparece "
        "en la página de la intranet. Las vacaciones se solicitan con al menos dos semanas de "
        "antelación y las aprueba el responsable del área. ¡Gracias por tu colaboración!",
        "¿Dónde se guardan las actas de la reunión del miércoles?",
    ),
    "Portuguese": (
        "A integração dos novos colaboradores começa sempre na segunda-feira. No primeiro dia, "
        "cada pessoa recebe o seu portátil, as credenciais de acesso e uma lista de tarefas "
        "para a primeira semana. As dúvidas sobre férias, horários e reembolsos devem ser "
        "enviadas à equipa de recursos humanos, que responde em até dois dias úteis. Não se "
        "esqueça de preencher a avaliação no fim do mês.",
        "A reunião de balanço foi adiada para quinta-feira às 14h.",
    ),
    "Polish": (
        "Nowi pracownicy przez pierwszy tydzień pracują razem z opiekunem, który pomaga im "
        "poznać zespół i narzędzia. Wnioski urlopowe należy składać co najmniej dwa tygodnie "
        "wcześniej, a zatwierdza je kierownik działu. Zwrot kosztów podróży służbowej wymaga "
        "dołączenia wszystkich rachunków. Jeśli masz pytania, zajrzyj do intranetu albo "
        "napisz do działu kadr.",
        "Spotkanie zespołu przeniesiono na środę o godzinie dziesiątej.",
    ),
    "Czech": (
        "Zaškolení nového kolegy obvykle trvá dva týdny. Během této doby mu pomáhá zkušený "
        "mentor, který ho seznámí s týmem, nástroji a pravidly firmy. Žádosti o dovolenou se "
        "podávají nejméně čtrnáct dní předem a schvaluje je vedoucí oddělení. Cestovní náhrady "
        "se proplácejí až po předložení všech účtenek.",
        "Porada týmu se přesouvá na čtvrtek v devět hodin.",
    ),
    "Lithuanian": (
        "Naujų darbuotojų įvadinis mokymas trunka dvi savaites. Šiuo laikotarpiu kiekvienam "
        "naujokui padeda patyręs kolega, kuris supažindina su komanda, įrankiais ir darbo "
        "tvarka. Prašymus dėl atostogų reikia pateikti ne vėliau kaip prieš dvi savaites. "
        "Komandiruočių išlaidos kompensuojamos tik pateikus visus kvitus.",
        "Komandos susitikimas perkeltas į ketvirtadienį, devintą valandą.",
    ),
    "Russian": (
        "Испытательный срок для новых сотрудников составляет три месяца. В первую неделю "
        "каждому новичку помогает наставник: он знакомит с командой, рабочими инструментами и "
        "внутренними правилами. Заявление на отпуск нужно подать не позднее чем за две недели. "
        "Командировочные расходы возмещаются только при наличии всех чеков.",
        "Совещание команды перенесено на четверг, в десять утра.",
    ),
    "Greek": (
        "Η εκπαίδευση των νέων συναδέλφων διαρκεί συνήθως δύο εβδομάδες. Σε αυτό το διάστημα, "
        "ένας έμπειρος μέντορας τους γνωρίζει την ομάδα, τα εργαλεία και τους κανόνες της "
        "εταιρείας. Οι αιτήσεις για άδεια υποβάλλονται τουλάχιστον δύο εβδομάδες νωρίτερα. "
        "Τα έξοδα ταξιδιού επιστρέφονται μόνο με την προσκόμιση όλων των αποδείξεων.",
        "Η συνάντηση της ομάδας μεταφέρθηκε για την Πέμπτη στις δέκα.",
    ),
    "Japanese": (
        "新しいメンバーの研修は通常二週間かかります。この期間中は、経験豊富な先輩がチームや"
        "社内ツール、仕事の進め方を丁寧に教えてくれます。休暇の申請は少なくとも二週間前までに"
        "上長へ提出してください。出張の経費は、すべての領収書を添付した場合にのみ精算されます。",
        "チーム会議は木曜日の午前十時に変更になりました。",
    ),
}

# The encodings each language's writers' tools save in. UTF-16 without a byte-order mark is
# "utf-16-le" / "utf-16-be"; "utf-16" writes the mark (little-endian, as Notepad does).
ENCODINGS: dict[str, tuple[str, ...]] = {
    "English": ("cp1252", "latin-1", "mac_roman", "utf-16", "utf-16-le", "utf-8-sig"),
    "French": ("cp1252", "latin-1", "mac_roman", "utf-16", "utf-16-le", "utf-8-sig"),
    "German": ("cp1252", "latin-1", "mac_roman", "utf-16", "utf-16-be"),
    "Spanish": ("cp1252", "latin-1", "mac_roman", "utf-16"),
    "Portuguese": ("cp1252", "latin-1", "mac_roman", "utf-16"),
    "Polish": ("cp1250", "utf-16", "utf-8-sig"),
    "Czech": ("cp1250", "utf-16-le"),
    "Lithuanian": ("cp1257", "utf-16"),
    "Russian": ("cp1251", "utf-16", "utf-16-le", "utf-8-sig"),
    "Greek": ("cp1253", "utf-16", "utf-16-be"),
    "Japanese": ("shift_jis", "utf-16", "utf-16-le", "utf-8-sig"),
}

# Files whose only character beyond ASCII is one curly quote or one euro sign.
SINGLE_MARKS: dict[str, str] = {
    "curly quote": "Please update the team’s calendar before the planning session.",
    "curly quotes": "The “quiet hours” rule applies to every open-plan floor.",
    "euro sign": "The conference ticket costs €350 per person, travel not included.",
    "euro after amount": "Lunch allowance: 12 € a day.",
}
SINGLE_MARK_ENCODINGS = ("cp1252", "mac_roman")

ISSUE_NOTE = (
    "Café budgets and résumé reviews: the zebracorn review happens every quarter, naïve "
    "estimates are revised, and the team’s déjà vu meetings are cancelled. Every café receipt "
    "is filed."
)

# What a Latin-1 editor types where Windows has curly quotes, dashes and the euro sign.
_PLAIN_PUNCTUATION = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "—": "-", "–": "-", "€": "EUR "}
)


@dataclass(frozen=True)
class CorpusFile:
    """One generated file: what was written, how, and the bytes saved."""

    language: str
    encoding: str
    kind: str
    text: str
    raw: bytes


def line_end(encoding: str) -> str:
    """The line ending the encoding's usual tools write: Windows CRLF, classic Mac CR, else LF."""
    if encoding == "mac_roman":
        return "\r"
    if encoding.startswith(("cp", "shift_jis", "utf-8-sig")) or encoding == "utf-16":
        return "\r\n"
    return "\n"


def corpus_file(language: str, encoding: str, kind: str, text: str) -> CorpusFile:
    """Save `text` as its writer's tool would in `encoding`, one line ending at the end."""
    if encoding == "latin-1":
        text = text.translate(_PLAIN_PUNCTUATION)
    text += line_end(encoding)
    return CorpusFile(language, encoding, kind, text, text.encode(encoding))


def build_corpus() -> list[CorpusFile]:
    """Every language in each of its encodings, as a paragraph and a line, and the specials."""
    files = [
        corpus_file(language, encoding, kind, text)
        for language, (paragraph, line) in SAMPLES.items()
        for encoding in ENCODINGS[language]
        for kind, text in (("paragraph", paragraph), ("line", line))
    ]
    files += [
        corpus_file("English", encoding, kind, text)
        for kind, text in SINGLE_MARKS.items()
        for encoding in SINGLE_MARK_ENCODINGS
    ]
    files.append(corpus_file("English", "cp1252", "issue 24 note", ISSUE_NOTE))
    # A Latin-1 line left with nothing beyond ASCII is plain ASCII, not a legacy file.
    return [file for file in files if not file.text.isascii()]


def read_back(file: CorpusFile) -> tuple[str, str]:
    """("exact" | "refused" | "wrong", what was read or why not), via the loader's decoder."""
    try:
        text, encoding = decode_text(file.raw)
    except DocumentError as exc:
        return "refused", exc.one_line()
    if text == file.text:
        return "exact", encoding
    return "wrong", f"read as {encoding}: {text.strip()[:70]!r}"


def accuracy_table(results: list[tuple[CorpusFile, str, str]]) -> str:
    """Files read back exactly per language × encoding, misses listed below the table."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for file, outcome, _ in results:
        cell = cells[(file.language, file.encoding)]
        cell[0] += outcome == "exact"
        cell[1] += 1
    encodings = list(dict.fromkeys(file.encoding for file, _, _ in results))
    languages = list(dict.fromkeys(file.language for file, _, _ in results))
    width = max(len(encoding) for encoding in encodings) + 1
    lines = ["exact / files".ljust(12) + "".join(e.rjust(width) for e in encodings)]
    for language in languages:
        row = [
            f"{cells[(language, e)][0]}/{cells[(language, e)][1]}"
            if (language, e) in cells
            else "-"
            for e in encodings
        ]
        lines.append(language.ljust(12) + "".join(cell.rjust(width) for cell in row))
    exact = sum(outcome == "exact" for _, outcome, _ in results)
    wrong = sum(outcome == "wrong" for _, outcome, _ in results)
    lines.append(
        f"exact {exact}/{len(results)} = {exact / len(results):.1%}; "
        f"wrong text (mojibake) {wrong}; refused {len(results) - exact - wrong}"
    )
    lines += [
        f"  {outcome}: {file.language} {file.encoding} {file.kind}: {detail}"
        for file, outcome, detail in results
        if outcome != "exact"
    ]
    return "\n".join(lines)


def test_the_corpus_is_read_as_written_and_never_as_mojibake() -> None:
    results = [(file, *read_back(file)) for file in build_corpus()]
    table = accuracy_table(results)
    print("\n" + table)
    exact = sum(outcome == "exact" for _, outcome, _ in results)
    assert not any(outcome == "wrong" for _, outcome, _ in results), table
    assert exact / len(results) >= TARGET_EXACT_SHARE, table


def test_every_corpus_file_needs_decoding() -> None:
    """The legacy files are really not UTF-8, so the decoder's choice is what is measured."""
    for file in build_corpus():
        if not file.encoding.startswith("utf"):
            try:
                file.raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            raise AssertionError(f"{file.language} {file.encoding} {file.kind} is valid UTF-8")
