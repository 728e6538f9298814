"""Cleaning of raw web-scraped text, on the real seed files and on small cases of each rule."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ingest.cleaning import clean_text

# The seed files are 000_…txt to 004_…txt; each seed test skips (outside CI) or fails (in CI)
# when the folder is missing: the `seeds` fixture in conftest.py.
SEED_PREFIXES = ("000", "001", "002", "003", "004")
FURNITURE_WORDS = {
    "logoaipathly",
    "first",
    "second",
    "image",
    "related",
    "articles",
    "more",
    "careers",
}


def _words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in re.findall(r"[A-Za-z0-9$][\w$',.%+-]*\w|\w", text))


def _numbers(text: str) -> Counter[str]:
    return Counter(re.findall(r"\d[\d,.]*\d|\d", text))


def seed_files(seeds: Path) -> dict[str, Path]:
    """The seed files by their three-digit prefix."""
    return {p.name[:3]: p for p in sorted(seeds.glob("*.txt"))}


@pytest.fixture(params=SEED_PREFIXES)
def seed(request: pytest.FixtureRequest, seeds: Path) -> tuple[str, str]:
    raw = seed_files(seeds)[request.param].read_text(encoding="utf-8")
    return raw, clean_text(raw, detect_headings=True)


def test_seeds_are_present(seeds: Path) -> None:
    assert list(seed_files(seeds)) == list(SEED_PREFIXES), (
        f"expected the five seed files in {seeds}"
    )


def test_every_figure_survives(seed: tuple[str, str]) -> None:
    raw, cleaned = seed
    # Captions printed twice are collapsed, so a figure may appear fewer times, never not at all.
    assert set(_numbers(raw)) == set(_numbers(cleaned))


def test_no_content_word_is_lost(seed: tuple[str, str]) -> None:
    raw, cleaned = seed
    lost = set(_words(raw)) - set(_words(cleaned)) - FURNITURE_WORDS
    assert not lost


def test_page_furniture_is_gone(seed: tuple[str, str]) -> None:
    _, cleaned = seed
    lines = [line.strip() for line in cleaned.splitlines()]
    for furniture in (
        "logoAiPathly",
        "first image",
        "second image",
        "More Careers",
        "Related Articles",
    ):
        assert furniture not in lines


def test_no_bullet_glyphs_or_run_on_lists(seed: tuple[str, str]) -> None:
    _, cleaned = seed
    assert "•" not in cleaned
    assert not re.search(r"^\s*—", cleaned, re.MULTILINE)
    assert not re.search(r"\S[^\S\n]+-[^\S\n]+\*\*", cleaned), "inline '- **Item**' left in a line"
    assert "  " not in cleaned.replace("\n  ", "\n"), "runs of spaces inside lines"


def test_no_line_is_printed_twice(seed: tuple[str, str]) -> None:
    _, cleaned = seed
    lines = [line for line in cleaned.splitlines() if line.strip()]
    assert all(a != b for a, b in zip(lines, lines[1:], strict=False))


def test_seed_structure_becomes_headings(seeds: Path) -> None:
    by_prefix = {
        prefix: clean_text(p.read_text(), detect_headings=True)
        for prefix, p in seed_files(seeds).items()
    }
    team_lead = by_prefix["001"]
    assert team_lead.startswith("# ML Engineering Team Lead\n")
    for heading in (
        "Overview",
        "Salary Ranges (US Market, 2024)",
        "Best Practices",
        "Common Challenges",
    ):
        assert f"\n## {heading}\n" in team_lead
    assert "\n## Senior Machine Learning Engineer GenAI\n" in team_lead
    assert "\n### Key Responsibilities\n- **Technical Leadership**:" in team_lead
    leadership = by_prefix["004"]
    assert "\n## Drive technical vision and stay at the forefront\n" in leadership
    assert "\n## Summary\n" in leadership


def test_closing_paragraph_is_split_from_last_bullet() -> None:
    raw = (
        "Project Management\n\n"
        "  • Report project status to stakeholders and management By excelling in these core "
        "responsibilities, leads play a crucial role in driving the success of AI initiatives.\n"
    )
    cleaned = clean_text(raw, detect_headings=True)
    assert "- Report project status to stakeholders and management\n" in cleaned
    assert "\nBy excelling in these core responsibilities" in cleaned


def test_run_on_numbered_items_are_split() -> None:
    raw = "Key Responsibilities: 1. Data Analysis: find trends. 2. Predictive Modeling: forecast."
    cleaned = clean_text(raw, detect_headings=False)
    assert "\n1. Data Analysis: find trends.\n2. Predictive Modeling: forecast." in "\n" + cleaned


def test_markdown_is_left_alone_without_heading_detection() -> None:
    text = "# Title\n\nShort line\n\nA paragraph that is longer than the short line above it.\n"
    assert clean_text(text, detect_headings=False) == text
