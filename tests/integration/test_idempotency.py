"""Ten identical creates at once with one Idempotency-Key make one row (issue 15): PostgreSQL's unique index decides.

Each thread has its own connection and client; they are released together, so several miss the look-up before the
INSERT and the constraint `<app>_<model>_once_per_idempotency_key` sorts them out (opsteam.lib.idempotency.create_once).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from checklists.escalation.raising import escalation_sweep
from checklists.meetings.services import meetings_create_due
from checklists.models import ActionItem, Escalation, Meeting, MeetingSeries, MeetingStatus, Plan, Task, TaskEvent
from tests.conftest import MONDAY
from tests.integration.test_concurrency import run_at_once

pytestmark = pytest.mark.integration

TEN = 10


def _clients(member):
    def prepare(_index: int) -> APIClient:
        client = APIClient()
        client.force_login(member.user)
        return client

    return prepare


def _post_ten(member, url: str, body: dict, key: str) -> list[tuple[int, dict]]:
    def post(client: APIClient) -> tuple[int, dict]:
        response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return response.status_code, response.json()

    return run_at_once(post, prepare=_clients(member), threads=TEN)


@pytest.mark.django_db(transaction=True)
def test_ten_duties_assigned_at_once_with_one_key_are_one_duty_with_one_escalation_chain(team, director, warehouse_member, frozen):
    due = MONDAY + timedelta(hours=2)
    body = {"title": "盘点库存", "due_at": due.isoformat(), "owner": warehouse_member.pk}
    answers = _post_ten(director, "/api/v1/tasks/", body, "tap-tasks-1")
    assert {code for code, _body in answers} == {201}, answers
    assert len({data["id"] for _code, data in answers}) == 1
    task = Task.objects.get(team=team, title="盘点库存")
    assert TaskEvent.objects.filter(task__title="盘点库存", action="create").count() == 1
    escalation_sweep(team=team, now=due + timedelta(hours=6))  # late: its chain starts
    assert set(Escalation.objects.filter(task__title="盘点库存").values_list("task_id", flat=True)) == {task.pk}


@pytest.mark.django_db(transaction=True)
def test_ten_plans_started_at_once_with_one_key_are_one_plan_with_one_set_of_stage_duties(team, director, frozen):
    answers = _post_ten(director, "/api/v1/plans/", {"title": "年货节方案"}, "tap-plans-1")
    assert {code for code, _body in answers} == {201}, answers
    plan = Plan.objects.get(team=team)
    assert len({data["id"] for _code, data in answers}) == 1
    assert Task.objects.filter(title__startswith="年货节方案").exclude(plan=plan).count() == 0
    assert Task.objects.filter(plan=plan).count() == Task.objects.filter(plan=plan).values("role").distinct().count()


@pytest.mark.django_db(transaction=True)
def test_ten_problem_meetings_called_at_once_with_one_key_are_one_meeting(team, warehouse_member, frozen):
    issue = MeetingSeries.objects.get(team=team, playbook_id="M-ISSUE")
    body = {"series": issue.pk, "date": MONDAY.date().isoformat(), "title": "发错货复盘"}
    answers = _post_ten(warehouse_member, "/api/v1/meetings/", body, "tap-meetings-1")
    assert {code for code, _body in answers} == {201}, answers
    assert Meeting.objects.filter(series=issue).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_action_items_added_at_once_with_one_key_give_the_owner_one_duty(team, director, warehouse_member, frozen):
    meetings_create_due(team=team, now=MONDAY)
    meeting = Meeting.objects.filter(team=team).order_by("pk").first()
    Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.DRAFT, published_at=None)
    body = {"title": "补拍主图", "owner": warehouse_member.pk, "due_date": (MONDAY.date() + timedelta(days=2)).isoformat()}
    answers = _post_ten(director, f"/api/v1/meetings/{meeting.pk}/action-items/", body, "tap-actions-1")
    assert {code for code, _body in answers} == {201}, answers
    assert ActionItem.objects.filter(meeting=meeting).count() == 1
    assert Task.objects.filter(title="补拍主图").count() == 1
