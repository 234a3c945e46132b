"""Markdown for minutes and notes: rendered, then sanitised with an allow-list (nothing a writer types can run)."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

# What minutes need: paragraphs, emphasis, lists, quotes, code, headings, tables, links. No images (a picture
# link can track readers or carry a script URL), no styles, no event attributes.
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
NOTES_MAX = 20000


def markdown_render(text: str) -> SafeString:
    """Markdown to HTML that is safe to put in a page: links only http/https/mailto, rel="noopener noreferrer"."""
    if not text:
        return mark_safe("")
    html = markdown_lib.markdown(text, extensions=["sane_lists", "tables", "nl2br"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 with the allow-list above


def markdown_plain(text: str) -> str:
    """The text without any markup, for search and for e-mail bodies."""
    return nh3.clean(markdown_lib.markdown(text or ""), tags=set()).strip()
