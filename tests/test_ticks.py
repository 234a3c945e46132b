"""Ticking: kinds, notes, photos, late marks, sub-item groups, idempotence and the audit record."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from checklists.daily.ticks import tick_record, tick_undo
from checklists.models import Checklist, ChecklistItem, TickEvent
from tests.conftest import MONDAY


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def wh_items(warehouse_member, generate):
    generate()
    return {i.playbook_id: i for i in ChecklistItem.objects.filter(checklist__member=warehouse_member)}


@pytest.fixture
def cs_items(service_member, generate):
    generate()
    return {i.playbook_id: i for i in ChecklistItem.objects.filter(checklist__member=service_member)}


def test_a_tick_closes_the_item_and_records_who_and_when(wh_items, warehouse_member):
    item, changed = tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY, note="正常", ip="10.0.0.8")
    assert changed
    assert (item.status, item.done_by, item.done_at, item.note) == ("done", warehouse_member, MONDAY, "正常")
    event = TickEvent.objects.get(item=item)
    assert (event.action, event.actor, event.ip, event.on_behalf_of) == ("tick", warehouse_member, "10.0.0.8", None)
    assert event.changes["status"] == ["open", "done"]


def test_ticking_twice_records_one_event(wh_items, warehouse_member):
    tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY)
    _, changed = tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY + timedelta(minutes=1))
    assert not changed
    assert TickEvent.objects.count() == 1
    wh_items["SC-WH-2"].refresh_from_db()
    assert wh_items["SC-WH-2"].done_at == MONDAY


def test_changing_a_closed_item_is_recorded_as_an_edit(wh_items, warehouse_member):
    tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY)
    tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY, note="补充说明")
    assert list(TickEvent.objects.order_by("id").values_list("action", flat=True)) == ["tick", "edit"]
    assert TickEvent.objects.latest("id").changes == {"note": ["", "补充说明"]}


def test_a_page_opened_before_the_item_was_ticked_cannot_turn_done_into_not_done(wh_items, warehouse_member, warehouse_lead):
    item = wh_items["SC-WH-2"]
    tick_record(item=item, actor=warehouse_lead, now=MONDAY)  # the lead ticks it on the member's behalf
    with pytest.raises(ValidationError, match=r"冯仓库.*08:00.*撤销"):
        tick_record(item=item, actor=warehouse_member, now=MONDAY, status="not_done", note="没空")  # the member's stale page
    item.refresh_from_db()
    assert (item.status, item.note) == ("done", "")
    assert TickEvent.objects.count() == 1


def test_a_count_short_of_its_target_is_marked_not_done_with_the_reason(team, generate, operations_member):
    generate()
    item = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")  # 10 chats checked
    with pytest.raises(ValidationError, match="备注"):
        tick_record(item=item, actor=operations_member, now=MONDAY, status="not_done")
    done, _ = tick_record(item=item, actor=operations_member, now=MONDAY, status="not_done", note="只抽查了 6 条，客人太多")
    assert done.status == "not_done"


def test_undo_reopens_and_is_recorded_and_idempotent(wh_items, warehouse_member):
    tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY)
    item, changed = tick_undo(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY)
    assert changed
    assert (item.status, item.done_at) == ("open", None)
    _, again = tick_undo(item=item, actor=warehouse_member, now=MONDAY)
    assert not again
    assert list(TickEvent.objects.order_by("id").values_list("action", flat=True)) == ["tick", "untick"]


def test_a_tick_after_the_due_time_is_late(wh_items, warehouse_member):
    on_time, _ = tick_record(item=wh_items["SC-WH-2"], actor=warehouse_member, now=MONDAY)
    late, _ = tick_record(item=wh_items["SC-WH-1a"], actor=warehouse_member, now=MONDAY.replace(hour=10, minute=1))
    assert not on_time.is_late
    assert late.is_late


def test_the_group_is_done_when_all_sub_items_are_and_reopens_with_one(wh_items, warehouse_member):
    subs = [wh_items[f"SC-WH-1{c}"] for c in "abcdef"]
    with pytest.raises(ValidationError, match="子项"):
        tick_record(item=wh_items["SC-WH-1"], actor=warehouse_member, now=MONDAY)
    for sub in subs[:-1]:
        tick_record(item=sub, actor=warehouse_member, now=MONDAY)
    assert ChecklistItem.objects.get(pk=wh_items["SC-WH-1"].pk).status == "open"
    tick_record(item=subs[-1], actor=warehouse_member, now=MONDAY)
    assert ChecklistItem.objects.get(pk=wh_items["SC-WH-1"].pk).status == "done"
    tick_undo(item=subs[0], actor=warehouse_member, now=MONDAY)
    assert ChecklistItem.objects.get(pk=wh_items["SC-WH-1"].pk).status == "open"


def test_a_count_needs_its_number(generate, operations_member):
    generate()
    chats = ChecklistItem.objects.get(checklist__member=operations_member, playbook_id="SC-CS-5")  # 运营's, PLAYBOOK v2
    # Short of the target is recorded short (issue 17, tests/test_duties_like_checks.py); a missing number is not.
    with pytest.raises(ValidationError, match="请填写完成的数量"):
        tick_record(item=chats, actor=operations_member, now=MONDAY)
    item, _ = tick_record(item=chats, actor=operations_member, now=MONDAY, value="10")
    assert item.value == 10


def test_a_number_must_be_a_number(team, generate):
    from tests.factories import member_with_role

    ops = member_with_role(team, "operations", username="ops1")
    generate()
    item = ChecklistItem.objects.get(checklist__member=ops, playbook_id="SC-OPS-1")
    for bad in ["abc", "1e400", "NaN"]:
        with pytest.raises(ValidationError):
            tick_record(item=item, actor=ops, now=MONDAY, value=bad)
    assert tick_record(item=item, actor=ops, now=MONDAY, value="52300.5")[0].value == pytest.approx(52300.5)


def test_not_done_requires_a_note_where_the_item_asks(cs_items, service_member):
    with pytest.raises(ValidationError, match="备注"):
        tick_record(item=cs_items["SC-CS-2"], actor=service_member, now=MONDAY, status="not_done", note="  ")
    item, _ = tick_record(item=cs_items["SC-CS-2"], actor=service_member, now=MONDAY, status="not_done", note="快递未取件")
    assert item.status == "not_done"


def test_a_photo_is_stored_and_a_non_image_or_huge_file_is_refused(team, generate, settings, tmp_path):
    from tests.factories import member_with_role

    settings.MEDIA_ROOT = tmp_path
    ops = member_with_role(team, "operations", username="ops2")
    generate()
    item = ChecklistItem.objects.get(checklist__member=ops, playbook_id="SC-OPS-8")
    with pytest.raises(ValidationError, match="不是图片"):
        tick_record(item=item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", "image/jpeg"))
    big = SimpleUploadedFile("big.png", b"\0" * (20 * 1024 * 1024), "image/png")
    with pytest.raises(ValidationError, match="太大"):
        tick_record(item=item, actor=ops, now=MONDAY, photo=big)
    item.refresh_from_db()
    assert (item.status, item.photo.name) == ("open", "")
    assert not list(tmp_path.rglob("*.*"))
    done, _ = tick_record(item=item, actor=ops, now=MONDAY, photo=SimpleUploadedFile("shelf.png", png_bytes(), "image/png"))
    assert done.photo.name.startswith("ticks/2026/11/23/")
    assert (tmp_path / done.photo.name).exists()


def test_a_lead_may_tick_for_a_member_of_their_role_and_it_is_recorded(wh_items, warehouse_lead):
    tick_record(item=wh_items["SC-WH-2"], actor=warehouse_lead, now=MONDAY)
    event = TickEvent.objects.get()
    assert event.actor == warehouse_lead
    assert event.on_behalf_of == wh_items["SC-WH-2"].checklist.assignee


def test_a_teammate_without_lead_may_not_tick(wh_items, warehouse_teammate, service_member):
    for other in (warehouse_teammate, service_member):
        with pytest.raises(PermissionDenied):
            tick_record(item=wh_items["SC-WH-2"], actor=other, now=MONDAY)
    assert not TickEvent.objects.exists()


def test_the_cover_ticks_a_covered_list(team, warehouse_member, service_member, generate):
    from datetime import date

    from roles.services import cover_create

    cover_create(absent=warehouse_member, cover=service_member, start_date=date(2026, 11, 23), end_date=date(2026, 11, 23))
    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    tick_record(item=item, actor=service_member, now=MONDAY)
    assert Checklist.objects.get(member=warehouse_member).assignee == service_member
    assert TickEvent.objects.get().on_behalf_of is None  # the cover is the assignee


def test_a_cover_arranged_after_the_lists_were_made_sees_and_ticks_the_absent_members_items(
    warehouse_member, warehouse_teammate, team, generate, frozen
):
    from roles.services import cover_create

    generate()
    checklist = Checklist.objects.get(member=warehouse_member, template__playbook_id="SC-WH")
    item = checklist.items.filter(is_group=False).first()
    assert not Checklist.objects.visible_to(warehouse_teammate).filter(pk=checklist.pk).exists()
    cover_create(absent=warehouse_member, cover=warehouse_teammate, start_date=checklist.date, end_date=checklist.date)
    assert Checklist.objects.visible_to(warehouse_teammate).filter(pk=checklist.pk).exists()
    item, changed = tick_record(item=item, actor=warehouse_teammate, now=MONDAY)
    assert changed
    assert item.done_by == warehouse_teammate
