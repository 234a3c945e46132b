"""Text a member types: Markdown rendered and sanitised (nothing a writer types can run), control characters kept out."""

from __future__ import annotations

import re

import nh3
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

# What minutes need: paragraphs, emphasis, lists, quotes, code, headings, tables, links. No images (a picture
# link can track readers or carry a script URL), no styles, no event attributes.
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
NOTES_MAX = 20000


# CommonMark (issue 17: a list directly under a line is a list, as people type it), with tables, strikethrough and a
# line break kept where one was typed. As before, raw HTML and every link go through to nh3, which is the one judge of
# what is safe (its allow-list above): markdown-it's own link check would leave a refused link as literal text.
_MARKDOWN = MarkdownIt("commonmark", {"breaks": True, "html": True}).enable(["table", "strikethrough"])
_MARKDOWN.validateLink = lambda url: True  # nh3 keeps only http, https and mailto


def markdown_html(text: str) -> str:
    """Markdown to HTML, not yet sanitised."""
    return _MARKDOWN.render(text or "")


def markdown_render(text: str) -> SafeString:
    """Markdown to HTML that is safe to put in a page: links only http/https/mailto, rel="noopener noreferrer"."""
    if not text:
        return mark_safe("")
    html = markdown_html(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(cleaned.strip())  # noqa: S308 - sanitised by nh3 with the allow-list above


def markdown_plain(text: str) -> str:
    """The text without any markup, for search and for e-mail bodies."""
    return nh3.clean(markdown_html(text), tags=set()).strip()


# Inline Markdown in a person's words: links and images ([ ]), emphasis (* _), code (`) and the backslash itself.
_MARKDOWN_INLINE_RE = re.compile(r"([\\`*_\[\]])")
# What starts a block only at the beginning of a line: a heading, a quote, a list item ("-", "+", "1.").
_MARKDOWN_BLOCK_START_RE = re.compile(r"^(?:([#>+-])|(\d+)\.)")


def markdown_escape(text: str | None) -> str:
    """A person's words (a title, a name) as Markdown that shows them as typed, on one line.

    Notification bodies are Markdown (the bell renders them; e-mail and the robots carry them): a title typed as
    "[点这里](https://…)" or "<a href=…>" must stay text there, not become a link in everyone's bell (issue 15).
    Line breaks become spaces, so a title cannot start a heading or a list on a line of its own; "<" becomes an
    entity, since Python-Markdown passes raw HTML through and has no backslash escape for it.
    """
    line = " ".join(str(text or "").split())
    line = _MARKDOWN_INLINE_RE.sub(r"\\\1", line).replace("<", "&lt;")
    return _MARKDOWN_BLOCK_START_RE.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\.", line)


# --- control characters in stored titles, names and notes ----------------------------------------------------------
#
# A title or a name is one line of plain text: a control character in it (a bell \x07 sent through the API, an escape
# pasted from a terminal) is never meant, shows as nothing or as a box, and an Excel file cannot hold it. Such a value
# is refused with an error that names the field, so the sender learns that the text is wrong. A note, minutes or any
# other multi-line text keeps its line breaks and tabs and loses the other control characters silently: it is
# pasted from chat apps and documents, and refusing a whole page of minutes for one stray character helps nobody.
# Both kinds lose what no text may hold: lone UTF-16 surrogates and the non-characters U+FFFE and U+FFFF (XML, and
# so Excel, cannot carry them; PostgreSQL cannot store a surrogate).

# C0 (\x00-\x1f), DEL and C1 (\x7f-\x9f), surrogates and U+FFFE/U+FFFF: none of them belongs in one line of text.
LINE_FORBIDDEN_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# The same but for tab, line feed and carriage return, which multi-line text keeps.
TEXT_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What XML 1.0 cannot carry, so neither can a cell of an .xlsx file: a superset of openpyxl's ILLEGAL_CHARACTERS_RE
# (C0 but for tab and line breaks), with the surrogates and non-characters that openpyxl writes into a file that
# Excel then cannot open.
XML_FORBIDDEN_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_line(value: str | None, *, field: str) -> str:
    """One line of plain text (a title or a name), stripped; a control character is a ValidationError naming `field`."""
    value = (value or "").strip()
    if LINE_FORBIDDEN_RE.search(value):
        raise ValidationError(
            {field: _("This text contains a control character (such as a tab or a line break): type it as one line of plain text.")}
        )
    return value


def text_clean(value: str | None, *, strip: bool = True) -> str:
    """Multi-line text (a note, minutes) without control characters other than tab and line breaks; stripped unless told."""
    value = TEXT_FORBIDDEN_RE.sub("", value or "")
    return value.strip() if strip else value


def text_for_xml(value: str) -> str:
    """The text without the characters an XML document (such as a sheet of an .xlsx file) cannot hold."""
    return XML_FORBIDDEN_RE.sub("", value)
