"""Made for a thumb (issue 17): late means done late, the escalations page tells each story once, and `make run`
shows the product's own error pages. The phone-width checks of every page are in
tests/browser/test_every_page_on_a_phone.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import time_machine

from checklists.daily.models import LATE
from checklists.daily.ticks import tick_record
from checklists.escalation.raising import escalation_sweep
from checklists.models import ChecklistItem, Escalation
from tests.test_escalation import duty, monday

ROOT = Path(__file__).resolve().parents[1]


def test_an_item_marked_not_done_after_its_due_time_is_not_late(warehouse_member, generate):
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    item, _ = tick_record(item=item, actor=warehouse_member, status="not_done", note="没货", now=item.due_at + timedelta(hours=1))
    assert not item.is_late
    assert not ChecklistItem.objects.filter(LATE, pk=item.pk).exists()  # history and the board count the same


def test_an_item_done_late_loses_the_overdue_colour_and_a_not_done_one_is_not_tagged_late(client, warehouse_member, generate):
    generate()
    items = {i.playbook_id: i for i in ChecklistItem.objects.filter(checklist__member=warehouse_member)}
    late_time = items["SC-WH-2"].due_at + timedelta(minutes=30)
    tick_record(item=items["SC-WH-2"], actor=warehouse_member, now=late_time)
    tick_record(item=items["SC-WH-1a"], actor=warehouse_member, status="not_done", note="没货", now=late_time)
    client.force_login(warehouse_member.user)
    with time_machine.travel(late_time, tick=False):
        page = client.get("/today/").content.decode()
    done_li = re.search(rf'<li class="([^"]*)" id="item-{items["SC-WH-2"].pk}"', page).group(1)
    not_done_li = re.search(rf'<li class="([^"]*)" id="item-{items["SC-WH-1a"].pk}"', page).group(1)
    assert "overdue" not in done_li
    assert "overdue" not in not_done_li
    done_part = page.split(f'id="item-{items["SC-WH-2"].pk}"')[1].split("</li>")[0]
    not_done_part = page.split(f'id="item-{items["SC-WH-1a"].pk}"')[1].split("</li>")[0]
    assert 'class="tag was-late"' in done_part
    assert 'class="tag late"' not in done_part
    assert "was-late" not in not_done_part
    assert 'class="tag late"' not in not_done_part


def test_the_escalations_page_shows_each_duty_once_with_its_current_level_named(client, team, warehouse_member, warehouse_lead, director):
    task = duty(team, owner=warehouse_member, due=monday(10))
    now = monday(9)
    while now <= monday(12, 5):
        escalation_sweep(team=team, now=now)
        now += timedelta(minutes=5)
    assert Escalation.objects.filter(task=task).count() == 3  # owner, lead and director levels
    client.force_login(director.user)
    with time_machine.travel(monday(12, 10), tick=False):
        page = client.get("/escalations/").content.decode()
    assert page.count('data-testid="escalation"') == 1
    assert "当前级别：总监" in page
    assert "负责人" in page
    assert "组长" in page
    # Acknowledging answers the same story (htmx), still once.
    current = Escalation.objects.get(task=task, level_order=3)
    with time_machine.travel(monday(12, 10), tick=False):
        part = client.post(f"/escalations/{current.pk}/acknowledge/", HTTP_HX_REQUEST="true").content.decode()
    assert part.count('data-testid="escalation"') == 1
    assert "当前级别：总监" in part


def test_the_acknowledge_button_keeps_its_word_on_one_line():
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert re.search(r"li\.esc \.esc-ack button \{[^}]*white-space: nowrap", css)


def _dev_debug(**env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    environ.update(DJANGO_SETTINGS_MODULE="opsteam.settings.dev", OPSTEAM_VAR_DIR=str(ROOT / "var" / "settings-test"), **env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, check=True).stdout.strip()


def test_make_run_has_debug_off_so_its_404_and_500_pages_are_the_product_s_own():
    assert _dev_debug() == "False"
    assert _dev_debug(DEBUG="1") == "True"  # the developer's switch
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--insecure" in web  # runserver still serves the static files with debug off


def test_an_unknown_address_answers_the_product_s_404_page(client, warehouse_member, settings):
    settings.DEBUG = False
    client.force_login(warehouse_member.user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="topbar"' in page
    assert "URLconf" not in page
