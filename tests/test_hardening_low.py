"""Issue 15, part D: login throttling across usernames, tokens revoked with a password change, and the "low" list:
titles are plain text in messages, tick records carry the time of the change, action items only for whom one may
give a duty, who closes a problem order or an order to ship, the board's items of a member outside the scope, the
action items' list paginated."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone, translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"
OFFICE = "198.51.100.40"


def _login(username: str, password: str, ip: str = OFFICE):
    return Client().post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _token(username: str, password: str, ip: str = OFFICE):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


# --- login throttling ---------------------------------------------------------------------------------------------


def test_one_address_guessing_many_logins_is_locked_after_the_address_limit(warehouse_member, warehouse_teammate):
    # 10 logins x 4 guesses from one address: none reaches its own limit of 5, yet the address's 20th failure locks it.
    answers = [_login(f"guess{n}", "wrong").status_code for n in range(10) for _ in range(4)]
    assert answers == [200] * 19 + [429] * 21
    # Even a real login from there waits for the cool-off...
    locked = _login("wh2", PASSWORD)
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    page = Client().post(LOGIN, {"username": "wh2", "password": PASSWORD}, REMOTE_ADDR=OFFICE, HTTP_ACCEPT_LANGUAGE="en")
    assert "Logins from this address are paused for 15 minutes" in page.content.decode()
    # ...and the API says why, in words.
    with translation.override("en"):
        refused = APIClient().post(
            TOKEN_URL, {"username": "wh2", "password": PASSWORD}, format="json", REMOTE_ADDR=OFFICE, HTTP_ACCEPT_LANGUAGE="en"
        )
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many wrong passwords from this address. Try again in 15 minutes.")
    # Another address is not affected.
    assert _login("wh2", PASSWORD, ip="203.0.113.50").status_code == 302


def test_the_address_limit_is_a_setting_and_leaves_a_shop_office_room_below_it(warehouse_member, warehouse_teammate):
    with override_settings(OPSTEAM_LOGIN_IP_FAILURE_LIMIT=8):
        for n in range(7):
            _login(f"typo{n}", "wrong")
        # 7 failures from the office: colleagues still log in.
        assert _login("wh1", PASSWORD).status_code == 302
        _login("typo7", "wrong")
        assert _login("wh2", PASSWORD).status_code == 429


def test_the_address_count_ends_with_the_cool_off(warehouse_member):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(20):
            _login(f"guess{n}", "wrong")
        assert _login("wh1", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert _login("wh1", PASSWORD).status_code == 302


def test_a_successful_token_login_resets_that_logins_count(warehouse_member):
    # 3 wrong, 1 right, 2 wrong: the right password started the count again, so the next right one works (issue 15).
    for _ in range(3):
        assert _token("wh1", "wrong").status_code == 400
    assert _token("wh1", PASSWORD).status_code == 200
    for _ in range(2):
        assert _token("wh1", "wrong").status_code == 400
    assert _token("wh1", PASSWORD).status_code == 200
    warehouse_member.user.refresh_from_db()
    assert warehouse_member.user.last_login is not None  # a token login is a login


def test_a_successful_page_login_resets_that_logins_count(warehouse_member):
    for _ in range(3):
        assert _login("wh1", "wrong").status_code == 200
    assert _login("wh1", PASSWORD).status_code == 302
    for _ in range(4):
        assert _login("wh1", "wrong").status_code == 200
    assert _login("wh1", PASSWORD).status_code == 302


def test_a_valid_login_does_not_clear_the_addresss_failures_for_other_logins(warehouse_member):
    # An attacker who owns one account cannot reset the address's count by logging into it between guesses.
    for n in range(19):
        assert _login(f"victim{n % 10}", "wrong").status_code == 200
    assert _login("wh1", PASSWORD).status_code == 302
    assert _login("victim9", "wrong").status_code == 429  # the address's 20th failure
    assert _login("wh1", PASSWORD).status_code == 429


# --- a password change revokes the API tokens -----------------------------------------------------------------------


def test_setting_a_new_password_revokes_the_logins_api_tokens(warehouse_member, warehouse_teammate):
    user = warehouse_member.user
    token = Token.objects.create(user=user)
    kept = Token.objects.create(user=warehouse_teammate.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/checklists/").status_code == 200

    user.set_password("新的-密码-2026-仓库")
    user.save()

    assert not Token.objects.filter(user=user).exists()
    assert client.get("/api/v1/checklists/").status_code in (401, 403)  # "Invalid token"
    assert Token.objects.filter(pk=kept.pk).exists()  # nobody else's


def test_the_admins_password_form_revokes_the_members_tokens(warehouse_member, team):
    from roles.services import member_create

    admin = member_create(team=team, username="root2", password="管理员-密码-2026", display_name="管理员")
    get_user_model().objects.filter(pk=admin.user_id).update(is_staff=True, is_superuser=True)
    Token.objects.create(user=warehouse_member.user)
    client = Client()
    client.force_login(admin.user)
    new = "新的-密码-2026-仓库"
    response = client.post(
        f"/admin/auth/user/{warehouse_member.user_id}/password/", {"password1": new, "password2": new, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content[:500]
    assert not Token.objects.filter(user=warehouse_member.user).exists()


def test_manage_py_changepassword_revokes_the_tokens(warehouse_member, monkeypatch):
    Token.objects.create(user=warehouse_member.user)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "新的-密码-2026-仓库")
    call_command("changepassword", "wh1", stdout=io.StringIO())
    assert not Token.objects.filter(user=warehouse_member.user).exists()


def test_a_password_rehashed_at_login_keeps_the_tokens(warehouse_member, monkeypatch):
    # A new hasher upgrades the stored hash at the next login: the same password, not a change.
    user = warehouse_member.user
    token = Token.objects.create(user=user)
    monkeypatch.setattr("django.contrib.auth.hashers.MD5PasswordHasher.must_update", lambda self, encoded: True)
    assert user.check_password(PASSWORD)
    assert Token.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize("field", ["last_login", "email"])
def test_saving_a_login_without_a_new_password_keeps_the_tokens(warehouse_member, field):
    user = warehouse_member.user
    token = Token.objects.create(user=user)
    setattr(user, field, timezone.now() if field == "last_login" else "wh1@example.com")
    user.save()
    assert Token.objects.filter(pk=token.pk).exists()


# --- titles are plain text in notification bodies -------------------------------------------------------------------

LINK_TITLE = '[点这里](https://evil.example/a) <a href="https://evil.example/b">看</a> ![x](https://evil.example/c.png)'


def _hrefs(html: str) -> list[str]:
    return re.findall(r'<(?:a|img)\b[^>]*?\b(?:href|src)="([^"]*)"', html)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("[点这里](https://evil.example/)", "[点这里](https://evil.example/)"),
        ("<https://evil.example/>", "&lt;https://evil.example/&gt;"),
        ("# 标题\n- 列表", "# 标题 - 列表"),
        ("1. 第一", "1. 第一"),
        ("**粗** _斜_ `码`", "**粗** _斜_ `码`"),
        ("提交补货表 T-24H (1.5kg)", "提交补货表 T-24H (1.5kg)"),
    ],
)
def test_markdown_escape_shows_a_title_as_typed_on_one_line(typed, shown):
    from opsteam.lib.text import markdown_escape, markdown_render

    html = str(markdown_render(f"- [{markdown_escape(typed)}](https://shop.example/x) · {markdown_escape(typed)}"))
    assert _hrefs(html) == ["https://shop.example/x"]
    assert html.count(shown) == 2, html


def test_a_link_in_a_duty_title_is_text_in_the_bell_not_a_link(team, warehouse_member, warehouse_lead, director):
    from checklists.duties.services import task_create
    from checklists.escalation.raising import escalation_sweep
    from checklists.models import Notification, TaskSource
    from tests.conftest import MONDAY

    task_create(team=team, title=LINK_TITLE, due_at=MONDAY.replace(hour=10), source=TaskSource.ADHOC, now=MONDAY, owner=warehouse_member)
    escalation_sweep(team=team, now=MONDAY.replace(hour=9, minute=30))  # the owner's reminder, 30 minutes before

    assert Notification.objects.filter(recipient=warehouse_member).count() == 1
    client = Client()
    client.force_login(warehouse_member.user)
    with time_machine.travel(MONDAY.replace(hour=9, minute=31), tick=False):
        page = client.get("/notifications/").content.decode()
    assert "evil.example" in page  # the title is there, as text...
    assert not [url for url in _hrefs(page) if "evil.example" in url]  # ...and no link or image leads there


def test_titles_and_names_in_the_minutes_message_are_plain_text(team, director, warehouse_member):
    from checklists.meetings.minutes import action_item_create, attendance_mark, meeting_publish
    from checklists.meetings.services import meetings_create_due
    from checklists.models import Meeting, Notification
    from opsteam.lib.text import markdown_render
    from tests.conftest import MONDAY

    meetings_create_due(team=team, now=MONDAY)
    weekly = Meeting.objects.get(team=team, series__playbook_id="M-WEEKLY", date=MONDAY.date())
    attendance_mark(meeting=weekly, member=director, attendee=warehouse_member, status="present", now=MONDAY)
    Meeting.objects.filter(pk=weekly.pk).update(title="周会 [议程](https://evil.example/m)")
    weekly.refresh_from_db()
    director.display_name = "[张总](https://evil.example/n)"
    director.save(update_fields=["display_name"])
    action_item_create(meeting=weekly, member=director, title=LINK_TITLE, owner=warehouse_member, due_date=MONDAY.date(), now=MONDAY)

    meeting_publish(meeting=weekly, member=director, now=MONDAY)

    body = Notification.objects.get(recipient=warehouse_member, kind="meeting_published").body
    html = str(markdown_render(body))
    assert all(f"evil.example/{path}" in html for path in "amn")  # the titles and the name are there, as text...
    assert _hrefs(html) == []  # ...and nothing links anywhere


# --- tick records carry the time of the change -----------------------------------------------------------------------


def test_a_tick_is_recorded_at_the_time_of_the_change_not_when_the_request_came_in(warehouse_member, generate, frozen, monkeypatch):
    from checklists.daily import ticks
    from checklists.models import ChecklistItem, TickAction, TickEvent
    from tests.conftest import MONDAY

    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    locked = ticks._locked_item

    def waits_for_the_row(*args, **kwargs):
        frozen.shift(timedelta(seconds=5))  # another edit held the row for five seconds
        return locked(*args, **kwargs)

    monkeypatch.setattr(ticks, "_locked_item", waits_for_the_row)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=warehouse_member.user).key}")

    assert api.post(f"/api/v1/checklist-items/{item.pk}/tick/", {"note": "好"}, format="json").status_code == 200
    client = Client()
    client.force_login(warehouse_member.user)
    assert client.post(f"/items/{item.pk}/untick/").status_code == 302

    events = list(TickEvent.objects.filter(item=item).order_by("id").values_list("action", "at"))
    assert events == [(TickAction.TICK, MONDAY + timedelta(seconds=5)), (TickAction.UNTICK, MONDAY + timedelta(seconds=10))]


def test_a_caller_that_names_the_time_keeps_it(warehouse_member, generate):
    from checklists.daily.ticks import tick_record
    from checklists.models import ChecklistItem, TickEvent
    from tests.conftest import MONDAY

    generate()
    item = ChecklistItem.objects.get(checklist__member=warehouse_member, playbook_id="SC-WH-2")
    tick_record(item=item, actor=warehouse_member, now=MONDAY.replace(hour=9), note="好")
    item.refresh_from_db()
    assert item.done_at == TickEvent.objects.get(item=item).at == MONDAY.replace(hour=9)


# --- action items only for whom one may give a duty -----------------------------------------------------------------


@pytest.fixture
def weekly(team, director, warehouse_member, warehouse_lead, service_member):
    from checklists.meetings.minutes import attendance_mark
    from checklists.meetings.services import meetings_create_due
    from checklists.models import Meeting
    from tests.conftest import MONDAY

    meetings_create_due(team=team, now=MONDAY)
    meeting = Meeting.objects.get(team=team, series__playbook_id="M-WEEKLY", date=MONDAY.date())
    # Attendees may write the minutes: action items too, before this fix for anyone.
    for attendee in (warehouse_member, warehouse_lead, service_member):
        attendance_mark(meeting=meeting, member=director, attendee=attendee, status="present", now=MONDAY)
    return meeting


def _api(member) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=member.user)[0].key}")
    return client


def _action(client, meeting, owner, title="更新主图"):
    body = {"title": title, "owner": owner.pk, "due_date": "2026-11-25"}
    return client.post(f"/api/v1/meetings/{meeting.pk}/action-items/", body, format="json")


def test_a_staff_attendee_cannot_give_the_director_an_action_item(weekly, warehouse_member, director, frozen):
    from checklists.models import ActionItem, Task

    response = _action(_api(warehouse_member), weekly, director)

    assert response.status_code == 403
    assert not ActionItem.objects.exists()
    assert not Task.objects.filter(owner=director).exists()


def test_a_staff_attendee_may_take_an_action_item_on_themselves(weekly, warehouse_member, frozen):
    from checklists.models import Task

    assert _action(_api(warehouse_member), weekly, warehouse_member).status_code == 201
    assert Task.objects.filter(owner=warehouse_member, title="更新主图").exists()


def test_a_lead_gives_action_items_to_their_roles_members_only(weekly, warehouse_lead, warehouse_member, service_member, director, frozen):
    client = _api(warehouse_lead)
    assert _action(client, weekly, warehouse_member).status_code == 201
    assert _action(client, weekly, service_member, title="客服的事").status_code == 403
    assert _action(client, weekly, director, title="总监的事").status_code == 403
    assert _action(_api(director), weekly, service_member, title="客服的事").status_code == 201


def test_the_minutes_page_offers_as_owners_only_whom_the_member_may_give_a_duty(weekly, warehouse_member, warehouse_lead, director, frozen):
    client = Client()
    client.force_login(warehouse_member.user)
    owners = client.get(f"/meetings/{weekly.pk}/").context["owners"]
    assert list(owners) == [warehouse_member]
    client.force_login(warehouse_lead.user)
    assert set(client.get(f"/meetings/{weekly.pk}/").context["owners"]) == {warehouse_member, warehouse_lead}
    client.force_login(director.user)
    assert director in client.get(f"/meetings/{weekly.pk}/").context["owners"]


def test_the_minutes_page_refuses_a_posted_owner_outside_the_members_reach(weekly, warehouse_member, director, frozen):
    from checklists.models import ActionItem

    client = Client()
    client.force_login(warehouse_member.user)
    response = client.post(f"/meetings/{weekly.pk}/actions/", {"title": "x", "owner": director.pk, "due_date": "2026-11-25"})
    assert response.status_code == 403
    assert not ActionItem.objects.exists()


# --- the action items' list is paginated ----------------------------------------------------------------------------


def test_the_action_items_list_is_paginated_like_every_list(weekly, director, warehouse_member, frozen):
    client = _api(director)
    for n in range(3):
        assert _action(client, weekly, warehouse_member, title=f"事 {n}").status_code == 201

    page = client.get(f"/api/v1/meetings/{weekly.pk}/action-items/?limit=2").json()

    assert page["count"] == 3
    assert [row["title"] for row in page["results"]] == ["事 0", "事 1"]
    assert page["next"] is not None
    assert client.get(f"/api/v1/meetings/{weekly.pk}/action-items/?limit=2&offset=2").json()["results"][0]["title"] == "事 2"


# --- who closes a problem order or an order to ship (PLAYBOOK T-24H, T-SHIP) ----------------------------------------


@pytest.fixture
def service_teammate(team):
    from tests.factories import member_with_role

    return member_with_role(team, "service", username="cs2", display_name="王客服")


@pytest.fixture
def service_lead(team):
    from tests.factories import member_with_role

    return member_with_role(team, "service", lead=True, username="cslead", display_name="钱客服")


def _log(member, kind):
    from checklists.duties.problems import problem_order_log
    from checklists.models import ProblemOrder
    from tests.conftest import MONDAY

    return problem_order_log(member=member, order_no=f"3021{ProblemOrder.objects.count()}", kind=kind, now=MONDAY)


def _close(member, problem):
    return _api(member).post(f"/api/v1/problem-orders/{problem.pk}/close/", {"resolution": "已处理"}, format="json")


def test_a_problem_order_is_closed_by_any_service_member_its_lead_or_the_director_not_the_warehouse(
    service_member, service_teammate, service_lead, warehouse_member, warehouse_lead, director, frozen
):
    # T-24H: 客服 does it. Any 客服 member may settle it, not only who logged it.
    assert _close(warehouse_member, _log(service_member, "refund")).status_code == 403
    assert _close(warehouse_lead, _log(service_member, "urge")).status_code == 403
    assert _close(service_teammate, _log(service_member, "refund")).status_code == 200
    assert _close(service_lead, _log(service_member, "photo")).status_code == 200
    assert _close(director, _log(service_member, "other")).status_code == 200


def test_an_order_to_ship_is_closed_by_the_warehouse_not_by_the_service_member_who_logged_it(
    service_member, warehouse_member, warehouse_lead, director, frozen
):
    from checklists.models import ProblemOrder

    # T-SHIP: 客服 logs it, 仓库 ships it; closing it says it was shipped.
    problem = _log(service_member, "ship")
    refused = _close(service_member, problem)
    assert refused.status_code == 403
    assert ProblemOrder.objects.get(pk=problem.pk).closed_at is None
    assert _close(warehouse_member, problem).status_code == 200
    assert ProblemOrder.objects.get(pk=problem.pk).closed_by == warehouse_member


def test_the_logger_cannot_close_an_order_to_ship_through_its_duty_either(service_member, warehouse_member, frozen):
    from checklists.models import ProblemOrder

    problem = _log(service_member, "ship")
    refused = _api(service_member).post(f"/api/v1/tasks/{problem.task_id}/complete/", {"note": "已发"}, format="json")
    assert refused.status_code == 403
    assert ProblemOrder.objects.get(pk=problem.pk).closed_at is None
    assert _api(warehouse_member).post(f"/api/v1/tasks/{problem.task_id}/complete/", {"note": "已发"}, format="json").status_code == 200
    assert ProblemOrder.objects.get(pk=problem.pk).closed_by == warehouse_member


# --- the board's items of a member outside the viewer's scope -------------------------------------------------------


def test_the_boards_items_of_another_roles_member_are_404_for_a_lead(
    warehouse_lead, warehouse_member, service_member, director, generate, frozen
):
    generate()
    client = Client()
    client.force_login(warehouse_lead.user)
    assert client.get(f"/board/items/?member={warehouse_member.pk}").status_code == 200
    assert client.get(f"/board/items/?member={service_member.pk}").status_code == 404
    client.force_login(director.user)
    assert client.get(f"/board/items/?member={service_member.pk}").status_code == 200
