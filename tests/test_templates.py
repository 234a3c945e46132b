"""One template engine for the product's pages (issue 16): Django's, for every page and every part of one."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_the_pages_are_drawn_by_django_s_templates_alone():
    assert [engine["BACKEND"] for engine in settings.TEMPLATES] == ["django.template.backends.django.DjangoTemplates"]
    assert sorted((ROOT / "templates").rglob("*.jinja")) == []


def _chrome(html: str) -> str:
    """The page's head links and top bar, without the CSRF masks (new at every request) and the page's own address."""
    head = re.search(r"<head>(.*?)<title>", html, re.S).group(1)
    topbar = re.search(r'<header class="topbar">.*?</header>', html, re.S).group(0)
    return re.sub(r'name="next" type="hidden" value="[^"]*"', "", re.sub(r'value="[A-Za-z0-9]{64}"', 'value="T"', head + topbar))


def test_a_django_page_and_the_today_page_share_the_head_and_the_top_bar(warehouse_lead, generate, frozen):
    generate()
    client = Client()
    client.force_login(warehouse_lead.user)
    today = client.get("/today/").content.decode()
    duties = client.get("/tasks/").content.decode()
    assert _chrome(today) == _chrome(duties)
    for part in ('href="/board/"', 'id="bell"', 'class="lang inline"', "退出登录"):
        assert part in _chrome(today), part


def test_one_csrf_mask_serves_every_form_of_a_page(warehouse_member, generate, frozen):
    """The top bar's forms, the cards' forms and htmx's header carry one masked token, and it is valid."""
    generate()
    client = Client(enforce_csrf_checks=True)
    client.force_login(warehouse_member.user)
    page = client.get("/today/").content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', page))
    assert len(tokens) == 1
    item = re.search(r'action="(/items/\d+/tick/)"', page).group(1)
    assert client.post(item, {"action": "done", "csrfmiddlewaretoken": tokens.pop()}).status_code in (200, 302)


def test_the_today_page_is_in_chinese_first(warehouse_member, generate, frozen):
    """The parts that were Jinja2 before (cards, total, bell, duty rows) take their words from the same catalogue."""
    generate()
    client = Client()
    client.force_login(warehouse_member.user)
    page = client.get("/today/").content.decode()
    for english in (">Tick<", "Note / not done", " of ", "My day", "unread notification"):
        assert english not in page, english


def test_the_today_page_shows_times_in_the_shop_s_time_zone(warehouse_member, generate, frozen):
    """Stored in UTC, shown as Shanghai's clock reads."""
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
    assert "2026-11-23" in page  # the day's heading
