"""Everyone reads the same words (issue 17): 漏做 (missed) counted one way everywhere, history rows opening their
day, numbers with thousands separators and counts without ".00"."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from checklists.board.selectors import board_items, board_scope, completion_by_role_and_person
from checklists.daily.history import history_for_lead, history_for_member
from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem
from tests.conftest import MONDAY


def test_missed_is_the_same_number_in_the_history_and_on_the_board_today(generate, warehouse_member, director):
    generate()
    now = MONDAY + timedelta(hours=4)  # 12:00: the morning's items are past their due time
    items = ChecklistItem.objects.filter(checklist__member=warehouse_member, is_group=False)
    tick_record(item=items.filter(playbook_id="SC-WH-2").get(), actor=warehouse_member, now=now)
    expected = items.filter(status="open", due_at__lt=now).count()
    assert expected > 0

    mine = history_for_member(member=warehouse_member, today=MONDAY.date(), now=now)[0]
    team = next(r for r in history_for_lead(lead=director, today=MONDAY.date(), now=now) if r.member == warehouse_member).days[0]
    scope = board_scope(viewer=director)
    board = next(
        p.completion
        for r in completion_by_role_and_person(scope=scope, day=MONDAY.date(), now=now)
        for p in r.people
        if p.member_id == warehouse_member.pk
    )
    drill = board_items(scope=scope, day=MONDAY.date(), now=now, status="missed", member_id=warehouse_member.pk)
    assert mine.missed == team.missed == board.missed == len(drill) == expected


def test_a_history_row_opens_its_day_with_its_items(client, generate, warehouse_member):
    generate()
    tuesday = MONDAY + timedelta(days=1, hours=2)
    client.force_login(warehouse_member.user)
    with time_machine.travel(tuesday, tick=False):
        history = client.get("/history/").content.decode()
        assert 'href="/history/day/?date=2026-11-23"' in history
        day = client.get("/history/day/?date=2026-11-23").content.decode()
    assert day.count('data-testid="history-item"') >= 3
    assert 'data-testid="missed"' in day  # nothing was ticked on Monday


def test_someone_else_s_day_is_not_found(client, generate, warehouse_member, service_member):
    generate()
    client.force_login(service_member.user)
    assert client.get(f"/history/day/?date=2026-11-23&member={warehouse_member.pk}").status_code == 404


def test_numbers_have_thousands_separators_and_counts_no_decimals(client, generate, operations_member):
    generate()
    figure = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-OPS-1")
    count = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")
    tick_record(item=figure, actor=operations_member, value="35800.5", now=MONDAY)
    tick_record(item=count, actor=operations_member, value="8", now=MONDAY)
    client.force_login(operations_member.user)
    for language in ("zh-hans", "en"):
        client.cookies["django_language"] = language
        with time_machine.travel(MONDAY, tick=False):
            page = client.get("/today/").content.decode()
        assert "35,800.50" in page
        assert "8 / 10" in page
        assert "8.00" not in page


def test_a_notification_is_read_in_the_reader_s_language_whatever_it_was_written_in(client, warehouse_member, warehouse_lead):
    from django.utils import translation

    from checklists.duties.services import task_assign
    from checklists.models import Notification

    with translation.override("zh-hans"):
        task_assign(member=warehouse_lead, title="提交补货表", due_at=MONDAY + timedelta(hours=8), now=MONDAY, owner=warehouse_member)
    stored = Notification.objects.get(recipient=warehouse_member, kind="duty")
    assert stored.event == "duty_assigned"
    assert stored.title.startswith("新任务")  # the words as sent (email, robots)
    client.force_login(warehouse_member.user)
    client.cookies["django_language"] = "en"
    english = client.get("/notifications/").content.decode()
    assert "New duty: 提交补货表" in english
    assert "Assigned task" in english
    assert "新任务" not in english
    client.cookies["django_language"] = "zh-hans"
    assert "新任务：提交补货表" in client.get("/notifications/").content.decode()


def test_a_nudge_is_read_in_the_reader_s_language():
    from django.utils import translation

    from checklists.models import Notification
    from checklists.notify.words import notification_words

    nudge = Notification(
        title="冯仓库 提醒你：2 项到期未完成",
        body="…",
        event="nudge",
        values={"sender": "冯仓库", "n": 2, "items": [["盘点胶带", "09:30"]], "more": 1},
    )
    with translation.override("en"):
        words = notification_words(nudge)
    assert words.title == "冯仓库 reminds you: 2 items due are still open"
    assert words.body == "- 盘点胶带 (due 09:30)\n- … and 1 more"


def test_a_reminder_and_an_escalation_are_read_in_the_reader_s_language(client, team, warehouse_member, warehouse_lead):
    from checklists.models import Notification
    from tests.test_escalation import duty, monday, sweep

    duty(team, owner=warehouse_member, due=monday(10))
    sweep(team, monday(9), monday(10, 45))  # the owner's reminder, then the lead's escalation, written in Chinese
    reminder = Notification.objects.get(recipient=warehouse_member, kind="reminder")
    assert reminder.event == "escalation"
    assert "提醒" in reminder.title or "到期" in reminder.title
    client.force_login(warehouse_lead.user)
    client.cookies["django_language"] = "en"
    english = client.get("/notifications/").content.decode()
    assert "Escalated to you as lead: 1 overdue item(s)" in english
    assert "Acknowledge: I am on it" in english  # the one-click link stays
    client.force_login(warehouse_member.user)
    assert "Reminder: 1 item(s) due soon" in client.get("/notifications/").content.decode()
