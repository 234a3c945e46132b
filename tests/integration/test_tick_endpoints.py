"""Ticking through the page and the API on PostgreSQL leaves the audit record issue 3 asks for."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from checklists.daily.generation import run_generate_for_date
from checklists.models import ChecklistItem, ItemStatus, TickAction, TickEvent
from tests.conftest import MONDAY

pytestmark = pytest.mark.integration


@pytest.fixture
def wh_item(team, warehouse_member):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    return ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")


def test_a_tick_posted_from_the_today_page_is_recorded_with_who_and_where(client, warehouse_member, wh_item):
    client.force_login(warehouse_member.user)

    response = client.post(f"/items/{wh_item.pk}/tick/", REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 302
    wh_item.refresh_from_db()
    assert wh_item.status == ItemStatus.DONE
    event = TickEvent.objects.get(item=wh_item)
    assert event.action == TickAction.TICK
    assert event.actor == warehouse_member
    assert event.on_behalf_of is None
    assert event.ip == "203.0.113.7"
    assert event.changes == {"status": [ItemStatus.OPEN, ItemStatus.DONE]}
    assert event.at == wh_item.done_at


def test_a_lead_ticking_through_the_api_is_recorded_on_behalf_of_the_member_once(client, warehouse_member, warehouse_lead, wh_item):
    token = Token.objects.create(user=warehouse_lead.user)
    url = f"/api/v1/checklist-items/{wh_item.pk}/tick/"
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}", "REMOTE_ADDR": "2001:db8::7"}

    first = client.post(url, {"status": "not_done", "note": "快递停收"}, content_type="application/json", **headers)
    again = client.post(url, {"status": "not_done", "note": "快递停收"}, content_type="application/json", **headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == ItemStatus.NOT_DONE
    event = TickEvent.objects.get(item=wh_item)  # the repeat changed nothing and recorded nothing
    assert event.action == TickAction.NOT_DONE
    assert event.actor == warehouse_lead
    assert event.on_behalf_of == warehouse_member
    assert event.ip == "2001:db8::7"
    assert event.changes["note"] == ["", "快递停收"]
