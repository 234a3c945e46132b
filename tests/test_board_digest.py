"""Issue 20: the 17:00 digest to the director and the leads (content, time, once a day, working days only)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from checklists.board.digest import digest_send, teams_digest_due
from checklists.models import BoardDigest, ChecklistItem, Notification
from checklists.schedule import beat_schedule
from roles.models import Metric
from roles.services.kpi import entry_save, target_set
from tests.conftest import MONDAY

FIVE = MONDAY.replace(hour=17)


def test_the_digest_goes_at_five_to_the_director_and_the_leads_with_completion_behind_sales_and_escalations(
    team, generate, director, warehouse_lead, warehouse_member, service_member
):
    generate(MONDAY)
    ChecklistItem.objects.filter(checklist__member=service_member).update(due_at=MONDAY.replace(hour=20))  # nothing due yet
    target_set(team=team, metric=Metric.objects.get(team=team, code="sales"), month=MONDAY.date(), value="300000", split="even",
               actor=None, now=MONDAY)  # fmt: skip
    entry_save(team=team, day=MONDAY.date(), figures={"sales": "12000"}, actor=None, now=MONDAY)
    assert digest_send(team=team, now=FIVE - timedelta(minutes=1)) == 0
    assert digest_send(team=team, now=FIVE) == 2
    to_director = Notification.objects.get(recipient=director, kind="digest")
    assert to_director.url == "/board/"
    assert "已完成" in to_director.body
    assert "陈仓库" in to_director.body  # behind: her morning items are due and open
    assert "郑客服" not in to_director.body  # nothing due yet: not behind
    assert "12,000.00" in to_director.body
    assert "升级" in to_director.body
    to_lead = Notification.objects.get(recipient=warehouse_lead, kind="digest")
    assert to_lead.url.startswith("/board/?role=")
    assert not Notification.objects.filter(recipient=warehouse_member, kind="digest").exists()


def test_the_digest_is_sent_once_a_day_and_not_on_a_day_off(team, director):
    assert digest_send(team=team, now=FIVE) == 1
    assert digest_send(team=team, now=FIVE + timedelta(minutes=1)) == 0
    assert BoardDigest.objects.get(team=team).recipients == 1
    saturday = FIVE + timedelta(days=5)
    assert digest_send(team=team, now=saturday) == 0


def test_the_time_is_a_setting_and_beat_asks_every_minute(team, director, settings):
    from datetime import time

    settings.OPSTEAM_DIGEST_AT = time(16, 30)
    assert teams_digest_due(now=FIVE.replace(hour=16, minute=29)) == []
    assert teams_digest_due(now=FIVE.replace(hour=16, minute=30)) == [team.pk]
    digest_send(team=team, now=FIVE.replace(hour=16, minute=30))
    assert teams_digest_due(now=FIVE) == []
    assert beat_schedule()["board-digest"]["task"] == "checklists.digests_due"


def test_the_beat_task_sends_the_digest_with_the_clock_frozen_at_five(team, director):
    from checklists.board.tasks import digests_due

    with time_machine.travel(FIVE, tick=False):
        assert digests_due() == 1
    assert Notification.objects.filter(recipient=director, kind="digest").count() == 1


def test_the_evening_agenda_lists_who_is_behind_as_the_board_does(team, generate, warehouse_member, service_member):
    from checklists.meetings.services import meetings_create_due
    from checklists.models import Meeting

    generate(MONDAY)
    ChecklistItem.objects.filter(checklist__member=service_member).update(due_at=MONDAY.replace(hour=20))
    meetings_create_due(team=team, now=FIVE)
    evening = Meeting.objects.get(series__team=team, series__playbook_id="M-EVENING", date=MONDAY.date())
    behind = evening.agenda_items.get(title="谁落后了").prepared
    assert "陈仓库" in behind
    assert "郑客服" not in behind  # nothing due yet
