"""Duties as easy as checks (issue 17): ticked on the today page like items, told to the member when given, and a
count short of its target recorded as short, kept on undo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from checklists.daily.ticks import tick_record, tick_undo
from checklists.duties.campaigns import campaign_create
from checklists.duties.services import task_assign, task_complete, task_reopen
from checklists.meetings.minutes import action_item_create
from checklists.meetings.services import meetings_create_due
from checklists.models import CampaignTemplate, ChecklistItem, Meeting, Notification, Task, TaskStatus
from tests.conftest import MONDAY
from tests.test_duties import MON, at, generate


@pytest.fixture
def duty(warehouse_lead, warehouse_member):
    return task_assign(member=warehouse_lead, title="提交补货表", due_at=MONDAY + timedelta(hours=8), now=MONDAY, owner=warehouse_member)


def test_a_member_is_told_when_a_lead_gives_them_a_duty(duty, warehouse_member, warehouse_lead):
    told = Notification.objects.get(recipient=warehouse_member, kind="duty")
    assert "提交补货表" in told.title
    assert told.url == f"/tasks/{duty.pk}/"
    assert not Notification.objects.filter(recipient=warehouse_lead, kind="duty").exists()  # not the one who gave it


def test_a_campaign_s_steps_are_told_to_the_members_of_their_roles(team, director, operations_member):
    template = CampaignTemplate.objects.get(team=team, playbook_id="T-CAMPAIGN")
    campaign = campaign_create(
        member=director,
        template=template,
        name="双11",
        day=date(2026, 11, 11),
        signup_date=date(2026, 10, 23),
        now=at(date(2026, 10, 20), 9),
    )
    steps = campaign.tasks.filter(role__code="operations").count()
    assert steps
    assert Notification.objects.filter(recipient=operations_member, kind="duty").count() == steps
    assert not Notification.objects.filter(recipient=director, kind="duty").exists()


def test_a_meeting_s_action_item_is_told_to_its_owner(team, director, warehouse_member):
    meetings_create_due(team=team, now=MONDAY)
    meeting = Meeting.objects.get(series__team=team, series__playbook_id="M-WEEKLY", date=MON)
    action_item_create(
        meeting=meeting, member=director, title="补货表改模板", owner=warehouse_member, due_date=MON + timedelta(days=1), now=MONDAY
    )
    assert Notification.objects.filter(recipient=warehouse_member, kind="duty", title__contains="补货表改模板").exists()


def test_recurring_duties_are_not_announced(team, service_member):
    generate(team, MON)
    assert Task.objects.filter(source="recurring").exists()
    assert not Notification.objects.filter(kind="duty").exists()


def test_a_duty_marked_not_done_needs_a_note_and_keeps_it(duty, warehouse_member):
    with pytest.raises(ValidationError):
        task_complete(task=duty, member=warehouse_member, now=MONDAY, status=TaskStatus.NOT_DONE)
    closed = task_complete(task=duty, member=warehouse_member, now=MONDAY, status=TaskStatus.NOT_DONE, note="供应商没回")
    assert (closed.status, closed.note, closed.is_late) == (TaskStatus.NOT_DONE, "供应商没回", False)


def test_a_duty_count_short_of_its_target_is_recorded_short_and_kept_on_undo(team, service_member):
    generate(team, MON)
    posts = Task.objects.get(playbook_id="T-CONTENT", date=MON)
    done = task_complete(task=posts, member=service_member, value="2", now=at(MON, 17))
    assert (done.status, done.value, done.shortfall) == (TaskStatus.DONE, 2, 1)
    reopened = task_reopen(task=done, member=service_member, now=at(MON, 17, 5))
    assert (reopened.status, reopened.value) == (TaskStatus.OPEN, 2)


def test_an_item_count_short_of_its_target_is_recorded_short_and_kept_on_undo(client, operations_member, generate):
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")  # 10 chats checked
    item, changed = tick_record(item=item, actor=operations_member, value="8", now=MONDAY)
    assert changed
    assert (item.status, item.value, item.shortfall) == ("done", 8, 2)
    client.force_login(operations_member.user)
    with time_machine.travel(MONDAY, tick=False):
        assert 'data-testid="short"' in client.get("/today/").content.decode()
    item, _ = tick_undo(item=item, actor=operations_member, now=MONDAY)
    assert (item.status, item.value) == ("open", 8)
    with time_machine.travel(MONDAY, tick=False):
        page = client.get("/today/").content.decode()
    assert 'name="value" min="0" step="1" inputmode="numeric" required value="8"' in page  # offered again


def test_a_duty_is_ticked_done_from_the_today_page_and_undone(client, duty, warehouse_member):
    client.force_login(warehouse_member.user)
    with time_machine.travel(MONDAY, tick=False):
        page = client.get("/today/").content.decode()
        assert f'action="/tasks/{duty.pk}/tick/"' in page
        row = client.post(f"/tasks/{duty.pk}/tick/", {"action": "done"}, HTTP_HX_REQUEST="true").content.decode()
        assert 'data-testid="duty-undo"' in row
        duty.refresh_from_db()
        assert duty.status == TaskStatus.DONE
        refused = client.post(f"/tasks/{duty.pk}/tick/", {"action": "undo"}, HTTP_HX_REQUEST="true")
        assert refused.status_code == 200
        duty.refresh_from_db()
        assert duty.status == TaskStatus.OPEN
        row = client.post(f"/tasks/{duty.pk}/tick/", {"action": "not_done"}, HTTP_HX_REQUEST="true").content.decode()
        assert 'role="alert"' in row  # the note is required: said in the row
        client.post(f"/tasks/{duty.pk}/tick/", {"action": "not_done", "note": "缺货"})
        duty.refresh_from_db()
        assert (duty.status, duty.note) == (TaskStatus.NOT_DONE, "缺货")


def test_an_outsider_cannot_tick_someone_else_s_duty(client, duty, outsider):
    client.force_login(outsider.user)
    assert client.post(f"/tasks/{duty.pk}/tick/", {"action": "done"}).status_code == 404
