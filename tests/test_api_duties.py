"""The duty, escalation, problem order, campaign and plan endpoints (issue 4), through the public API."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from checklists.escalation.raising import escalation_sweep
from checklists.models import Escalation, Task
from tests.conftest import MONDAY


def client_for(member) -> APIClient:
    client = APIClient()
    client.force_authenticate(member.user)
    return client


@pytest.fixture
def lead_task(warehouse_lead, warehouse_member, frozen):
    response = client_for(warehouse_lead).post(
        "/api/v1/tasks/", {"title": "盘点胶带库存", "owner": warehouse_member.pk, "due_at": "2026-11-23T16:00:00+08:00"}, format="json"
    )
    assert response.status_code == 201, response.content
    return Task.objects.get(pk=response.json()["id"])


def test_a_lead_assigns_a_duty_and_the_owner_sees_and_completes_it(lead_task, warehouse_member):
    client = client_for(warehouse_member)
    listed = client.get("/api/v1/tasks/?mine=true&status=open").json()
    assert [row["title"] for row in listed["results"]] == ["盘点胶带库存"]
    done = client.post(f"/api/v1/tasks/{lead_task.pk}/complete/", {"note": "已盘点"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    again = client.post(f"/api/v1/tasks/{lead_task.pk}/complete/", {}, format="json")
    assert again.status_code == 200  # idempotent
    assert lead_task.events.filter(action="complete").count() == 1


def test_a_teammate_cannot_complete_someone_elses_duty(lead_task, warehouse_teammate):
    response = client_for(warehouse_teammate).post(f"/api/v1/tasks/{lead_task.pk}/complete/", {}, format="json")
    assert response.status_code in (403, 404)
    lead_task.refresh_from_db()
    assert lead_task.status == "open"


def test_staff_cannot_assign_and_another_teams_member_is_unknown(warehouse_member, warehouse_lead, outsider, frozen):
    staff = client_for(warehouse_member).post(
        "/api/v1/tasks/", {"title": "x", "owner": warehouse_member.pk, "due_at": "2026-11-23T16:00:00+08:00"}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert staff.status_code == 403
    assert staff.json()["detail"] == "Only a lead (for their role) or the director can assign duties."  # the service's words
    foreign = client_for(warehouse_lead).post(
        "/api/v1/tasks/", {"title": "x", "owner": outsider.pk, "due_at": "2026-11-23T16:00:00+08:00"}, format="json"
    )
    assert foreign.status_code == 400
    assert "owner" in foreign.json()


def test_a_duty_with_a_bad_due_time_or_no_title_is_a_clear_400(warehouse_lead, warehouse_member, frozen):
    client = client_for(warehouse_lead)
    bad_time = client.post("/api/v1/tasks/", {"title": "x", "owner": warehouse_member.pk, "due_at": "tomorrow"}, format="json")
    assert bad_time.status_code == 400
    assert "due_at" in bad_time.json()
    far = client.post("/api/v1/tasks/", {"title": "x", "owner": warehouse_member.pk, "due_at": "2062-01-01T10:00:00+08:00"}, format="json")
    assert far.status_code == 400
    empty = client.post(
        "/api/v1/tasks/", {"title": "  ", "owner": warehouse_member.pk, "due_at": "2026-11-23T16:00:00+08:00"}, format="json"
    )
    assert empty.status_code == 400


def test_open_escalations_are_listed_and_acknowledged_by_their_recipient_only(lead_task, team, warehouse_lead, warehouse_teammate):
    escalation_sweep(team=team, now=MONDAY + timedelta(hours=9))  # 17:00, the duty was due at 16:00: owner and lead levels
    lead = client_for(warehouse_lead)
    rows = lead.get("/api/v1/escalations/?status=open").json()["results"]
    mine = [row for row in rows if row["recipient"] == warehouse_lead.pk]
    assert mine, rows
    teammate = client_for(warehouse_teammate)
    refused = teammate.post(f"/api/v1/escalations/{mine[0]['id']}/acknowledge/")
    assert refused.status_code == 404  # not sent to them, not their role's lead: they cannot see it
    acked = lead.post(f"/api/v1/escalations/{mine[0]['id']}/acknowledge/")
    assert acked.status_code == 200
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == warehouse_lead.pk
    assert Escalation.objects.get(pk=mine[0]["id"]).next_repeat_at is None


def test_a_problem_order_is_logged_and_closed_through_the_api(service_member, frozen):
    client = client_for(service_member)
    created = client.post("/api/v1/problem-orders/", {"order_no": "3021123456789", "kind": "urge", "note": "催单"}, format="json")
    assert created.status_code == 201
    assert created.json()["due_at"].startswith("2026-11-24T08:00")
    duplicate = client.post("/api/v1/problem-orders/", {"order_no": "3021123456789", "kind": "urge"}, format="json")
    assert duplicate.status_code == 400
    bad_kind = client.post("/api/v1/problem-orders/", {"order_no": "1", "kind": "lost"}, format="json")
    assert bad_kind.status_code == 400
    closed = client.post(f"/api/v1/problem-orders/{created.json()['id']}/close/", {"resolution": "已发货"}, format="json")
    assert closed.status_code == 200
    assert closed.json()["is_on_time"] is True


def test_a_lead_creates_a_campaign_and_staff_cannot(warehouse_lead, warehouse_member, frozen):
    created = client_for(warehouse_lead).post(
        "/api/v1/campaigns/", {"name": "双12", "date": "2026-12-12", "signup_date": "2026-12-01"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["tasks_total"] == 6  # T-CAMPAIGN-3, -6…-10; -11 follows -10
    refused = client_for(warehouse_member).post(
        "/api/v1/campaigns/", {"name": "年货节", "date": "2026-12-20", "signup_date": "2026-12-10"}, format="json"
    )
    assert refused.status_code == 403


def test_only_the_director_starts_a_plan(director, warehouse_lead, frozen):
    assert client_for(warehouse_lead).post("/api/v1/plans/", {"title": "方案"}, format="json").status_code == 403
    created = client_for(director).post("/api/v1/plans/", {"title": "春节备货方案"}, format="json")
    assert created.status_code == 201
    assert created.json()["stage"] == 1
