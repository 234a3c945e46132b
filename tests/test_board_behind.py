"""Issue 20: who is behind (the pace definition), 催一下 with its limit and record, the live part, the escalations'
story, and the same in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.board.live.nudges import NudgeNotBehind, NudgeTooSoon, nudge_role, nudge_send
from checklists.board.selectors import board_get, board_live_get, board_scope
from checklists.daily.pace import Pace, behind_list, pace_is_behind
from checklists.daily.ticks import tick_record
from checklists.escalation.models import Escalation, EscalationLevel, EscalationPolicy
from checklists.escalation.story import escalation_stories, stories_by_person
from checklists.models import ChecklistItem, Delivery, ItemStatus, Notification, Nudge
from roles.models import Role
from tests.conftest import MONDAY
from tests.factories import PASSWORD
from tests.test_board import crowd

NOON = MONDAY.replace(hour=12)
DAY = MONDAY.date()


def _items(member):
    return list(ChecklistItem.objects.filter(checklist__member=member, checklist__date=DAY, is_group=False).order_by("order", "pk"))


def _due(member, *, before: int, total_after: bool = True) -> list[ChecklistItem]:
    """The member's first `before` items due at 09:00 (before NOON), the rest at 18:00."""
    items = _items(member)
    for n, item in enumerate(items):
        item.due_at = MONDAY.replace(hour=9) if n < before else MONDAY.replace(hour=18)
        item.save(update_fields=["due_at"])
    return items


def _done(item, at=NOON - timedelta(hours=1)) -> None:
    item.status, item.done_at = ItemStatus.DONE, at
    item.save(update_fields=["status", "done_at"])


@pytest.fixture
def day(team, generate, warehouse_member, warehouse_teammate, warehouse_lead, service_member, director):
    generate(MONDAY)
    for member in (warehouse_member, warehouse_teammate, warehouse_lead, service_member):
        _due(member, before=0)
    return DAY


def _login(client, member):
    assert client.login(username=member.user.username, password=PASSWORD)


# --- the definition ---------------------------------------------------------------------------------------------------


def test_a_member_with_nothing_due_yet_is_not_behind_even_at_0_percent():
    assert not pace_is_behind(Pace(total=10, done=0, due=0, missed=0))


def test_a_member_at_0_percent_with_items_due_is_behind():
    assert pace_is_behind(Pace(total=10, done=0, due=3, missed=3))


def test_a_late_tick_with_nothing_due_still_open_is_not_behind():
    # 陈仓库 at 89%: everything due is done (one of them late); the old highlight marked her anyway.
    assert not pace_is_behind(Pace(total=9, done=8, due=8, missed=0))


def test_items_due_and_marked_not_done_are_behind_the_clock():
    assert pace_is_behind(Pace(total=10, done=1, due=3, missed=0))


def test_the_board_lists_people_behind_worst_first_with_what_is_open_and_since_when(
    day, director, warehouse_member, warehouse_teammate, service_member
):
    _due(warehouse_member, before=2)  # 0 of 2 due done: gap 2/n
    teammate = _due(warehouse_teammate, before=4)  # 3 of 4 due done: gap 1/n
    for item in teammate[:3]:
        _done(item)
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=NOON)
    assert [r.member_id for r in board.behind] == [warehouse_member.pk, warehouse_teammate.pk]
    first = board.behind[0]
    assert first.pace.missed == 2
    assert first.since == MONDAY.replace(hour=9)
    assert [i.text for i in first.open_items] == [i.text for i in _items(warehouse_member)[:2]]
    assert service_member.pk not in {r.member_id for r in board.behind}  # nothing due yet: not behind


def test_the_evening_agenda_and_the_api_use_the_same_list(client, day, director, warehouse_member):
    _due(warehouse_member, before=2)
    rows = behind_list(team_id=director.team_id, role_ids=None, day=DAY, now=NOON)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        data = client.get("/api/v1/board/").json()
    assert [b["member"] for b in data["behind"]] == [r.member_id for r in rows] == [warehouse_member.pk]
    assert data["behind"][0]["missed"] == 2


# --- the board page -------------------------------------------------------------------------------------------------


def test_the_first_screen_is_who_is_behind_then_the_roles_folded_then_the_kpi_tiles(client, day, director, warehouse_member):
    _due(warehouse_member, before=2)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        html = client.get("/board/").content.decode()
    behind = html.index(f'data-testid="behind-{warehouse_member.pk}"')
    assert behind < html.index('<details class="role-fold"') < html.index('aria-labelledby="kpi-h"')
    assert 'hx-trigger="every 30s"' in html
    assert "更新于 12:00" in html


def test_the_live_part_costs_the_same_queries_for_5_and_500_members(team, director, django_assert_max_num_queries):
    scope = board_scope(viewer=director)
    crowd(team, 5, DAY, "few")
    with CaptureQueriesContext(connection) as few:
        small = board_live_get(scope=scope, day=DAY, now=MONDAY.replace(hour=20))
    crowd(team, 495, DAY, "many")
    with django_assert_max_num_queries(len(few)):
        big = board_live_get(scope=scope, day=DAY, now=MONDAY.replace(hour=20))
    assert (len(small.behind), len(big.behind)) == (5, 500)


def test_the_live_fragment_says_when_it_was_updated(client, day, director, warehouse_member, settings):
    settings.OPSTEAM_BOARD_POLL_SECONDS = 5
    _due(warehouse_member, before=1)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        response = client.get("/board/live/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 5s"' in html
    assert "更新于 12:00" in html
    assert f'data-testid="behind-{warehouse_member.pk}"' in html


def test_staff_cannot_read_the_live_part_or_nudge(client, day, warehouse_member, warehouse_teammate):
    _login(client, warehouse_member)
    assert client.get("/board/live/").status_code == 403
    assert client.post(f"/board/nudge/member/{warehouse_teammate.pk}/").status_code == 403
    assert client.post("/api/v1/board/nudge/", {"member": warehouse_teammate.pk}).status_code == 403


# --- 催一下 ------------------------------------------------------------------------------------------------------------


def test_a_nudge_reminds_the_member_in_app_and_on_the_robot_naming_what_is_open(
    team, day, director, warehouse_member, robot_server, django_capture_on_commit_callbacks
):
    from tests.test_notifications import make_robot

    make_robot(team, robot_server("dingtalk"))
    items = _due(warehouse_member, before=2)
    nudge = nudge_send(scope=board_scope(viewer=director), member_id=warehouse_member.pk, now=NOON)
    assert (nudge.sender, nudge.member, nudge.at, nudge.open_count) == (director, warehouse_member, NOON, 2)
    assert set(nudge.items.all()) == set(items[:2])
    notification = Notification.objects.get(recipient=warehouse_member, kind="nudge")
    assert items[0].text in notification.body
    assert items[1].text in notification.body
    robot = Delivery.objects.get(notification=notification, channel="robot")
    assert robot.next_attempt_at == NOON  # now, not held back


def test_a_second_nudge_within_the_limit_is_refused_and_the_next_one_is_allowed(day, director, warehouse_member, settings):
    settings.OPSTEAM_NUDGE_INTERVAL_MINUTES = 30
    _due(warehouse_member, before=2)
    scope = board_scope(viewer=director)
    nudge_send(scope=scope, member_id=warehouse_member.pk, now=NOON)
    with pytest.raises(NudgeTooSoon) as refused:
        nudge_send(scope=scope, member_id=warehouse_member.pk, now=NOON + timedelta(minutes=29))
    assert "12:00" in refused.value.messages[0]
    assert "12:30" in refused.value.messages[0]
    nudge_send(scope=scope, member_id=warehouse_member.pk, now=NOON + timedelta(minutes=31))
    assert Nudge.objects.filter(member=warehouse_member).count() == 2


def test_a_member_who_is_not_behind_is_not_nudged(day, director, service_member):
    with pytest.raises(NudgeNotBehind):
        nudge_send(scope=board_scope(viewer=director), member_id=service_member.pk, now=NOON)
    assert not Nudge.objects.exists()


def test_a_lead_nudges_only_their_roles_members(day, warehouse_lead, warehouse_member, service_member):
    from django.http import Http404

    _due(warehouse_member, before=1)
    _due(service_member, before=1)
    scope = board_scope(viewer=warehouse_lead)
    nudge_send(scope=scope, member_id=warehouse_member.pk, now=NOON)
    with pytest.raises(Http404):
        nudge_send(scope=scope, member_id=service_member.pk, now=NOON)


def test_the_board_shows_the_nudge_and_what_got_done_since(client, day, director, warehouse_member):
    items = _due(warehouse_member, before=5)
    nudge_send(scope=board_scope(viewer=director), member_id=warehouse_member.pk, now=MONDAY.replace(hour=10, minute=40))
    for item in items[:3]:
        _done(item, at=MONDAY.replace(hour=11))
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=NOON)
    mark = next(r for r in board.behind if r.member_id == warehouse_member.pk).nudge
    assert (mark.open_count, mark.done_since) == (5, 3)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        html = client.get("/board/").content.decode()
    assert "催过 10:40,5 项中已完成 3 项" in html


def test_a_roles_nudge_reminds_everyone_behind_in_it_once(day, director, warehouse_member, warehouse_teammate, service_member):
    _due(warehouse_member, before=1)
    _due(warehouse_teammate, before=2)
    _due(service_member, before=1)
    warehouse = Role.objects.get(team=director.team, code="warehouse")
    scope = board_scope(viewer=director)
    result = nudge_role(scope=scope, role_id=warehouse.pk, now=NOON)
    assert {n.member_id for n in result.sent} == {warehouse_member.pk, warehouse_teammate.pk}
    again = nudge_role(scope=scope, role_id=warehouse.pk, now=NOON + timedelta(minutes=5))
    assert again.sent == []
    assert len(again.refused) == 2
    assert not Nudge.objects.filter(member=service_member).exists()


def test_the_nudge_page_action_and_the_api_refuse_a_second_nudge_with_a_clear_message(client, day, director, warehouse_member):
    _due(warehouse_member, before=1)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        first = client.post(f"/board/nudge/member/{warehouse_member.pk}/", HTTP_HX_REQUEST="true")
        second = client.post(f"/board/nudge/member/{warehouse_member.pk}/", HTTP_HX_REQUEST="true")
        api = client.post("/api/v1/board/nudge/", {"member": warehouse_member.pk}, content_type="application/json")
    assert "已提醒 陈仓库 1 项未完成的事项" in first.content.decode()
    assert "陈仓库 在 12:00 已被催过" in second.content.decode()
    assert api.status_code == 429
    assert "12:30" in api.json()["detail"]
    assert Nudge.objects.count() == 1


def test_the_api_nudges_a_member(client, day, director, warehouse_member):
    _due(warehouse_member, before=1)
    _login(client, director)
    with time_machine.travel(NOON, tick=False):
        response = client.post("/api/v1/board/nudge/", {"member": warehouse_member.pk}, content_type="application/json")
        bad = client.post("/api/v1/board/nudge/", {}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["nudged"][0]["member"] == warehouse_member.pk
    assert bad.status_code == 400


def test_the_reminder_shows_on_the_members_today_page_until_they_act(client, day, director, warehouse_member):
    items = _due(warehouse_member, before=2)
    nudge_send(scope=board_scope(viewer=director), member_id=warehouse_member.pk, now=NOON)
    _login(client, warehouse_member)
    with time_machine.travel(NOON, tick=False):
        html = client.get("/nudges/mine/").content.decode()
        assert 'data-testid="nudge-banner"' in html
        assert items[0].text in html
        for item in items[:2]:
            tick_record(item=item, actor=warehouse_member, now=NOON)
        assert 'data-testid="nudge-banner"' not in client.get("/nudges/mine/").content.decode()


# --- escalations as a story -------------------------------------------------------------------------------------------


def test_escalations_read_as_one_row_per_item_with_the_level_named_oldest_first(
    team, day, director, warehouse_lead, warehouse_member, warehouse_teammate
):
    import uuid

    policy = EscalationPolicy.objects.create(team=team, name="p", source="story-test")
    owner = EscalationLevel.objects.create(policy=policy, order=1, offset_minutes=0, notify="owner")
    lead = EscalationLevel.objects.create(policy=policy, order=2, offset_minutes=30, notify="lead")
    first, second = _items(warehouse_member)[0], _items(warehouse_teammate)[0]
    batch = uuid.uuid4()
    common = {"team": team, "role_id": first.checklist.role_id, "batch": batch}
    Escalation.objects.create(item=first, level=owner, level_order=1, notify="owner", recipient=warehouse_member,
                              due_at=MONDAY.replace(hour=9), raised_at=MONDAY.replace(hour=9), **common)  # fmt: skip
    Escalation.objects.create(item=first, level=lead, level_order=2, notify="lead", recipient=warehouse_lead,
                              due_at=MONDAY.replace(hour=9), raised_at=MONDAY.replace(hour=9, minute=30),
                              acknowledged_by=warehouse_lead, acknowledged_at=MONDAY.replace(hour=9, minute=45), **common)  # fmt: skip
    Escalation.objects.create(item=second, level=owner, level_order=1, notify="owner", recipient=warehouse_teammate,
                              due_at=MONDAY.replace(hour=10), raised_at=MONDAY.replace(hour=10), **common)  # fmt: skip
    board = board_get(scope=board_scope(viewer=director), day=DAY, now=NOON)
    stories = escalation_stories(board.escalations)
    assert [s.item_id for s in stories] == [first.pk, second.pk]
    assert (stories[0].level, [t.recipient for t in stories[0].told]) == ("组长", ["陈仓库", "冯仓库"])
    assert [t.acknowledged_by for t in stories[0].acknowledged] == ["冯仓库"]
    assert stories[1].level == "负责人"
    assert not stories[1].acknowledged
    assert [person for person, _rows in stories_by_person(stories)] == ["陈仓库", "林仓库"]


# --- where each person lands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "lands"),
    [("director", "/board/"), ("warehouse_lead", "/board/?role={warehouse}"), ("warehouse_member", "/today/")],
)
def test_after_login_the_director_lands_on_the_board_a_lead_on_their_roles_and_staff_on_today(client, team, request, who, lands):
    member = request.getfixturevalue(who)
    warehouse = Role.objects.get(team=team, code="warehouse")
    response = client.post("/accounts/login/", {"username": member.user.username, "password": PASSWORD})
    assert response.status_code == 302
    landing = client.get(response["Location"])
    assert landing["Location"] == lands.format(warehouse=warehouse.pk)
    assert client.get("/")["Location"] == response["Location"]
