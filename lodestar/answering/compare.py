"""A comparison of two roles, answered as a table: a column per role, a row per aspect.

"How does a Practice Leader differ from an ML Engineering Manager?" answered in bullets gave
four about the Practice Leader alone. Here each role's own passages (those its documents' front
matter tags it in) fill its column: for each aspect (what the role is, its responsibilities, the
people it leads, its technical skills, the experience it asks for, its pay) the clause of the
role's passages most like the aspect is quoted, cited, or the cell says "not described" when no
clause is about it; what the role is, its own profile's first sentence says. Quoted word for
word, a cell is grounded by construction; no model writes it, so a table costs only the
embedding of the two roles' clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lodestar.answering.citations import citation_for
from lodestar.answering.result import Answer, Question
from lodestar.answering.stream import AnswerStream
from lodestar.components.store.catalogue import read_catalogue, role_key
from lodestar.core.text import LOCATION_SEPARATOR
from lodestar.grounding.statements import NOT_DESCRIBED
from lodestar.retrieval.passages import Passage, passage_from_record, passage_text
from lodestar.retrieval.sections import (
    MAX_QUOTED_WORDS,
    as_ml,
    labelled_line,
    names_another_role,
    passage_clauses,
    role_named,
)

if TYPE_CHECKING:
    from lodestar.components.services import Services

# A clause less like its aspect than this (cosine, plus the margins for where it stands, below)
# is not about it: the cell says so.
MIN_SIMILARITY = 0.35
# "Stakeholder satisfaction ratings" is a list item, not a description of the role.
MIN_CELL_WORDS = 5
_COMPARISON = re.compile(
    r"\bhow\s+(?:does|do|is|are)\s+(?:an?\s+|the\s+)?(?P<a>.+?)\s+(?:differ|different)\s+"
    r"(?:from|to|than)\s+(?:an?\s+|the\s+)?(?P<b>.+?)\s*[?.!]*$"
    r"|\b(?:differences?|difference)\s+between\s+(?:an?\s+|the\s+)?(?P<c>.+?)\s+and\s+"
    r"(?:an?\s+|the\s+)?(?P<d>.+?)\s*[?.!]*$"
    r"|\bcompare\s+(?:an?\s+|the\s+)?(?P<e>.+?)\s+(?:and|with|to)\s+(?:an?\s+|the\s+)?"
    r"(?P<f>.+?)\s*[?.!]*$"
    r"|^(?:an?\s+|the\s+)?(?P<g>.+?)\s+(?:vs\.?|versus)\s+(?:an?\s+|the\s+)?(?P<h>.+?)\s*[?.!]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Aspect:
    """A row of the table: its label, what its clause is like, the headings of the sections
    about it (preferred), a word its clause must hold, whether a role profile's first sentence
    answers it, and how many words its clause may have."""

    label: str
    query: str
    headings: str = ""
    must: re.Pattern[str] | None = None
    opening: bool = False
    max_words: int = MAX_QUOTED_WORDS

    def named_in(self, heading: str, known: list[str]) -> bool:
        """Whether a heading is about this aspect, the names of roles in it left out ("Summary:
        The Versatile ML Engineering Team Lead" is not about the team)."""
        topic = _without_roles(heading, known)
        return bool(self.headings) and re.search(self.headings, topic, re.IGNORECASE) is not None


# Preferred: a clause from a section whose heading is about the aspect, in a document titled for
# the role (its own profile), by these margins of cosine. Under a heading about the aspect a
# clause needs that much less likeness to be quoted: "A long track record with neural networks and
# deep learning, usually 5+ years" under "Required Qualifications" is 0.32 like "years of
# experience and the background required".
HEADING_BONUS = 0.15
OWN_DOCUMENT_BONUS = 0.1
# What a role is, a role profile says first ("A Senior Machine Learning Engineer LLM specialises
# in Large Language Models…"): its first sentence comes before any clause only like the query.
OPENING_BONUS = 1.0
# What a role is may take a longer sentence than a kit's signal (MAX_QUOTED_WORDS): "The Staff
# Machine Learning Scientist role belongs to…" is 27 words. Other cells keep to the signal's.
MAX_DEFINITION_WORDS = 32


# The queries leave the role's name out: a clause naming the role is not more about the aspect.
ASPECTS = (
    Aspect(
        "The role",
        "a senior specialist role that combines technical work with leadership",
        r"\bwhat\b.*\bis\b|introduction|about the role|role overview",
        opening=True,
        max_words=MAX_DEFINITION_WORDS,
    ),
    Aspect(
        "Responsibilities",
        "owns and is responsible for delivering projects and systems",
        r"responsib|duties|delivery",
    ),
    Aspect(
        "People and team",
        "hires, mentors and develops the people on the team",
        r"\bteam\b|people|leadership",
    ),
    Aspect(
        "Technical skills",
        "expertise in machine learning, programming and MLOps tools",
        r"skill|technical|expertise",
    ),
    Aspect(
        "Experience",
        "years of experience and the background required",
        r"experience|background|requirement|qualification",
        re.compile(
            r"\byears?\b|\bexperience\b|\bbackground\b|\bdegree\b|\bph\.?\s?d\b|\bcredentials\b",
            re.IGNORECASE,
        ),
    ),
    Aspect(
        "Pay",
        "the salary and pay range",
        r"salar|\bpay\b|compensation",
        re.compile(r"[$€£]|\bsalar|\bpay\b|\bcompensation\b", re.IGNORECASE),
    ),
)


def compared_roles(question: str, roles: list[str]) -> tuple[str, str] | None:
    """The two known roles a comparison question names ("how does X differ from Y", "X vs Y",
    "compare X and Y", "the difference between X and Y"), or None."""
    found = _COMPARISON.search(as_ml(question.strip()))
    if found is None:
        return None
    named = [g for g in found.groups() if g]
    if len(named) != 2:
        return None
    first, second = (_known_role(part, roles) for part in named)
    if first is None or second is None or first == second:
        return None
    return first, second


def _known_role(text: str, roles: list[str]) -> str | None:
    named = role_named(text, roles)
    return named[0] if named else None


def comparison_stream(services: Services, question: Question) -> AnswerStream | None:
    """The table for a question comparing two known roles, or None for any other question."""
    if not _COMPARISON.search(question.standalone):
        return None
    roles = read_catalogue(services.vector_store.client).roles
    pair = compared_roles(question.standalone, roles)
    if pair is None:
        return None
    table = RoleTable(services, pair, roles)
    text = table.markdown()
    if table.described == 0:
        return None  # nothing to quote for either role: the answer engine takes it
    return AnswerStream(iter([text]), lambda shown: table.answer(question, shown), table.passages)


class RoleTable:
    """The cells of a two-role comparison, each quoted from one of the role's passages."""

    def __init__(self, services: Services, roles: tuple[str, str], known: list[str]) -> None:
        """The cells for the two `roles`; `known` are all the roles the index names."""
        self.roles = roles
        self.passages: list[Passage] = []
        self.cells: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()  # a clause is quoted once in the whole table
        self.described = 0
        self.backend = services.settings.llm.backend
        for role in roles:
            self._fill(services, role, known)

    def _fill(self, services: Services, role: str, known: list[str]) -> None:
        data = services.vector_store.client.get(
            where={role_key(role): 1}, include=["metadatas", "documents"]
        )
        clauses: list[tuple[str, Passage]] = []
        first: list[bool] = []  # the first sentence of the role's own profile
        for node_id, doc, meta in zip(
            data["ids"], data["documents"] or [], data["metadatas"] or [], strict=True
        ):
            passage = passage_from_record(passage_text(doc, meta), meta, 0.0, str(node_id))
            if names_another_role(passage.location, role, known):
                continue  # a section of a shared document about another role
            found = statements_in(passage.text, MAX_DEFINITION_WORDS)
            lead = _first_line(passage.text) if _opens_profile(passage, role, known) else None
            clauses.extend((clause, passage) for clause in found)
            first.extend(lead is not None and lead.startswith(clause) for clause in found)
        if not clauses:
            return
        vectors = _unit(services.embed_model.get_text_embedding_batch([c for c, _ in clauses]))
        queries = _unit(services.embed_model.get_text_embedding_batch([a.query for a in ASPECTS]))
        used = self.used
        own = np.array([_names(p.title, role) for _, p in clauses], dtype=np.float64)
        words = np.array([len(c.split()) for c, _ in clauses])
        sections = {p.node_id: section_aspects(p, known) for _, p in clauses}
        for aspect, query in zip(ASPECTS, queries, strict=True):
            likeness = vectors @ query
            about = np.array([aspect in sections[p.node_id] for _, p in clauses], dtype=np.float64)
            opening = np.array(first, dtype=np.float64) if aspect.opening else 0 * about
            placed = likeness + HEADING_BONUS * about + OPENING_BONUS * opening
            score = placed + OWN_DOCUMENT_BONUS * own
            for i in np.argsort(-score, kind="stable"):
                clause, passage = clauses[i]
                if placed[i] < MIN_SIMILARITY or words[i] > aspect.max_words:
                    continue
                if clause in used or (aspect.must and not aspect.must.search(clause)):
                    continue
                used.add(clause)
                self.cells[(aspect.label, role)] = f"{_sentence(clause)} [{self._number(passage)}]"
                self.described += 1
                break

    def _number(self, passage: Passage) -> int:
        for n, known in enumerate(self.passages, start=1):
            if known.node_id == passage.node_id:
                return n
        self.passages.append(passage)
        return len(self.passages)

    def markdown(self) -> str:
        """The table, with a line saying where the cells come from."""
        first, second = self.roles
        lines = [
            f"How {_article(first)} {first} and {_article(second)} {second} compare, quoted "
            "from their documents:",
            "",
            f"| | {first} | {second} |",  # the empty corner: the first column names the rows
            "|---|---|---|",
        ]
        for aspect in ASPECTS:
            cells = [
                self.cells.get((aspect.label, role), NOT_DESCRIBED).replace("|", "/")
                for role in self.roles
            ]
            if all(cell == NOT_DESCRIBED for cell in cells):
                continue
            lines.append(f"| {aspect.label} | {cells[0]} | {cells[1]} |")
        return "\n".join(lines)

    def answer(self, question: Question, shown: str) -> Answer:
        """The Answer: the table, every passage a cell quotes cited, each cell a quote."""
        question.timings.total_ms = question.elapsed_ms()
        citations = [citation_for(n, p) for n, p in enumerate(self.passages, start=1)]
        return Answer(
            question=question.asked,
            standalone_question=question.standalone,
            answer=shown,
            citations=citations,
            refused=False,
            backend=self.backend,
            model="quoted (no model call)",
            timings=question.timings,
            supplied=citations,
            raw_answer=shown,
            verified={
                "checked": True,
                "quoted": True,
                "statements": self.described,
                "supported": self.described,
                "shown": self.described,
                "verified": True,
            },
        )


# A clause that leads into a list ("… is expected to bring:", "… include") says nothing alone.
_LEAD_IN = re.compile(
    r"(?:\b(?:for|with|of|to|are|is|be|include|includes|including|bring|have|has|as|"
    r"following|typically|by category|such as|like|the|a|an|and|or)|:)\s*$",
    re.IGNORECASE,
)


def statements_in(text: str, max_words: int = MAX_QUOTED_WORDS) -> list[str]:
    """The passage's clauses that say something on their own (not a line leading into a list,
    not a fragment of one), of up to `max_words` words."""
    kept = []
    for raw in text.splitlines():
        if raw.rstrip().endswith(":"):
            continue
        label, body = labelled_line(raw)
        for clause in passage_clauses(raw, max_words):
            if len(clause.split()) < MIN_CELL_WORDS or _LEAD_IN.search(clause):
                continue
            # Lower case, a clause is cut from the middle of a sentence (or is a passage's first
            # line, cut by the chunker), unless it is a bullet's own words after its bold label:
            # "- **Experience**: no less than 5 years doing data analysis".
            if not clause[:1].islower() or (label and body.startswith(clause)):
                kept.append(clause)
    return list(dict.fromkeys(kept))


def _article(name: str) -> str:
    """ "an ML Engineer", "a Practice Leader", "an Engineer": by the sound of the first letter."""
    spelled = len(name) > 1 and name[:2].isupper()  # an acronym is read letter by letter
    return "an" if name[:1].upper() in ("AEFHILMNORSX" if spelled else "AEIOU") else "a"


def _names(title: str, role: str) -> bool:
    return role_named(title, [role]) is not None


def section_aspects(passage: Passage, known: list[str]) -> list[Aspect]:
    """The aspects a passage's section is about: those its heading names, and the one its
    document's title names if it names only one ("Salary Ranges (US, 2024)" is about pay in
    every section; "Role Profile (Experience, Responsibilities, Skills)" names three aspects, so
    no passage of it is about one of them for its title)."""
    about = [a for a in ASPECTS if a.named_in(passage.heading, known)]
    titled = [a for a in ASPECTS if a.named_in(passage.title, known)]
    return about + titled if len(titled) == 1 else about


def _first_line(text: str) -> str:
    """The words of a passage's first line, without bullet or label ("" for none)."""
    return next((labelled_line(raw)[1] for raw in text.splitlines() if raw.strip()), "")


def _without_roles(text: str, known: list[str]) -> str:
    """`text` without the names of the known roles in it."""
    plain = as_ml(text)
    for role in sorted(known, key=len, reverse=True):
        plain = re.sub(rf"(?<!\w){re.escape(as_ml(role))}s?(?!\w)", " ", plain, flags=re.IGNORECASE)
    return plain


def _opens_profile(passage: Passage, role: str, known: list[str]) -> bool:
    """Whether a passage opens the role's own profile: the section a shared document heads with
    the role's name alone, or the start of a role profile whose title names no other role.
    "People moving through ML engineering careers…" opens a document about four roles, not the
    Senior Game Data Analyst's profile; "This essay describes…" opens an essay."""
    if passage.heading:
        section = passage.heading.split(LOCATION_SEPARATOR)[-1]
        return _names(section, role) and not re.search(r"\w", _without_roles(section, known))
    others = [r for r in known if r != role]
    return (
        passage.doc_type == "role_profile"
        and _names(passage.title, role)
        and role_named(_without_roles(passage.title, [role]), others) is None
    )


def _sentence(clause: str) -> str:
    clause = clause.strip()
    return clause[:1].upper() + clause[1:]


def _unit(vectors: object) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float64)
    return array / (np.linalg.norm(array, axis=-1, keepdims=True) + 1e-12)
