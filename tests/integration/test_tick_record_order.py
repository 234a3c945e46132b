"""Issue 15: tick records carry the time of the change, so that ordering them by time is the order of the changes."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from checklists.daily import ticks
from checklists.daily.generation import run_generate_for_date
from checklists.daily.ticks import tick_record
from checklists.models import ChecklistItem, TickAction, TickEvent
from tests.conftest import MONDAY
from tests.integration.test_concurrency import run_at_once

pytestmark = pytest.mark.integration

EDITS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_edits_are_recorded_in_the_order_they_were_made(team, warehouse_member, monkeypatch):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    tick_record(item=item, actor=warehouse_member, now=MONDAY, note="开始")  # closed: every edit below changes the note
    key = Token.objects.create(user=warehouse_member.user).key
    recorded = ticks._event_record

    def holding_the_row(**kwargs):
        recorded(**kwargs)
        time.sleep(0.01)  # the row stays locked a little while the others wait for it, as under load

    monkeypatch.setattr(ticks, "_event_record", holding_the_row)

    def client(index: int):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return index, api

    def edit(prepared) -> int:
        index, api = prepared
        response = api.post(f"/api/v1/checklist-items/{item.pk}/tick/", {"note": f"第{index}次"}, format="json")
        return response.status_code

    assert run_at_once(edit, prepare=client, threads=EDITS) == [200] * EDITS

    edits = list(TickEvent.objects.filter(item=item, action=TickAction.EDIT).order_by("id"))
    assert len(edits) == EDITS
    # The order of the changes: each edit found the note the one before it left (ids are taken under the row lock).
    for before, after in pairwise(edits):
        assert after.changes["note"][0] == before.changes["note"][1]
    # Their times follow that order.
    times = [event.at for event in edits]
    assert times == sorted(times)
    assert len(set(times)) == EDITS


@pytest.mark.django_db(transaction=True)
def test_the_one_statement_tick_records_the_time_it_changed_the_row(team, warehouse_member):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=warehouse_member.user).key}")

    before = timezone.now()
    assert api.post(f"/api/v1/checklist-items/{item.pk}/tick/", {}, format="json").status_code == 200
    after = timezone.now()

    item.refresh_from_db()
    event = TickEvent.objects.get(item=item)
    assert event.action == TickAction.TICK
    assert before <= event.at == item.done_at <= after
