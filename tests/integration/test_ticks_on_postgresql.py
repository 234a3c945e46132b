"""The common tick in one statement on PostgreSQL (issue 8), held equal to the general way it stands in for.

checklists.services.ticks writes a member's plain tick of their own open item as one data-modifying
statement, and sends everything else the general way (lock, check, update, record). These tests tick the
same kind of item both ways and compare what is stored, and check that each case the statement must not
take (someone else's item, inputs, groups, escalations, closed items, other shops) still gets the general
way's answer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from checklists.models import ChecklistItem, Escalation, ItemStatus, TickAction, TickEvent
from checklists.services import ticks
from checklists.services.escalation import escalation_sweep
from checklists.services.generation import run_generate_for_date
from checklists.services.ticks import tick_record
from roles.models import Cover
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


def test_the_one_statement_tick_stores_what_the_general_way_stores(day, warehouse_member, monkeypatch):
    fast, general = item(warehouse_member, "SC-WH-2"), item(warehouse_member, "SC-WH-3")
    generated_at = fast.updated_at

    with CaptureQueriesContext(connection) as queries:
        ticked, changed = tick_record(item_id=fast.pk, actor=warehouse_member, now=AT, ip="203.0.113.9")
    assert changed
    assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
    monkeypatch.setattr(ticks, "_tick_in_one_statement", lambda **kwargs: None)
    tick_record(item_id=general.pk, actor=warehouse_member, now=AT, ip="203.0.113.9")

    assert stored(fast) == stored(general)
    assert fast.updated_at > generated_at
    assert (
        event_of(fast)
        == event_of(general)
        == {
            "actor_id": warehouse_member.pk,
            "on_behalf_of_id": None,
            "action": TickAction.TICK,
            "changes": {"status": [ItemStatus.OPEN, ItemStatus.DONE]},
            "at": AT,
            "ip": "203.0.113.9",
        }
    )
    # The returned item is the stored row, with its list's ids for the caller.
    assert {name: getattr(ticked, name) for name in STORED} == stored(fast)
    assert (ticked.checklist.assignee_id, ticked.checklist.team_id) == (warehouse_member.pk, warehouse_member.team_id)


def test_a_cover_ticking_the_absent_members_item_is_recorded_the_same_both_ways(team, warehouse_member, warehouse_teammate, monkeypatch):
    Cover.objects.create(team=team, absent=warehouse_member, cover=warehouse_teammate, start_date=MONDAY.date(), end_date=MONDAY.date())
    run_generate_for_date(team=team, day=MONDAY.date(), now=MONDAY)
    fast, general = item(warehouse_member, "SC-WH-2"), item(warehouse_member, "SC-WH-3")
    assert fast.checklist.assignee_id == warehouse_teammate.pk

    # The absent member ticks their own list from home: the record says on behalf of the cover, as the general way does.
    tick_record(item_id=fast.pk, actor=warehouse_member, now=AT)
    monkeypatch.setattr(ticks, "_tick_in_one_statement", lambda **kwargs: None)
    tick_record(item_id=general.pk, actor=warehouse_member, now=AT)

    assert stored(fast) == stored(general)
    assert event_of(fast) == event_of(general)
    assert event_of(fast)["on_behalf_of_id"] == warehouse_teammate.pk


def test_a_second_tick_of_the_same_item_changes_and_records_nothing(day, warehouse_member):
    one = item(warehouse_member, "SC-WH-2")
    tick_record(item_id=one.pk, actor=warehouse_member, now=AT)
    first = stored(one)

    _again, changed = tick_record(item_id=one.pk, actor=warehouse_member, now=AT + timedelta(minutes=3))

    assert not changed
    assert stored(one) == first
    assert TickEvent.objects.filter(item=one).count() == 1


def test_a_lead_ticking_for_a_member_goes_the_general_way_and_is_recorded_on_behalf(day, warehouse_member, warehouse_lead):
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


def test_an_item_that_asks_for_input_is_refused_the_general_way(day, service_member):
    count = ChecklistItem.objects.filter(checklist__member=service_member, kind="count", target__isnull=False).first()

    with pytest.raises(ValidationError) as refused:
        tick_record(item_id=count.pk, actor=service_member, now=AT)

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


def test_an_item_reopened_with_a_note_keeps_the_general_ways_record_of_the_note(day, warehouse_member):
    one = item(warehouse_member, "SC-WH-2")
    tick_record(item_id=one.pk, actor=warehouse_member, now=AT, note="先处理了急单")
    ticks.tick_undo(item=one, actor=warehouse_member, now=AT + timedelta(minutes=1))

    tick_record(item_id=one.pk, actor=warehouse_member, now=AT + timedelta(minutes=2))

    # The undo kept the note; ticking again without one clears it, and the record says so.
    last = TickEvent.objects.filter(item=one).order_by("-id").first()
    assert last.changes == {"status": [ItemStatus.OPEN, ItemStatus.DONE], "note": ["先处理了急单", ""]}


def test_an_api_tick_costs_three_queries_in_all_on_postgresql(day, warehouse_member, client):
    """The issue's "at most 3 queries per tick", authentication included."""
    one = item(warehouse_member, "SC-WH-2")
    token = Token.objects.create(user=warehouse_member.user)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == ItemStatus.DONE
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= 3, statements
    assert len(statements) == 2, statements
    assert statements[1].lstrip().startswith("WITH ticked"), statements
    assert TickEvent.objects.filter(item=one, actor=warehouse_member).count() == 1


def test_the_api_tick_answers_the_same_both_ways(day, warehouse_member, client, monkeypatch):
    one = item(warehouse_member, "SC-WH-2")
    token = Token.objects.create(user=warehouse_member.user)
    monkeypatch.setattr(ticks, "_tick_in_one_statement", lambda **kwargs: None)
    general = client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    TickEvent.objects.all().delete()
    ChecklistItem.objects.filter(pk=one.pk).update(status="open", done_at=None, done_by=None)
    monkeypatch.undo()

    fast = client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}").json()

    assert {k: v for k, v in fast.items() if k not in ("done_at", "is_late")} == {
        k: v for k, v in general.items() if k not in ("done_at", "is_late")
    }
    assert fast["status"] == ItemStatus.DONE


def test_the_token_lookup_and_the_tick_are_planned_once_per_connection(day, warehouse_member, client, settings):
    """opsteam.lib.db.prepared_cursor: PostgreSQL holds both statements prepared after a few ticks."""
    from django.db import connection as db

    assert db.settings_dict["OPTIONS"]["prepare_threshold"] == 5  # opsteam.lib.env, for PostgreSQL
    token = Token.objects.create(user=warehouse_member.user)
    one = item(warehouse_member, "SC-WH-2")
    for _ in range(6):  # the first closes the item; the others find it closed and go on the general way
        assert client.post(f"/api/v1/checklist-items/{one.pk}/tick/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200

    with db.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("FROM authtoken_token" in sql for sql in prepared), prepared
    assert any("WITH ticked" in sql for sql in prepared), prepared


def test_a_column_added_by_a_migration_does_not_break_the_prepared_tick(day, warehouse_member, warehouse_teammate):
    """Web workers keep running while `migrate` adds a column: their prepared tick must go on working."""
    from django.db import connection as db

    run_generate_for_date(team=warehouse_teammate.team, day=MONDAY.date(), now=MONDAY)
    one = item(warehouse_member, "SC-WH-2")
    for _ in range(6):  # prepared from the fifth run on (the first ticks, the rest find it closed)
        tick_record(item_id=one.pk, actor=warehouse_member, now=AT)
    with db.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction has deferred key checks pending
        cursor.execute("ALTER TABLE checklists_checklistitem ADD COLUMN added_later integer")

    other = item(warehouse_teammate, "SC-WH-2")
    ticked, changed = tick_record(item_id=other.pk, actor=warehouse_teammate, now=AT)

    assert changed
    assert ticked.status == ItemStatus.DONE
    assert event_of(other)["actor_id"] == warehouse_teammate.pk
