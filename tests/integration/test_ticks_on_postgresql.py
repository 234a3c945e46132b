"""The tick on PostgreSQL: one way for every viewer (lock, check, update, record), each case it refuses, and its cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from checklists.daily import ticks
from checklists.daily.generation import run_generate_for_date
from checklists.daily.ticks import tick_record
from checklists.escalation.raising import escalation_sweep
from checklists.models import ChecklistItem, Escalation, ItemStatus, TickEvent
from tests.conftest import MONDAY

pytestmark = pytest.mark.integration

AT = MONDAY.replace(hour=9, minute=5)
# What a tick writes, but updated_at: that is the wall clock (auto_now) either way, checked on its own.
STORED = ["status", "note", "value", "text_value", "photo", "done_at", "done_by_id"]


@pytest.fixture
def day(team, warehouse_member, service_member, director):
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)


def item(member, playbook_id: str) -> ChecklistItem:
    return ChecklistItem.objects.get(checklist__member=member, playbook_id=playbook_id)


def stored(one: ChecklistItem) -> dict:
    one.refresh_from_db()
    return {name: getattr(one, name) for name in STORED}


def event_of(one: ChecklistItem) -> dict:
    event = TickEvent.objects.get(item=one)
    return {name: getattr(event, name) for name in ("actor_id", "on_behalf_of_id", "action", "changes", "at", "ip")}


def test_a_second_tick_of_the_same_item_changes_and_records_nothing(day, warehouse_member):
    one = item(warehouse_member, "SC-WH-2")
    tick_record(item_id=one.pk, actor=warehouse_member, now=AT)
    first = stored(one)

    _again, changed = tick_record(item_id=one.pk, actor=warehouse_member, now=AT + timedelta(minutes=3))

    assert not changed
    assert stored(one) == first
    assert TickEvent.objects.filter(item=one).count() == 1


def test_a_lead_ticking_for_a_member_is_recorded_on_behalf(day, warehouse_member, warehouse_lead):
    run_generate_for_date(team=warehouse_lead.team, day=MONDAY.date(), now=MONDAY)
    one = item(warehouse_member, "SC-WH-2")

    _ticked, changed = tick_record(item_id=one.pk, actor=warehouse_lead, now=AT)

    assert changed
    assert event_of(one)["actor_id"] == warehouse_lead.pk
    assert event_of(one)["on_behalf_of_id"] == warehouse_member.pk


def test_someone_elses_item_in_the_shop_or_another_shops_item_is_not_ticked(day, warehouse_member, service_member, outsider):
    theirs = item(service_member, "SC-CS-1")

    with pytest.raises(Http404):
        tick_record(item_id=theirs.pk, actor=warehouse_member, now=AT)
    with pytest.raises(Http404):
        tick_record(item_id=theirs.pk, actor=outsider, now=AT)
    with pytest.raises(Http404):
        tick_record(item_id=2**63 + 5, actor=warehouse_member, now=AT)

    assert stored(theirs)["status"] == ItemStatus.OPEN
    assert not TickEvent.objects.exists()


def test_an_item_that_asks_for_input_is_refused(day, warehouse_member):
    count = item(warehouse_member, "SC-WH-2")
    ChecklistItem.objects.filter(pk=count.pk).update(kind="count", target=10)  # as SC-CS-5 (10 chats checked)

    with pytest.raises(ValidationError) as refused:
        tick_record(item_id=count.pk, actor=warehouse_member, now=AT)

    assert "value" in refused.value.message_dict
    assert stored(count)["status"] == ItemStatus.OPEN
    assert not TickEvent.objects.exists()


def test_ticking_a_groups_last_sub_item_closes_the_group(day, warehouse_member):
    group = item(warehouse_member, "SC-WH-1")
    children = list(group.children.order_by("order"))
    assert group.is_group
    assert len(children) > 1

    for child in children:
        tick_record(item_id=child.pk, actor=warehouse_member, now=AT)

    assert stored(group)["status"] == ItemStatus.DONE
    assert TickEvent.objects.filter(item__in=children).count() == len(children)


def test_ticking_an_escalated_item_resolves_its_escalation(day, warehouse_member):
    one = item(warehouse_member, "SC-WH-2")
    escalation_sweep(team=warehouse_member.team, now=MONDAY.replace(hour=11))
    assert Escalation.objects.filter(item=one, status="open").exists()

    tick_record(item_id=one.pk, actor=warehouse_member, now=MONDAY.replace(hour=11, minute=5))

    assert stored(one)["status"] == ItemStatus.DONE
    assert not Escalation.objects.filter(item=one).exclude(status="resolved").exists()


def test_an_item_reopened_with_a_note_keeps_the_record_of_the_note(day, warehouse_member):
    one = item(warehouse_member, "SC-WH-2")
    tick_record(item_id=one.pk, actor=warehouse_member, now=AT, note="先处理了急单")
    ticks.tick_undo(item=one, actor=warehouse_member, now=AT + timedelta(minutes=1))

    tick_record(item_id=one.pk, actor=warehouse_member, now=AT + timedelta(minutes=2))

    # The undo kept the note; ticking again without one clears it, and the record says so.
    last = TickEvent.objects.filter(item=one).order_by("-id").first()
    assert last.changes == {"status": [ItemStatus.OPEN, ItemStatus.DONE], "note": ["先处理了急单", ""]}


def test_an_api_tick_costs_a_fixed_number_of_queries_on_postgresql(day, warehouse_member, client):
    """Authentication included: the login, the locked item, its update and its record."""
    one = item(warehouse_member, "SC-WH-2")
    token = Token.objects.create(user=warehouse_member.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == ItemStatus.DONE
    statements = [q["sql"] for q in queries.captured_queries]
    # Inside the test's transaction the atomic block is a savepoint; in a request it is BEGIN/COMMIT, not counted.
    statements = [sql for sql in statements if "SAVEPOINT" not in sql]
    assert len(statements) == 4, statements
    assert "FOR UPDATE" in statements[1], statements
    assert TickEvent.objects.filter(item=one, actor=warehouse_member).count() == 1


def test_the_token_lookup_is_planned_once_per_connection(day, warehouse_member, client, settings):
    """opsteam.lib.db.prepared_cursor: PostgreSQL holds the login's statement prepared after a few ticks."""
    from django.db import connection as db

    assert db.settings_dict["OPTIONS"]["prepare_threshold"] == 5  # opsteam.lib.env, for PostgreSQL
    token = Token.objects.create(user=warehouse_member.user)
    one = item(warehouse_member, "SC-WH-2")
    for _ in range(6):  # the first closes the item; the others find it closed
        assert client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200

    with db.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("FROM authtoken_token" in sql for sql in prepared), prepared
