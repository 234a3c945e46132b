"""The Jinja2 templates (opsteam/jinja2.py) beside Django's: their words are translated, and a Django page and the
today page draw the same head and top bar from the same parts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.test import Client
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parent.parent
JINJA = sorted((ROOT / "templates").rglob("*.jinja"))


def _keys(function: str, message) -> list:
    """The catalogue's keys for one call found in a template (the forms Django's gettext looks up)."""
    if function == "ngettext":
        return [(message[0], 0)]  # Chinese has one plural form
    if function == "pgettext":
        return [f"{message[0]}\x04{message[1]}"]
    return [message[0] if isinstance(message, tuple) else message]


@pytest.mark.parametrize("path", JINJA, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_word_of_a_jinja2_template_is_in_the_chinese_catalogue(path):
    """makemessages reads no .jinja file: a new word there, or one it dropped as unused, would show in English."""
    catalogue = trans_real.translation("zh-hans")._catalog
    calls = list(engines["jinja2"].env.extract_translations(path.read_text(encoding="utf-8")))
    missing = [(line, message) for line, function, message in calls for key in _keys(function, message) if key not in catalogue]
    assert not missing, f"{path.name}: add these to locale/zh_Hans/LC_MESSAGES/django.po: {missing}"


def test_the_catalogue_check_sees_a_word_that_is_not_there():
    calls = list(engines["jinja2"].env.extract_translations('{{ _("A word nobody translated") }}'))
    assert calls
    assert _keys(calls[0][1], calls[0][2])[0] not in trans_real.translation("zh-hans")._catalog


def _chrome(html: str) -> str:
    """The page's head links and top bar, without the CSRF masks (new at every request) and the page's own address."""
    head = re.search(r"<head>(.*?)<title>", html, re.S).group(1)
    topbar = re.search(r'<header class="topbar">.*?</header>', html, re.S).group(0)
    return re.sub(r'name="next" type="hidden" value="[^"]*"', "", re.sub(r'value="[A-Za-z0-9]{64}"', 'value="T"', head + topbar))


def test_a_django_page_and_the_today_page_share_the_head_and_the_top_bar(warehouse_lead, generate, frozen):
    generate()
    client = Client()
    client.force_login(warehouse_lead.user)
    today = client.get("/today/").content.decode()  # Jinja2: base.jinja
    duties = client.get("/tasks/").content.decode()  # Django: base.html
    assert _chrome(today) == _chrome(duties)
    for part in ('href="/board/"', 'id="bell"', 'class="lang inline"', "退出登录"):
        assert part in _chrome(today), part


def test_one_csrf_mask_serves_every_form_of_a_page(warehouse_member, generate, frozen):
    """once_per_request: the top bar's forms, the cards' forms and htmx's header carry one masked token, and it is valid."""
    generate()
    client = Client(enforce_csrf_checks=True)
    client.force_login(warehouse_member.user)
    page = client.get("/today/").content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    assert len(tokens) == 1
    item = re.search(r'action="(/items/\d+/tick/)"', page).group(1)
    assert client.post(item, {"action": "done", "csrfmiddlewaretoken": tokens.pop()}).status_code in (200, 302)


def test_the_jinja2_parts_of_a_django_page_mask_the_csrf_token_once(warehouse_member, monkeypatch):
    """The head, the top bar and the messages are three Jinja2 renders; the token is masked for the first only."""
    import opsteam.jinja2

    calls = []
    get_token = opsteam.jinja2.get_token
    monkeypatch.setattr(opsteam.jinja2, "get_token", lambda request: calls.append(request) or get_token(request))
    client = Client()
    client.force_login(warehouse_member.user)
    assert client.get("/tasks/").status_code == 200
    assert len(calls) == 1


def test_the_today_page_shows_times_in_the_shop_s_time_zone(warehouse_member, generate, frozen):
    """|hm and |date with the time zone read once per request: stored in UTC, shown as Shanghai's clock reads."""
    from django.utils import translation

    from checklists.models import ChecklistItem
    from opsteam.lib.clock import business_tz

    generate()
    item = ChecklistItem.objects.filter(checklist__assignee=warehouse_member, kind="check", is_group=False).order_by("due_at").last()
    client = Client()
    client.force_login(warehouse_member.user)
    client.post(f"/items/{item.pk}/tick/", {"action": "done"})
    page = client.get("/today/").content.decode()
    other = ChecklistItem.objects.filter(checklist__assignee=warehouse_member, status="open", is_group=False).exclude(due_at=None).first()
    with translation.override("zh-hans"):
        due, done = translation.gettext("Due"), translation.gettext("Done")
    assert f"{due} {other.due_at.astimezone(business_tz()):%H:%M}<" in page
    assert other.due_at.astimezone(business_tz()).hour != other.due_at.hour  # the test means something: UTC reads otherwise
    assert f"{done} 08:00<" in page  # ticked at MONDAY 08:00 Shanghai (00:00 UTC)
    assert "2026-11-23" in page  # the day's heading, |date("Y-m-d l")
