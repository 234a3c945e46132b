"""The audit trail (issue 7): every tick, duty change, minutes amendment and acknowledgement, with who, when, where."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from checklists.audit.selectors import PAGE_SIZE, AuditRow, audit_list
from checklists.daily.ticks import tick_record, tick_undo
from checklists.duties.services import task_complete, task_create
from checklists.escalation.acknowledging import escalation_acknowledge_all_mine
from checklists.escalation.raising import escalation_sweep
from checklists.models import ChecklistItem, Escalation, ItemKind
from tests.conftest import MONDAY


@pytest.fixture
def ticked(team, warehouse_member, warehouse_lead, service_member, generate, frozen):
    generate()
    wh = ChecklistItem.objects.filter(checklist__member=warehouse_member, is_group=False).order_by("id")
    cs = ChecklistItem.objects.filter(checklist__member=service_member, is_group=False).order_by("id").first()
    tick_record(item=wh[0], actor=warehouse_member, now=MONDAY, ip="198.51.100.1")
    tick_record(item=wh[1], actor=warehouse_lead, now=MONDAY + timedelta(minutes=1), ip="198.51.100.2", note="替他打勾")
    tick_record(item=cs, actor=service_member, now=MONDAY + timedelta(minutes=2), ip="198.51.100.3")
    return wh, cs


def test_a_lead_reads_who_ticked_what_when_and_from_where_for_their_role_only(ticked, warehouse_lead):
    rows = audit_list(viewer=warehouse_lead).rows
    assert [(r.kind, r.actor, r.ip) for r in rows] == [("tick", "冯仓库", "198.51.100.2"), ("tick", "陈仓库", "198.51.100.1")]
    assert rows[0].on_behalf_of == "陈仓库"
    assert rows[0].changes  # what changed, as the tick service recorded it


def test_the_director_reads_the_whole_team(ticked, director):
    assert {r.ip for r in audit_list(viewer=director).rows} == {"198.51.100.1", "198.51.100.2", "198.51.100.3"}


def test_staff_and_another_team_cannot_read_it(ticked, warehouse_member, outsider):
    for member in (warehouse_member, outsider):
        client = Client()
        client.force_login(member.user)
        assert client.get("/audit/").status_code == 403


def test_duties_and_a_bulk_acknowledge_are_in_the_trail(team, warehouse_member, warehouse_lead, director, frozen):
    task = task_create(
        team=team, title="补货表", due_at=MONDAY - timedelta(hours=3), source="recurring", now=MONDAY, owner=warehouse_member
    )
    escalation_sweep(team=team, now=MONDAY)
    mine = Escalation.objects.filter(recipient=warehouse_member).count()
    assert mine
    escalation_acknowledge_all_mine(member=warehouse_member, now=MONDAY + timedelta(minutes=5), ip="198.51.100.8")
    task_complete(task=task, member=warehouse_member, now=MONDAY + timedelta(minutes=6), ip="198.51.100.9")
    rows = audit_list(viewer=director).rows
    assert ("duty", "198.51.100.9") in {(r.kind, r.ip) for r in rows}
    assert sum(1 for r in rows if r.kind == "escalation" and r.actor == "陈仓库" and r.ip == "198.51.100.8") == mine


def test_the_page_pages_and_its_query_count_does_not_grow_with_the_rows(
    team, warehouse_member, director, generate, frozen, django_assert_max_num_queries
):
    generate()
    items = list(ChecklistItem.objects.filter(checklist__member=warehouse_member, is_group=False))
    for n in range(PAGE_SIZE + 5):
        item = items[n % len(items)]
        tick_record(item=item, actor=warehouse_member, now=MONDAY + timedelta(seconds=2 * n), ip="198.51.100.1")
        item.refresh_from_db()
        tick_undo(item=item, actor=warehouse_member, now=MONDAY + timedelta(seconds=2 * n + 1))
    client = Client()
    client.force_login(director.user)
    with django_assert_max_num_queries(20):
        first = client.get("/audit/")
    assert first.status_code == 200
    assert first.context["audit"].has_next
    second = client.get("/audit/?page=2")
    assert second.context["audit"].total == 2 * (PAGE_SIZE + 5)  # a tick and an untick each
    assert len(second.context["audit"].rows) == PAGE_SIZE
    assert second.context["audit"].rows[-1].at < first.context["audit"].rows[-1].at
    assert client.get("/audit/?page=abc").status_code == 200


def test_the_shops_figures_appear_with_who_entered_them(team, director, frozen):
    from roles.models import Metric
    from roles.services.kpi import entry_save

    code = (
        Metric.objects.filter(team=team, is_active=True, kind="base", scope="shop").values_list("code", flat=True).first()
    )  # a figure one types
    entry_save(team=team, day=MONDAY.date(), figures={code: "1234.5"}, actor=director, now=MONDAY)
    rows = [r for r in audit_list(viewer=director).rows if r.kind == "figure"]
    assert len(rows) == 1
    assert rows[0].actor == "张总监"
    assert rows[0].changes == {"value": [None, "1234.50"]}
    entry_save(team=team, day=MONDAY.date(), figures={code: "99"}, actor=director, now=MONDAY)  # a correction
    rows = [r for r in audit_list(viewer=director).rows if r.kind == "figure"]
    assert [r.changes for r in rows] == [{"value": ["1234.50", "99.00"]}, {"value": [None, "1234.50"]}]


def test_acknowledging_through_the_api_records_from_where(team, warehouse_member, frozen, settings):
    from rest_framework.test import APIClient

    settings.OPSTEAM_TRUSTED_PROXIES = ["10.0.0.0/8"]
    task_create(team=team, title="补货表", due_at=MONDAY - timedelta(hours=3), source="recurring", now=MONDAY, owner=warehouse_member)
    escalation_sweep(team=team, now=MONDAY)
    escalation = Escalation.objects.filter(recipient=warehouse_member).first()
    api = APIClient()
    api.force_authenticate(warehouse_member.user)
    response = api.post(f"/api/v1/escalations/{escalation.pk}/acknowledge/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.77")
    assert response.status_code == 200
    escalation.refresh_from_db()
    assert escalation.acknowledged_ip == "203.0.113.77"


def _page(member, url="/audit/", language="en") -> str:
    client = Client()
    client.force_login(member.user)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_names_actions_and_changes_in_the_readers_language_not_as_codes(ticked, team, warehouse_member, director):
    wh, _service_item = ticked
    tick_undo(item=wh[0], actor=warehouse_member, now=MONDAY + timedelta(minutes=3))
    # 05:00 in Shanghai is 21:00 the day before in UTC, the form the duty's event stores.
    task = task_create(
        team=team, title="补货表", due_at=MONDAY - timedelta(hours=3), source="recurring", now=MONDAY, owner=warehouse_member
    )
    task_complete(task=task, member=warehouse_member, now=MONDAY + timedelta(minutes=6))
    page = _page(director)
    for label in ("Ticked", "Undone", "Created the duty", "Completed the duty", "Checklist", "Duty"):
        assert label in page
    assert "Status: Open → Done" in page
    assert "Status: Done → Open" in page
    assert "Due at: 2026-11-23 05:00" in page
    assert "['" not in page
    assert "+00:00" not in page
    assert "tick tick" not in page


def test_the_chinese_page_shows_choice_labels_not_codes(ticked, director):
    page = _page(director, language="zh-hans")
    assert "已打勾" in page  # TickAction.TICK
    assert "待完成 → 完成" in page  # ItemStatus open → done
    assert "open" not in page.split("<tbody>")[1]


def test_a_count_tick_shows_an_empty_before_as_a_dash(operations_member, director, generate, frozen):
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5", kind=ItemKind.COUNT)
    tick_record(item=item, actor=operations_member, now=MONDAY, value="10")
    assert "Value: – → 10.00" in _page(director)


def test_a_photo_is_shown_as_uploaded_not_as_its_storage_path():
    row = AuditRow(at=MONDAY, kind="tick", action="tick", actor="", subject="", changes={"photo": ["", "ticks/2026/11/23/a.jpg"]})
    with translation.override("en"):
        assert row.change_lines == [("Photo", "– → Uploaded")]
        assert row.action_label == "Ticked"


def test_an_unknown_action_or_key_is_shown_as_it_is():
    row = AuditRow(at=MONDAY, kind="duty", action="merge", actor="", subject="", changes={"weird": "x"})
    assert row.action_label == "merge"
    assert row.change_lines == [("weird", "x")]


def test_figures_and_targets_are_named_and_their_missing_address_is_explained(team, director, frozen):
    from roles.models import Metric
    from roles.services.kpi import entry_save

    code = (
        Metric.objects.filter(team=team, is_active=True, kind="base", scope="shop").values_list("code", flat=True).first()
    )  # a figure one types
    entry_save(team=team, day=MONDAY.date(), figures={code: "1234.5"}, actor=director, now=MONDAY)
    page = _page(director)
    assert "Entered figures" in page
    assert "Value: – → 1234.50" in page
    assert 'title="No address is recorded for this kind of change."' in page
    assert "–</td>" not in page  # the bare dash that read like a missing value


def test_a_duty_page_names_its_record_events(team, warehouse_member, frozen):
    task = task_create(
        team=team, title="补货表", due_at=MONDAY + timedelta(hours=3), source="recurring", now=MONDAY, owner=warehouse_member
    )
    task_complete(task=task, member=warehouse_member, now=MONDAY + timedelta(minutes=6))
    page = _page(warehouse_member, url=f"/tasks/{task.pk}/")
    assert "· Created the duty" in page
    assert "· Completed the duty" in page
    assert "· create" not in page
    assert "· complete" not in page
