"""Saved web pages and wiki exports (.html, .htm) to Markdown: the main content only.

Confluence, Notion and Google Sites exports and pages saved from a browser wrap the text in site
furniture. The page's main element is kept (`<main>`, `<article>`, `role="main"`, Confluence's
`#main-content`), and scripts, styles, navigation, sidebars, cookie and consent banners, forms and
footers are removed before the rest is turned into Markdown with markdownify, so headings stay
headings, lists stay lists and tables become rows. Links keep their text; images are dropped.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from ingest.decoding import UTF8, decode_text, looks_like_text
from lodestar.core.errors import DocumentError

# Elements that never hold a page's content.
_NEVER_CONTENT = [
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "nav",
    "aside",
    "footer",
    "dialog",
    "link",
    "meta",
]
_FURNITURE_ROLES = {
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "toolbar",
}
# An id or class naming furniture: a whole word or a dash/underscore-separated part of one.
_FURNITURE_NAME = re.compile(
    r"(?:^|[-_])(cookies?|consent|gdpr|banner|breadcrumbs?|sidebar|navbar|nav|menu|footer|"
    r"skip-link|share|social|newsletter|subscribe|popup|modal|advert|ads)(?:$|[-_])",
    re.IGNORECASE,
)
_MAIN_SELECTORS = ["main", "[role=main]", "article", "#main-content", "#content", ".content"]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def read_web_page(raw: bytes) -> tuple[str, dict[str, Any]]:
    """Markdown text of a page's main content, and its title; DocumentError if it has none."""
    from bs4 import BeautifulSoup

    html, encoding = _decode_page(raw)
    try:
        return _convert(BeautifulSoup(html, "html.parser"), encoding)
    except RecursionError as exc:  # bs4 and markdownify walk the tree recursively
        raise DocumentError("HTML is nested too deeply to read (hundreds of levels)") from exc


def _convert(soup: Any, encoding: str) -> tuple[str, dict[str, Any]]:
    from markdownify import markdownify

    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    root = _main_content(soup)
    if root is None:
        raise DocumentError("HTML page has no body text (only markup, scripts or styles)")
    content_size = len(root.get_text(strip=True))
    for element in root.find_all(_is_furniture):
        if element.decomposed:
            continue  # inside furniture removed already
        # A class name is weak evidence ("has-sidebar" on the content's own wrapper): an
        # element so named stays when it holds headings and most of the text.
        if not _is_structural_furniture(element) and _holds_the_content(element, content_size):
            continue
        element.decompose()
    heading = root.find("h1")
    markdown = markdownify(
        str(root),
        heading_style="ATX",
        bullets="-",
        strip=["a", "img"],
        escape_asterisks=False,
        escape_underscores=False,
        escape_misc=False,
    )
    if not re.search(r"\w", markdown):
        raise DocumentError("HTML page has no text content (only markup, scripts or styles)")
    title = heading.get_text(" ", strip=True) if heading is not None else page_title
    metadata: dict[str, Any] = {"title": title} if title else {}
    if encoding != UTF8:
        metadata["encoding"] = encoding
    return markdown, metadata


def _decode_page(raw: bytes) -> tuple[str, str]:
    """The page's text: in its declared charset when that reads it, else as any text file."""
    declared = _META_CHARSET.search(raw[:4096])
    if declared and b"\x00" not in raw[:8192]:
        try:
            name = codecs.lookup(declared.group(1).decode("ascii", "replace")).name
            text = raw.decode(name).lstrip("\ufeff")
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: read it as any other text file
        else:
            if looks_like_text(text):
                return text, name
    return decode_text(raw)


def _main_content(soup: Any) -> Any:
    for selector in _MAIN_SELECTORS:
        candidates = [tag for tag in soup.select(selector) if tag.get_text(strip=True)]
        if candidates:
            return max(candidates, key=lambda tag: len(tag.get_text(strip=True)))
    body = soup.body or soup
    for element in body.find_all(["header"]):
        element.decompose()  # the site's header; an article's own header is kept above
    return body if body.get_text(strip=True) else None


def _holds_the_content(tag: Any, content_size: int) -> bool:
    has_structure = tag.find(["h1", "h2", "h3", "article", "main"]) is not None
    return has_structure and len(tag.get_text(strip=True)) * 2 > content_size


def _is_furniture(tag: Any) -> bool:
    return _is_structural_furniture(tag) or _is_named_furniture(tag)


def _is_structural_furniture(tag: Any) -> bool:
    """Furniture by its tag, ARIA role or hidden state: certain."""
    if tag.name in _NEVER_CONTENT:
        return True
    attrs = getattr(tag, "attrs", None) or {}
    if attrs.get("role") in _FURNITURE_ROLES or attrs.get("aria-hidden") == "true":
        return True
    return "hidden" in attrs or bool(re.search(r"display\s*:\s*none", attrs.get("style", "")))


def _is_named_furniture(tag: Any) -> bool:
    """Furniture by its id or class name: likely."""
    attrs = getattr(tag, "attrs", None) or {}
    names = [attrs.get("id", ""), *attrs.get("class", [])]
    return any(_FURNITURE_NAME.search(name) for name in names if isinstance(name, str))
