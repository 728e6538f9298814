"""The shared text rules (citations, sentences, locations) and the "not covered" rule."""

from __future__ import annotations

from lodestar.core.prompts import render_prompt
from lodestar.core.refusal import (
    NOT_A_CLAIM,
    NOT_COVERED_REPLY,
    NOT_COVERED_TEXT,
    SAYS_NOT_COVERED,
    not_covered_text,
    refusal_parts,
)
from lodestar.core.text import (
    CAPITAL,
    CLAIM_START,
    citation_pattern,
    cited_numbers,
    count_sentences,
    location,
    split_sentences,
)


def test_cited_numbers_keep_repeats_or_the_supplied_ones_once() -> None:
    text = "Teams of 5-20 [1]. Coaching [2, 3] and hiring [1][7]."
    assert cited_numbers(text) == [1, 2, 3, 1, 7]
    assert cited_numbers(text, supplied=3) == [1, 2, 3]


def test_the_display_variant_matches_single_citations_only() -> None:
    single = citation_pattern(groups=False)
    assert single.findall("a [1] b [2, 3]") == ["1"]
    assert citation_pattern().findall("a [1] b [2, 3]") == ["1", "2, 3"]


def test_sentences_split_where_the_next_one_may_start() -> None:
    text = "One. two [1]. [2] Three!  Four?"
    assert split_sentences(text) == ["One.", "two [1].", "[2] Three!", "Four?"]
    assert split_sentences(text, next_start=CAPITAL) == ["One. two [1]. [2] Three!", "Four?"]
    assert split_sentences(text, next_start=CLAIM_START) == ["One. two [1].", "[2] Three!", "Four?"]


def test_newlines_split_only_when_asked() -> None:
    assert split_sentences("a line\nanother") == ["a line\nanother"]
    assert split_sentences("a line\n\nanother", newlines=True) == ["a line", "another"]


def test_sentence_ends_are_counted_at_a_space_or_the_end() -> None:
    assert count_sentences("No full stop") == 0
    assert count_sentences("One. Two.  ") == 2
    assert count_sentences("e.g. this") == 1


def test_location_drops_empty_parts_unless_the_site_keeps_them() -> None:
    assert location("Guide", "Mentoring") == "Guide › Mentoring"
    assert location("Guide", "") == "Guide"
    assert location("", "Mentoring") == "Mentoring"
    assert location("", "Mentoring", keep_empty="title") == " › Mentoring"
    assert location("Guide", "", keep_empty="title") == "Guide"
    assert location("Guide", "", keep_empty="both") == "Guide › "


def test_the_prompt_and_the_app_share_the_refusal() -> None:
    prompt = render_prompt(
        "answer",
        context="[1] T\nx",
        question="q",
        not_covered=NOT_COVERED_REPLY,
        shape=render_prompt("shape_general"),
    )
    assert prompt.endswith("reply only: The knowledge base does not cover this.")
    assert SAYS_NOT_COVERED.search(NOT_COVERED_REPLY)
    assert NOT_A_CLAIM.search(NOT_COVERED_TEXT)
    text = not_covered_text(["Hiring", "Coaching"])
    assert refusal_parts(text) == (
        NOT_COVERED_TEXT,
        "The closest topics it does cover: Hiring; Coaching.",
    )
    assert refusal_parts(NOT_COVERED_TEXT) == (NOT_COVERED_TEXT, "")
