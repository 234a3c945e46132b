"""Everyone reads the same words (issue 17): every page (listed from the URLconf, tests/every_page.py) rendered in
English has no Chinese, and in Chinese no English, outside user data.

User data is every text the demo world holds in the database (names, items, duties, KPI names, notes, ...): those
strings are taken out of the page first. In Chinese a few Latin words are the product's and its partners' names,
codes and units (ALLOWED_LATIN); a word with a digit or a hyphen is a code (SC-WH-1, T-CAMPAIGN)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import models

from tests.every_page import demo_world, page_urls

HAN = re.compile(r"[\u3400-\u9fff]+")
LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z]{3,}(?![\w-])")
ALLOWED_LATIN = {
    "OpsTeam", "English", "Excel", "KPI", "ROI", "GMV", "UV", "PV", "API", "CSV", "xlsx", "DingTalk", "WeCom", "Feishu",
    "Markdown", "Swagger", "PNG", "JPEG", "URL", "IP", "IPv4", "IPv6", "ID", "VIP", "SKU", "Chrome", "Safari",
}  # fmt: skip
SKIPPED_TAGS = {"script", "style", "template", "code", "pre", "noscript"}


class _Text(HTMLParser):
    """The visible words of a page: text nodes, placeholders and titles; not scripts, code, or an element that
    says it is in another language (lang=..., the language buttons)."""

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language, self.stack, self.parts = language, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}:
            if attrs.get("placeholder"):
                self.parts.append(attrs["placeholder"])
            return
        other = attrs.get("lang") not in (None, self.language) and tag != "html"
        self.stack.append(tag in SKIPPED_TAGS or other or (self.stack and self.stack[-1]))
        for name in ("title", "placeholder", "aria-label"):
            if attrs.get(name) and not self.stack[-1]:
                self.parts.append(attrs[name])

    def handle_endtag(self, tag):
        if tag not in {"br", "img", "input", "meta", "link", "hr", "source", "wbr"} and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.parts.append(data)


def _user_data() -> list[str]:
    """Every text of the demo world in the database, longest first (a long text is taken out before its parts)."""
    found: set[str] = set()
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField)) and not f.choices]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                if value and isinstance(value, str):
                    found.update(line.strip() for line in value.splitlines() if line.strip())
    return sorted(found, key=len, reverse=True)


def _foreign(text: str, language: str) -> list[str]:
    if language == "en":
        return HAN.findall(text)
    return [word for word in LATIN_WORD.findall(text) if word not in ALLOWED_LATIN]


@pytest.fixture
def demo(db):
    demo_world()


def test_every_page_has_no_word_of_the_other_language_outside_user_data(client, demo):
    from roles.models import Member

    user_data = _user_data()
    director = Member.objects.get(user__username="director")
    client.force_login(director.user)
    problems = []
    for language in ("en", "zh-hans"):
        client.cookies["django_language"] = language
        for url in page_urls():
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, f"{url} answered {response.status_code}"
            parser = _Text(language)
            parser.feed(response.content.decode())
            text = "\n".join(parser.parts)
            for value in user_data:
                if value in text:
                    text = text.replace(value, " ")
            words = sorted(set(_foreign(text, language)))
            if words:
                problems.append(f"{language} {url}: {' '.join(words)[:300]}")
    assert not problems, "\n".join(problems)
